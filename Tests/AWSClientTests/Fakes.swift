import Foundation
@testable import AWSClient

/// A transport answering from a closure, recording every request it saw.
final class FakeTransport: HTTPTransport, @unchecked Sendable {
    typealias Handler = @Sendable (HTTPRequest, Int) throws -> HTTPResponse
    private let lock = NSLock()
    private var _requests: [HTTPRequest] = []
    private let handler: Handler

    init(_ handler: @escaping Handler) { self.handler = handler }

    /// Answers with `responses` in order (a `TransportFailure` entry is thrown), repeating the last.
    convenience init(sequence responses: [Result<HTTPResponse, TransportFailure>]) {
        self.init { _, index in try responses[min(index, responses.count - 1)].get() }
    }

    var requests: [HTTPRequest] { lock.withLock { _requests } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let index = lock.withLock {
            _requests.append(request)
            return _requests.count - 1
        }
        return try handler(request, index)
    }
}

/// A clock whose sleeps return at once and advance virtual time.
final class FakeClock: AWSClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Duration = .zero
    private var _sleeps: [Duration] = []
    var sleeps: [Duration] { lock.withLock { _sleeps } }
    var totalSlept: Duration { sleeps.reduce(.zero, +) }
    func now() -> Duration { lock.withLock { current } }
    func sleep(for duration: Duration) async throws {
        lock.withLock {
            _sleeps.append(duration)
            current += duration
        }
    }
}

/// Collects log lines.
final class LogSink: @unchecked Sendable {
    private let lock = NSLock()
    private var _lines: [String] = []
    var lines: [String] { lock.withLock { _lines } }
    var logger: AWSLogger { { line in self.lock.withLock { self._lines.append(line) } } }
}

/// In-memory files.
struct FakeFiles: FileReading {
    var files: [String: String]
    init(_ files: [String: String] = [:]) { self.files = files }
    func contents(ofFile path: String) throws -> String? { files[path] }
}

enum Fixture {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY-SECRET"
    static let token = "FQoGZXIvYXdzEXAMPLE-SESSION-TOKEN"
    static let credentials = AWSCredentials(accessKeyId: "AKIAEXAMPLE12345", secretAccessKey: secret, sessionToken: token, source: "environment")
    static let endpoint = "http://127.0.0.1:4566"

    static func configuration(
        _ transport: FakeTransport, clock: FakeClock = FakeClock(), policy: RetryPolicy = RetryPolicy(), logger: AWSLogger? = nil,
        random: @escaping @Sendable (Double) -> Double = { $0 }
    ) -> AWSConfiguration {
        let url = URL(string: endpoint).map { url in Dictionary(uniqueKeysWithValues: AWSService.allCases.map { ($0, url) }) } ?? [:]
        return AWSConfiguration(
            credentials: credentials, region: "us-east-1", endpoints: AWSEndpoints(region: "us-east-1", overrides: url),
            retryPolicy: policy, transport: transport, logger: logger, clock: clock, date: { Date(timeIntervalSince1970: 1_700_000_000) },
            random: random)
    }

    static func json(_ status: Int, _ object: [String: Any], headers: [String: String] = [:]) -> HTTPResponse {
        HTTPResponse(status: status, headers: headers, body: (try? JSONSerialization.data(withJSONObject: object)) ?? Data())
    }

    static func error(_ status: Int, _ code: String, _ message: String = "", headers: [String: String] = [:]) -> HTTPResponse {
        var headers = headers
        headers["x-amzn-ErrorType"] = "\(code):http://internal.amazon.com/coral/com.amazonaws.lambda/"
        return json(status, ["Type": "User", "Message": message], headers: headers)
    }

    static func function(version: String = "$LATEST", sha: String = "abc=", status: String? = "Successful", state: String? = "Active", reason: String? = nil)
        -> [String: Any]
    {
        var object: [String: Any] = [
            "FunctionName": "demo", "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:demo", "Version": version,
            "CodeSha256": sha, "CodeSize": 123, "RevisionId": "rev-\(version)",
        ]
        if let status { object["LastUpdateStatus"] = status }
        if let state { object["State"] = state }
        if let reason { object["LastUpdateStatusReason"] = reason }
        return object
    }
}
