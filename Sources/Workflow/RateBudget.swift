public import AWSClient
public import ReleasePolicy
public import Foundation

/// A token bucket: `rate` requests a second on average, up to `burst` at once.
///
/// Lambda's control plane allows about 15 requests a second per account and region for most
/// calls (GetFunction: 100). A run that deploys many functions at once shares one budget, so 50
/// functions become a steady stream of calls instead of a burst of 429s (which are still retried
/// if they come: the budget only paces, it does not replace the client's retries).
public actor TokenBucket {
    public let rate: Double
    public let burst: Double
    private var tokens: Double
    private var updated: ContinuousClock.Instant
    private let clock = ContinuousClock()

    public init(rate: Double, burst: Double? = nil) {
        self.rate = max(rate, 0.001)
        self.burst = max(burst ?? rate, 1)
        tokens = self.burst
        updated = clock.now
    }

    /// Waits until a request may go out, and takes its token.
    public func acquire() async throws {
        while true {
            let now = clock.now
            let elapsed = now - updated
            tokens = min(burst, tokens + (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * rate)
            updated = now
            if tokens >= 1 {
                tokens -= 1
                return
            }
            // Reserve the wait for the missing fraction (other callers queue behind).
            let wait = (1 - tokens) / rate
            try await Task.sleep(for: .milliseconds(Int64((wait * 1000).rounded(.up))))
        }
    }
}

/// The budget of one run: GetFunction has its own, larger allowance.
public struct RateBudget: Sendable {
    public var control: TokenBucket
    public var reads: TokenBucket

    /// The config's `rateLimit:` (default 15 requests a second, burst 15); GetFunction gets
    /// Lambda's own 100 a second. `LAMBDA_DEPLOY_RATE` overrides the rate for one run.
    public init(_ limit: RateLimit, environment: [String: String]) {
        let override = environment["LAMBDA_DEPLOY_RATE"].flatMap(Double.init).flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
        let rate = override ?? limit.requestsPerSecond
        control = TokenBucket(rate: rate, burst: override.map { $0 } ?? Double(limit.burst))
        reads = TokenBucket(rate: 100)
    }
}

/// Lambda operations paced by a shared ``RateBudget``.
public struct PacedLambda: LambdaOperations {
    let inner: any LambdaOperations
    let budget: RateBudget

    public init(_ inner: any LambdaOperations, budget: RateBudget) {
        self.inner = inner
        self.budget = budget
    }

    public func function(_ name: String, qualifier: String?) async throws -> FunctionState {
        try await budget.reads.acquire()
        return try await inner.function(name, qualifier: qualifier)
    }

    public func alias(_ function: String, name: String) async throws -> AliasState? {
        try await budget.control.acquire()
        return try await inner.alias(function, name: name)
    }

    public func uploadZip(_ function: String, zip: Data, progress: UploadProgress?) async throws -> FunctionState {
        try await budget.control.acquire()
        return try await inner.uploadZip(function, zip: zip, progress: progress)
    }

    public func uploadFromS3(_ function: String, bucket: String, key: String) async throws -> FunctionState {
        try await budget.control.acquire()
        return try await inner.uploadFromS3(function, bucket: bucket, key: key)
    }

    // The checksum-carrying uploads forward as they are (streamed, lost answers settled).
    public func uploadZip(_ function: String, zipPath: String, codeSha256: String, revisionId: String?, progress: UploadProgress?) async throws -> FunctionState {
        try await budget.control.acquire()
        return try await inner.uploadZip(function, zipPath: zipPath, codeSha256: codeSha256, revisionId: revisionId, progress: progress)
    }

    public func uploadFromS3(_ function: String, bucket: String, key: String, codeSha256: String, revisionId: String?) async throws -> FunctionState {
        try await budget.control.acquire()
        return try await inner.uploadFromS3(function, bucket: bucket, key: key, codeSha256: codeSha256, revisionId: revisionId)
    }

    public func waitUntilUpdated(_ function: String) async throws -> FunctionState {
        try await budget.reads.acquire()
        return try await inner.waitUntilUpdated(function)
    }

    public func publish(_ function: String, codeSha256: String, description: String) async throws -> FunctionState {
        try await budget.control.acquire()
        return try await inner.publish(function, codeSha256: codeSha256, description: description)
    }

    public func createAlias(_ function: String, name: String, version: String, description: String, additionalWeights: [String: Double]) async throws -> AliasState {
        try await budget.control.acquire()
        return try await inner.createAlias(function, name: name, version: version, description: description, additionalWeights: additionalWeights)
    }

    public func updateAlias(_ function: String, name: String, version: String, description: String, additionalWeights: [String: Double], revisionId: String?) async throws -> AliasState {
        try await budget.control.acquire()
        return try await inner.updateAlias(function, name: name, version: version, description: description, additionalWeights: additionalWeights, revisionId: revisionId)
    }

    public func versions(_ function: String) async throws -> [FunctionState] {
        try await budget.control.acquire()
        return try await inner.versions(function)
    }

    public func aliases(_ function: String) async throws -> [AliasState] {
        try await budget.control.acquire()
        return try await inner.aliases(function)
    }

    public func deleteVersion(_ function: String, version: String) async throws {
        try await budget.control.acquire()
        try await inner.deleteVersion(function, version: version)
    }

    public func provisionedQualifiers(_ function: String) async throws -> Set<String> {
        try await budget.control.acquire()
        return try await inner.provisionedQualifiers(function)
    }

    public func accountStorage() async throws -> AccountStorage {
        try await budget.control.acquire()
        return try await inner.accountStorage()
    }

    public func invoke(_ function: String, version: String, payload: Data) async throws -> InvokeResult {
        // Invoke is data plane: not part of the control-plane budget.
        try await inner.invoke(function, version: version, payload: payload)
    }
}
