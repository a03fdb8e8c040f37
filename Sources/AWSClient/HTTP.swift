public import Foundation

/// Reports an upload's progress: request body bytes sent so far, and in all (called often, from
/// the transport's own thread).
public typealias UploadProgress = @Sendable (_ sent: Int64, _ total: Int64) -> Void

/// A request body: bytes in memory, or a file streamed from disk in small pieces (an S3 upload of
/// a large package is never read whole into memory).
public enum HTTPBody: Sendable, Equatable {
    case bytes(Data)
    /// The first `size` bytes of the file at `path`. A file that is shorter when it is sent fails
    /// the request rather than sending something else.
    case file(path: String, size: Int64)

    public static let empty = HTTPBody.bytes(Data())

    public var count: Int64 {
        switch self {
        case .bytes(let data): Int64(data.count)
        case .file(_, let size): size
        }
    }

    /// The bytes of an in-memory body (nil for a file).
    public var data: Data? {
        if case .bytes(let data) = self { return data }
        return nil
    }
}

/// How long one attempt may take, in bounds a user can reason about (see README, "Network").
public struct TransferLimits: Sendable, Equatable {
    /// Setting up the connection (TCP, a proxy's CONNECT, TLS).
    public var connect: Duration
    /// The attempt fails when no byte moves either way for this long (a dead link, a stalled
    /// upload, a server that stopped sending).
    public var stall: Duration
    /// Once the whole request is sent (a body-less one: from the start), how long the complete
    /// answer may take: a server trickling its answer cannot hold the call past this.
    public var answer: Duration
    /// The attempt as a whole, whatever happens: what is left of the call's budget plus one stall bound.
    public var total: Duration?

    public init(connect: Duration = .seconds(10), stall: Duration = .seconds(30), answer: Duration = .seconds(30), total: Duration? = nil) {
        self.connect = connect
        self.stall = stall
        self.answer = answer
        self.total = total
    }
}

/// An HTTP request as the AWS layer builds it: already percent-encoded URL, ordered headers, a body.
///
/// Headers keep their order and duplicates because SigV4 joins repeated header values in order.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: URL
    public var headers: [(name: String, value: String)]
    public var body: HTTPBody
    public var limits: TransferLimits
    /// Told how much of the body has been sent (uploads); a retry starts again from zero.
    public var progress: UploadProgress?

    public init(
        method: String, url: URL, headers: [(name: String, value: String)] = [], body: HTTPBody = .empty,
        limits: TransferLimits = TransferLimits()
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.limits = limits
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

/// The network edge: one request in, one response out (any status, redirects included: they are
/// never followed), or a `TransportFailure`.
///
/// Production uses `CurlTransport`; tests use closure-backed fakes, so the client core's retry
/// and error logic runs without a network.
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
        /// No complete answer within one of the time bounds (see `bound`).
        case timedOut = "timed out"
        /// The connection dropped mid-exchange (reset, closed before or during the answer).
        case connectionLost = "connection lost"
        /// TLS could not be set up: most often a certificate the system does not trust.
        case tls = "TLS failure"
        /// The proxy refused or failed the connection.
        case proxy = "proxy failure"
        /// What came back is not a usable HTTP answer (not HTTP at all, or far too large).
        case malformedAnswer = "malformed answer"
        /// Anything else.
        case other = "network error"
    }

    /// Which time bound ended an attempt that timed out.
    public enum Bound: String, Sendable {
        /// Setting up the connection took too long.
        case connect
        /// No byte moved for the stall bound.
        case stall
        /// The answer did not arrive whole in time after the request was sent.
        case answer
        /// The call's time budget ran out during the attempt.
        case budget
    }

    public var kind: Kind
    public var detail: String
    public var bound: Bound?
    /// Whether any of the request left this machine. When false the server certainly did not act.
    public var requestSent: Bool

    public init(_ kind: Kind, _ detail: String = "", bound: Bound? = nil, requestSent: Bool? = nil) {
        self.kind = kind
        self.detail = detail
        self.bound = bound
        self.requestSent = requestSent ?? !(kind == .connectionRefused || kind == .unknownHost)
    }

    /// Whether the server could have received (and applied) the request.
    public var requestMayHaveReachedServer: Bool {
        switch kind {
        case .connectionRefused, .unknownHost: false
        default: requestSent
        }
    }
}
