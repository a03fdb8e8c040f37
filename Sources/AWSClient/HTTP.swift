public import Foundation

/// Reports an upload's progress: request body bytes sent so far, and in all (called often, from
/// the transport's own thread).
public typealias UploadProgress = @Sendable (_ sent: Int64, _ total: Int64) -> Void

/// An HTTP request as the AWS layer builds it: already percent-encoded URL, ordered headers, whole body.
///
/// Headers keep their order and duplicates because SigV4 joins repeated header values in order.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: URL
    public var headers: [(name: String, value: String)]
    public var body: Data
    /// How long one attempt may take before the transport gives up (`nil`: the transport's default).
    public var timeout: Duration?
    /// Told how much of the body has been sent (uploads); a retry starts again from zero.
    public var progress: UploadProgress?

    public init(
        method: String, url: URL, headers: [(name: String, value: String)] = [], body: Data = Data(),
        timeout: Duration? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// The first value of a header, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Replaces every header of that name (case-insensitive) by one value.
    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { $0.name.lowercased() == name.lowercased() }
        headers.append((name, value))
    }
}

/// An HTTP response: status, headers (names lowercased) and the whole body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// The network edge: one request in, one response out (any status), or a `TransportFailure`.
///
/// Production uses `URLSessionTransport`; tests use closure-backed fakes, so the client core's
/// retry and error logic runs without a network.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

/// Why a request got no HTTP response. Transports throw this; the client core wraps it in `AWSError`.
public struct TransportFailure: Error, Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// Nothing listens there (connection refused): the request never reached a server.
        case connectionRefused = "connection refused"
        /// The host name does not resolve: the request never left.
        case unknownHost = "host not found"
        /// No complete answer within the timeout: the server may have acted.
        case timedOut = "timed out"
        /// The connection dropped mid-exchange: the server may have acted.
        case connectionLost = "connection lost"
        /// Anything else (TLS, malformed response...).
        case other = "network error"
    }

    public var kind: Kind
    public var detail: String

    public init(_ kind: Kind, _ detail: String = "") {
        self.kind = kind
        self.detail = detail
    }

    /// Whether the server could have received (and applied) the request.
    public var requestMayHaveReachedServer: Bool {
        switch kind {
        case .connectionRefused, .unknownHost: false
        case .timedOut, .connectionLost, .other: true
        }
    }
}
