import Foundation
internal import Safety

/// Whether a call may be repeated after the server possibly acted on it.
enum RetrySafety: Sendable {
    /// Repeating is harmless: reads, and writes that set a state (UpdateAlias, UpdateFunctionCode,
    /// PublishVersion, PutMethod...) — their preconditions (RevisionId, CodeSha256) turn a
    /// duplicate into a PreconditionFailed the caller checks, never into a wrong state.
    case idempotent
    /// Repeating could act twice (CreateRestApi, CreateDeployment, CreateAlias): retried only when
    /// the request certainly was not applied (connection refused, throttled, or read back and
    /// not there).
    case notIdempotent
}

/// One AWS API call, before signing.
struct AWSOperation: Sendable {
    var service: AWSService
    var name: String
    var method: String
    /// Percent-encoded path, starting with `/`.
    var path: String
    var query: [(String, String)] = []
    var headers: [(name: String, value: String)] = []
    var body: HTTPBody = .empty
    /// Hex SHA-256 of the body when the caller already knows it (a file is then not read to sign it).
    var payloadHash: String?
    var resource: String?
    var safety: RetrySafety = .idempotent
    /// Retry ResourceConflictException ("an update is in progress") with waits, bounded by the budget.
    var retryConflicts = false
    /// Sends a package: bounded by the upload budget, and reports progress.
    var isUpload = false
    /// For uploads: told how much of the body each attempt has sent.
    var progress: UploadProgress?
    /// STS AssumeRoleWithWebIdentity is called without credentials.
    var signed = true
    /// For S3 virtual-hosted style: the host prefix (`bucket.`) when not using a custom endpoint.
    var hostPrefix: String?

    init(
        service: AWSService, name: String, method: String, path: String, query: [(String, String)] = [],
        headers: [(name: String, value: String)] = [], body: Data? = nil, resource: String? = nil, safety: RetrySafety = .idempotent,
        retryConflicts: Bool = false, signed: Bool = true, hostPrefix: String? = nil
    ) {
        self.service = service
        self.name = name
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body.map(HTTPBody.bytes) ?? .empty
        self.resource = resource
        self.safety = safety
        self.retryConflicts = retryConflicts
        self.signed = signed
        self.hostPrefix = hostPrefix
    }
}

/// Reads back the resource a write changes, after an attempt whose answer was lost: the state
/// the write produces (it is in place), or nil (it is not).
typealias ReadBack<T> = @Sendable () async throws -> T?

/// The deadline (on the configuration's clock) of the call this task is inside: a read-back
/// runs within the deadline of the write it settles.
enum CallDeadline {
    @TaskLocal static var value: Duration?
}

/// Signs, sends, retries, logs and maps errors for every service client: the one retry loop.
struct ClientCore: Sendable {
    let configuration: AWSConfiguration

    init(_ configuration: AWSConfiguration) { self.configuration = configuration }

    func url(for operation: AWSOperation) -> URL? {
        var base = configuration.endpoints.url(for: operation.service).absoluteString
        if let prefix = operation.hostPrefix, let range = base.range(of: "://") {
            base.insert(contentsOf: prefix, at: range.upperBound)
        }
        while base.hasSuffix("/") { base.removeLast() }
        var text = base + operation.path
        if !operation.query.isEmpty {
            text += "?" + operation.query.map { "\(SigV4.uriEncode($0.0))=\(SigV4.uriEncode($0.1))" }.joined(separator: "&")
        }
        return URL(string: text)
    }

    func context(_ operation: AWSOperation, url: URL?) -> AWSCallContext {
        let endpointURL = url ?? configuration.endpoints.url(for: operation.service)
        let defaultPort = endpointURL.scheme?.lowercased() == "http" ? 80 : 443
        return AWSCallContext(
            service: operation.service, operation: operation.name, resource: operation.resource, region: configuration.region,
            endpoint: "\(endpointURL.host ?? "?"):\(endpointURL.port ?? defaultPort)", credentialSource: configuration.credentials.source)
    }

    /// Sends with retries; returns the first 2xx response, or throws `AWSError`.
    func send(_ operation: AWSOperation) async throws -> HTTPResponse {
        switch try await settle(operation, readBack: nil as ReadBack<HTTPResponse>?) {
        case .answered(let response), .readBack(let response): return response
        }
    }

    /// A write, with what a lost answer means for it (one rule for every write): when an attempt
    /// got no answer to trust — the connection dropped or timed out after the request went out,
    /// or a 5xx — the write may or may not have been applied. Before anything is sent again,
    /// `readBack` looks: the state it finds stands in for the lost answer, and the call is done;
    /// nil means the write is not there, and it is sent again (even a create: nothing was
    /// created). A read-back that fails itself leaves the usual retry rules to decide.
    func write<T: Decodable & Sendable>(_ operation: AWSOperation, as type: T.Type, readBack: ReadBack<T>?) async throws -> T {
        switch try await settle(operation, readBack: readBack) {
        case .answered(let response): return try decode(type, from: response, operation)
        case .readBack(let value): return value
        }
    }

    enum Settled<T> {
        case answered(HTTPResponse)
        case readBack(T)
    }

    /// The retry loop.
    func settle<T>(_ operation: AWSOperation, readBack: ReadBack<T>?) async throws -> Settled<T> {
        let policy = configuration.retryPolicy
        let clock = configuration.clock
        guard let url = url(for: operation) else {
            throw AWSError.invalidEndpoint(configuration.endpoints.url(for: operation.service).absoluteString + operation.path, source: "request URL")
        }
        let context = context(operation, url: url)
        let start = clock.now()
        // No call outlives its budget (plus one stall bound for the attempt in flight); a call
        // made inside another (a read-back) keeps within the outer one's deadline too.
        var deadline = start + (operation.isUpload ? policy.uploadBudget : policy.budget)
        if let outer = CallDeadline.value { deadline = min(deadline, outer) }
        var attempts = 0
        var ordinaryRetries = 0
        var conflictRetries = 0
        var mayHaveBeenApplied = false

        while true {
            attempts += 1
            let remaining = max(.zero, deadline - clock.now())
            var request = HTTPRequest(
                method: operation.method, url: url, headers: operation.headers, body: operation.body,
                limits: TransferLimits(
                    connect: policy.connectTimeout, stall: policy.stallTimeout, answer: policy.requestTimeout,
                    total: remaining + policy.stallTimeout))
            if operation.signed {
                request = SigV4.sign(
                    request, credentials: configuration.credentials, region: configuration.endpoints.signingRegion(for: operation.service),
                    service: operation.service.rawValue, date: configuration.date(), payloadHash: operation.payloadHash)
            }
            request.progress = operation.progress
            let sent = clock.now()
            let outcome: Result<HTTPResponse, TransportFailure>
            do {
                outcome = .success(try await configuration.transport.send(request))
            } catch let failure as TransportFailure {
                outcome = .failure(failure)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                outcome = .failure(TransportFailure(.other, String(describing: error)))
            }
            let took = clock.now() - sent

            // Did this attempt leave the write in an unknown state? Then look before resending.
            var lost: String?
            switch outcome {
            case .failure(let failure) where failure.requestMayHaveReachedServer: lost = failure.kind.rawValue
            case .success(let response) where response.status >= 500 && !ErrorClassifier.isThrottling(status: response.status, code: ErrorClassifier.parse(response).code):
                lost = "HTTP \(response.status)"
            default: break
            }
            var knownNotApplied = false
            if let lost, let readBack {
                log(operation, url, lost, took, attempts)
                switch await self.readBack(readBack, within: deadline) {
                case .some(.some(let found)):
                    configuration.logger?("\(operation.service.rawValue) \(operation.name): no answer to trust (\(lost)); read back: it was applied")
                    return .readBack(found)
                case .some(.none):
                    configuration.logger?("\(operation.service.rawValue) \(operation.name): no answer to trust (\(lost)); read back: not applied, sending again")
                    knownNotApplied = true
                case .none:
                    break
                }
                try Task.checkCancellation()
            }

            // Decide: success, final failure, or retry after `delay`.
            var delay: Duration
            var isConflict = false
            let failureError: (AttemptSummary) -> AWSError
            switch outcome {
            case .success(let response) where (200..<300).contains(response.status):
                log(operation, url, "\(response.status)", took, attempts)
                return .answered(response)
            case .success(let response) where (300..<400).contains(response.status):
                log(operation, url, "\(response.status) redirect (not followed)", took, attempts)
                throw Self.redirect(response, context: context)
            case .success(let response):
                let (code, message) = ErrorClassifier.parse(response)
                if lost == nil || readBack == nil { log(operation, url, "\(response.status) \(code)", took, attempts) }
                failureError = { .service(context: context, status: response.status, code: code, message: message, summary: $0) }
                let throttled = ErrorClassifier.isThrottling(status: response.status, code: code)
                let conflict =
                    operation.retryConflicts && code == "ResourceConflictException"
                    && !message.lowercased().contains("already exist")
                if response.status >= 500 && !throttled && !knownNotApplied { mayHaveBeenApplied = true }
                if throttled {
                    delay = policy.backoff(retry: ordinaryRetries + 1, random: configuration.random)
                    if let retryAfter = response.header("retry-after").flatMap(Self.parseRetryAfter) { delay = retryAfter }
                } else if response.status >= 500 && (operation.safety == .idempotent || knownNotApplied) {
                    delay = policy.backoff(retry: ordinaryRetries + 1, random: configuration.random)
                } else if conflict {
                    isConflict = true
                    // Lambda updates take seconds: wait 0.5, 1, 2, 4, 5, 5... s with half jitter.
                    let step = min(5.0, 0.5 * pow(2, Double(min(conflictRetries, 10))))
                    delay = .milliseconds(Int64(((step / 2) + configuration.random(step / 2)) * 1000))
                } else {
                    throw failureError(AttemptSummary(attempts: attempts, elapsed: clock.now() - start, mayHaveBeenApplied: mayHaveBeenApplied))
                }
            case .failure(let failure):
                if lost == nil || readBack == nil { log(operation, url, failure.kind.rawValue, took, attempts) }
                failureError = { .transport(context: context, failure: failure, summary: $0) }
                if failure.requestMayHaveReachedServer && !knownNotApplied { mayHaveBeenApplied = true }
                let retryable =
                    failure.kind != .unknownHost && failure.kind != .tls
                    && (operation.safety == .idempotent || !failure.requestMayHaveReachedServer || knownNotApplied)
                guard retryable else {
                    throw failureError(AttemptSummary(attempts: attempts, elapsed: clock.now() - start, mayHaveBeenApplied: mayHaveBeenApplied))
                }
                delay = policy.backoff(retry: ordinaryRetries + 1, random: configuration.random)
            }

            let now = clock.now()
            let outOfAttempts = !isConflict && ordinaryRetries + 1 >= policy.maxAttempts
            if outOfAttempts || now + delay >= deadline {
                throw failureError(AttemptSummary(attempts: attempts, elapsed: now - start, mayHaveBeenApplied: mayHaveBeenApplied, retriesExhausted: true))
            }
            if isConflict { conflictRetries += 1 } else { ordinaryRetries += 1 }
            configuration.logger?("retrying \(operation.service.rawValue) \(operation.name) in \(String(format: "%.2f", seconds(delay))) s")
            try await clock.sleep(for: delay)
        }
    }

    /// Runs a read-back inside the write's deadline: `.some(value)` what it found (nil: not
    /// applied), `.none` when it could not tell (it failed, or the task was cancelled).
    private func readBack<T>(_ readBack: ReadBack<T>, within deadline: Duration) async -> T?? {
        do {
            return .some(try await CallDeadline.$value.withValue(deadline) { try await readBack() })
        } catch {
            return .none
        }
    }

    /// The error for a 3xx answer: never followed, reported with where it pointed (the host
    /// only) and, for S3's wrong-region redirect, the bucket's region from the answer.
    static func redirect(_ response: HTTPResponse, context: AWSCallContext) -> AWSError {
        let location = response.header("location").map { value in
            URLComponents(string: value)?.host.map { ErrorClassifier.serverText($0, limit: 100) }
                ?? ErrorClassifier.serverText(URLText.maskingUserinfo(value), limit: 100)
        }
        let text = String(decoding: response.body.prefix(64 << 10), as: UTF8.self)
        let region = (response.header("x-amz-bucket-region") ?? XMLText.first("Region", in: text))
            .map { ErrorClassifier.serverText($0, limit: 40) }
            .flatMap { $0.isEmpty ? nil : $0 }
        return .redirected(context: context, status: response.status, location: location, bucketRegion: region)
    }

    /// `Retry-After` in seconds (RFC 9110 also allows an HTTP date, which AWS does not send).
    static func parseRetryAfter(_ value: String) -> Duration? {
        guard let number = Double(value.trimmingCharacters(in: .whitespaces)), number.isFinite, number >= 0 else { return nil }
        return .milliseconds(Int64(min(number, 3600) * 1000))
    }

    /// Verbose log: method, URL, status, time. Never headers (Authorization, X-Amz-Security-Token) or bodies.
    private func log(_ operation: AWSOperation, _ url: URL, _ status: String, _ took: Duration, _ attempt: Int) {
        guard let logger = configuration.logger else { return }
        let milliseconds = Int((seconds(took) * 1000).rounded())
        logger(
            "\(operation.service.rawValue) \(operation.name) \(operation.method) \(url.absoluteString) -> \(status) (\(milliseconds) ms, attempt \(attempt)/\(configuration.retryPolicy.maxAttempts))"
        )
    }

    // MARK: JSON helpers

    func decode<T: Decodable>(_ type: T.Type, from response: HTTPResponse, _ operation: AWSOperation) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: response.body)
        } catch {
            throw AWSError.malformedResponse(
                context: context(operation, url: url(for: operation)), detail: "cannot decode \(T.self): \(ErrorClassifier.serverText(Self.describeDecodingError(error), limit: 200))")
        }
    }

    static func describeDecodingError(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _): "missing field \(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            "bad field \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        default: "not JSON"
        }
    }

    static func json<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    /// Follows a paged listing to its last page. `page` reads the page at a token (nil: the first)
    /// and returns its items and the next token; no token, or an empty one, ends the listing, and
    /// so does a token seen before (a server repeating one must not loop us forever).
    static func allPages<Item>(_ page: (String?) async throws -> ([Item], String?)) async throws -> [Item] {
        var all: [Item] = []
        var token: String?
        var seen: Set<String> = []
        repeat {
            let (items, next) = try await page(token)
            all += items
            token = next.flatMap { $0.isEmpty ? nil : $0 }
            if let current = token, !seen.insert(current).inserted { break }
        } while token != nil
        return all
    }

    /// Form encoding for the Query protocol (STS, IAM).
    static func form(_ pairs: [(String, String)]) -> Data {
        Data(pairs.map { "\(SigV4.uriEncode($0.0))=\(SigV4.uriEncode($0.1))" }.joined(separator: "&").utf8)
    }
}
