import Foundation
#if canImport(FoundationNetworking)
    // The only file of the package that imports FoundationNetworking (Linux's URLSession).
    import FoundationNetworking
#endif

/// `HTTPTransport` over URLSession: one session, no cookies, no cache, per-request timeout.
///
/// Tasks report to a session delegate (`TaskRouter`) rather than to completion handlers: Linux's
/// URLSession only tells a delegate how much of a body it has sent, and uploads show that.
public final class URLSessionTransport: HTTPTransport {
    private let session: URLSession
    private let router = TaskRouter()

    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.timeoutIntervalForRequest = 30
        configuration.timeoutIntervalForResource = 3600
        session = URLSession(configuration: configuration, delegate: router, delegateQueue: nil)
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
            (data, response) = try await perform(urlRequest, progress: request.progress)
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
    /// other read is then cancelled) hung forever. The delegate always hears of the end, with
    /// `URLError.cancelled` after `cancel()`.
    private func perform(_ request: URLRequest, progress: UploadProgress?) async throws -> (Data, URLResponse) {
        let handle = DataTaskHandle()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let task = session.dataTask(with: request)
                router.register(task, TaskRouter.Pending(continuation: continuation, progress: progress))
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

/// The session delegate: collects each task's answer and resumes its caller when it ends.
///
/// The session calls it on its own serial queue; `register` runs on the caller's thread before
/// the task is resumed, so the lock only guards the table against those two.
private final class TaskRouter: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    struct Pending {
        let continuation: CheckedContinuation<(Data, URLResponse), any Error>
        let progress: UploadProgress?
        var body = Data()
    }

    private let lock = NSLock()
    private var pending: [Int: Pending] = [:]

    func register(_ task: URLSessionTask, _ entry: Pending) {
        lock.withLock { pending[task.taskIdentifier] = entry }
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, didSendBodyData bytesSent: Int64, totalBytesSent: Int64,
        totalBytesExpectedToSend: Int64
    ) {
        let progress = lock.withLock { pending[task.taskIdentifier]?.progress }
        progress?(totalBytesSent, totalBytesExpectedToSend)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        lock.withLock { pending[dataTask.taskIdentifier]?.body.append(data) }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let entry = lock.withLock({ pending.removeValue(forKey: task.taskIdentifier) }) else { return }
        if let error {
            entry.continuation.resume(throwing: error)
        } else if let response = task.response {
            entry.continuation.resume(returning: (entry.body, response))
        } else {
            entry.continuation.resume(throwing: URLError(.badServerResponse))
        }
    }
}
