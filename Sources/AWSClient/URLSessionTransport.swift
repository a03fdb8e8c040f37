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
            (data, response) = try await perform(urlRequest)
        } catch let error as URLError where error.code == .cancelled && Task.isCancelled {
            throw CancellationError()
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

    /// One data task, cancelled when the calling task is.
    ///
    /// Not `session.data(for:)`: on Linux (swift-corelibs-foundation) a task cancelled while that
    /// call is in flight sometimes never resumes, so a deploy whose concurrent read failed (the
    /// other read is then cancelled) hung forever. A completion handler always runs, with
    /// `URLError.cancelled` after `cancel()`.
    private func perform(_ request: URLRequest) async throws -> (Data, URLResponse) {
        let handle = DataTaskHandle()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let task = session.dataTask(with: request) { data, response, error in
                    if let error {
                        continuation.resume(throwing: error)
                    } else if let response {
                        continuation.resume(returning: (data ?? Data(), response))
                    } else {
                        continuation.resume(throwing: URLError(.badServerResponse))
                    }
                }
                handle.start(task)
            }
        } onCancel: {
            handle.cancel()
        }
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

/// A data task that may be cancelled before it has started (the cancellation handler can run first).
private final class DataTaskHandle: @unchecked Sendable {
    private let lock = NSLock()
    private var task: URLSessionDataTask?
    private var cancelled = false

    func start(_ task: URLSessionDataTask) {
        lock.lock()
        self.task = task
        let cancelled = self.cancelled
        lock.unlock()
        task.resume()
        if cancelled { task.cancel() }
    }

    func cancel() {
        lock.lock()
        cancelled = true
        let task = self.task
        lock.unlock()
        task?.cancel()
    }
}
