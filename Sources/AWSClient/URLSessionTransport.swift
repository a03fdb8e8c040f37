import Foundation
#if canImport(FoundationNetworking)
    // The only file of the package that imports FoundationNetworking (Linux's URLSession).
    import FoundationNetworking
#endif

/// `HTTPTransport` over URLSession: one session, no cookies, no cache, per-request timeout.
public final class URLSessionTransport: HTTPTransport {
    private let session: URLSession

    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.timeoutIntervalForRequest = 30
        configuration.timeoutIntervalForResource = 3600
        session = URLSession(configuration: configuration)
    }

    deinit { session.finishTasksAndInvalidate() }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method
        for (name, value) in request.headers where name.lowercased() != "host" {
            urlRequest.addValue(value, forHTTPHeaderField: name)
        }
        if !request.body.isEmpty || ["PUT", "POST", "PATCH"].contains(request.method) {
            urlRequest.httpBody = request.body
        }
        if let timeout = request.timeout { urlRequest.timeoutInterval = seconds(timeout) }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: urlRequest)
        } catch let error as URLError {
            throw Self.failure(error)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw TransportFailure(.other, error.localizedDescription)
        }
        guard let http = response as? HTTPURLResponse else {
            throw TransportFailure(.other, "not an HTTP response")
        }
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
        }
        return HTTPResponse(status: http.statusCode, headers: headers, body: data)
    }

    static func failure(_ error: URLError) -> TransportFailure {
        switch error.code {
        case .cannotConnectToHost: TransportFailure(.connectionRefused, error.localizedDescription)
        case .cannotFindHost, .dnsLookupFailed: TransportFailure(.unknownHost, error.localizedDescription)
        case .timedOut: TransportFailure(.timedOut, error.localizedDescription)
        case .networkConnectionLost, .badServerResponse, .zeroByteResource: TransportFailure(.connectionLost, error.localizedDescription)
        default: TransportFailure(.other, error.localizedDescription)
        }
    }
}
