public import Foundation

/// What a deploy did, in the shape `--json` prints and the ledger records.
public struct DeployOutcome: Codable, Sendable, Equatable {
    public enum Result: String, Codable, Sendable { case deployed, unchanged, dryRun = "dry-run" }
    public enum Upload: String, Codable, Sendable { case none, zip, s3, s3Reused = "s3-reused" }

    public var function: String
    public var region: String
    /// The AWS account, from the function's ARN.
    public var account: String?
    public var alias: String
    /// The version the alias runs now (or, during a traffic shift, the version receiving `weight`).
    public var version: String?
    public var previousVersion: String?
    public var codeSha256: String
    public var result: Result
    public var upload: Upload
    public var uploadedBytes: Int64
    public var weight: Double?
    /// For `--dry-run`: what the deploy would do, in words.
    public var plan: String?
    public var seconds: Double
}

/// The package being deployed, as the deployer needs it.
public struct PackagedCode: Sendable {
    public var zipPath: String
    public var codeSha256: String
    public var sha256Hex: String
    public var contentDigest: String
    public var bytes: Int64

    public init(zipPath: String, codeSha256: String, sha256Hex: String, contentDigest: String, bytes: Int64) {
        self.zipPath = zipPath
        self.codeSha256 = codeSha256
        self.sha256Hex = sha256Hex
        self.contentDigest = contentDigest
        self.bytes = bytes
    }
}

/// A deploy that failed, with what it had already changed in AWS (so a `failed` record can say so).
public struct DeployFailure: LocalizedError {
    public var underlying: any Error
    /// True once a write reached AWS (code uploaded, version published or alias touched).
    public var changedAWS: Bool
    public var publishedVersion: String?
    public var previousVersion: String?

    public var errorDescription: String? {
        (underlying as? any LocalizedError)?.errorDescription ?? String(describing: underlying)
    }
}

/// Package in, alias moved out: read, upload if needed, wait, publish, move the alias.
///
/// The only place that knows the order of these steps. Races are settled by Lambda's own
/// preconditions: PublishVersion carries our CodeSha256 (so no version is ever published with
/// code other than ours) and UpdateAlias carries the alias's RevisionId (so a concurrent move is
/// noticed, re-read and decided, never silently overwritten from a stale view).
public struct Deployer: Sendable {
    /// Lambda's cap on a whole UpdateFunctionCode request, base64 included.
    public static let directUploadLimit: Int64 = 69_905_067

    public var lambda: any LambdaOperations
    public var objectStore: (any ObjectStore)?
    public var reporter: Reporter
    /// How many times a lost race on `$LATEST` or on the alias is retried.
    public var maxAttempts: Int = 4

    public init(lambda: any LambdaOperations, objectStore: (any ObjectStore)?, reporter: Reporter, maxAttempts: Int = 4) {
        self.lambda = lambda
        self.objectStore = objectStore
        self.reporter = reporter
        self.maxAttempts = maxAttempts
    }

    public struct Target: Sendable {
        public var function: String
        public var region: String
        public var alias: String
        public var s3Bucket: String?
        public var s3Prefix: String
        /// Extra text for the version description (the user's --description).
        public var description: String?
        public var commit: String?
        /// Percent of traffic for the new version; nil moves the alias outright.
        public var weight: Double?
        public var dryRun: Bool
        /// Runs on the new version after it is published and before the alias moves (`check:`).
        public var check: (@Sendable (_ version: String) async throws -> Void)?
        /// Runs once the function's Handler and Runtime are known, before anything is uploaded
        /// (the handler lint: the file the handler names must be where the runtime looks).
        public var lintHandler: (@Sendable (_ handler: String?, _ runtime: String?) throws -> Void)?

        public init(
            function: String, region: String, alias: String, s3Bucket: String? = nil, s3Prefix: String = "",
            description: String? = nil, commit: String? = nil, weight: Double? = nil, dryRun: Bool = false
        ) {
            self.function = function
            self.region = region
            self.alias = alias
            self.s3Bucket = s3Bucket
            self.s3Prefix = s3Prefix
            self.description = description
            self.commit = commit
            self.weight = weight
            self.dryRun = dryRun
        }
    }

    /// Size of the UpdateFunctionCode JSON body for a zip of `bytes` bytes: `{"ZipFile":"<base64>"}`.
    public static func directRequestBytes(zipBytes: Int64) -> Int64 {
        (zipBytes + 2) / 3 * 4 + Int64(#"{"ZipFile":""}"#.utf8.count)
    }

    /// The S3 key for a package: named by content so an object already there is reused.
    public static func s3Key(prefix: String, function: String, sha256Hex: String) -> String {
        var base = prefix
        if !base.isEmpty, !base.hasSuffix("/") { base += "/" }
        return base + function + "/" + sha256Hex + ".zip"
    }

    /// Version description: Lambda allows 256 characters; the commit and content digest come first.
    public static func versionDescription(commit: String?, contentDigest: String, extra: String?) -> String {
        var parts = ["lambda-deploy"]
        if let commit { parts.append("commit=\(commit)") }
        parts.append("content=sha256:\(contentDigest.prefix(16))")
        var text = parts.joined(separator: " ")
        if let extra, !extra.isEmpty { text += " " + extra }
        return String(text.prefix(256))
    }

    /// Alias description: keeps the previous version in AWS itself, so `rollback` works even
    /// where the ledger is not available.
    public static func aliasDescription(previous: String?, commit: String?) -> String {
        var parts = ["lambda-deploy"]
        if let previous { parts.append("previous=\(previous)") }
        if let commit { parts.append("commit=\(commit)") }
        return parts.joined(separator: " ")
    }

    /// Reads `previous=N` back out of an alias description written by `aliasDescription`.
    public static func previousVersion(fromAliasDescription description: String?) -> String? {
        guard let description else { return nil }
        for field in description.split(separator: " ") where field.hasPrefix("previous=") {
            let value = field.dropFirst("previous=".count)
            if !value.isEmpty { return String(value) }
        }
        return nil
    }

    public func deploy(_ code: PackagedCode, to target: Target, clock: ContinuousClock = ContinuousClock()) async throws -> DeployOutcome {
        let started = clock.now
        var changedAWS = false
        var publishedVersion: String?
        var previousVersion: String?
        func elapsed() -> Double {
            let duration = clock.now - started
            return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        var outcome = DeployOutcome(
            function: target.function, region: target.region, account: nil, alias: target.alias, version: nil, previousVersion: nil,
            codeSha256: code.codeSha256, result: .deployed, upload: .none, uploadedBytes: 0, weight: target.weight,
            plan: nil, seconds: 0)
        do {
            // The two reads are independent: issue them together (an unchanged redeploy is all reads).
            // Both are awaited to the end before either error is thrown: throwing while the other
            // is in flight cancels it, and cancelling an in-flight request in Linux's URLSession
            // can deadlock (its cancel handler and completion take two locks in opposite orders),
            // which hung every deploy against an unreachable endpoint about half of the time.
            async let latestRead = settled { try await lambda.function(target.function, qualifier: nil) }
            async let aliasRead = settled { try await lambda.alias(target.function, name: target.alias) }
            let (latestResult, aliasResult) = await (latestRead, aliasRead)
            let latest = try latestResult.get()
            let alias = try aliasResult.get()
            outcome.account = latest.account
            previousVersion = alias?.version
            outcome.previousVersion = alias?.version

            if let current = alias {
                let running = try await lambda.function(target.function, qualifier: current.version)
                let settled = target.weight != nil || current.additionalWeights.isEmpty
                if running.codeSha256 == code.codeSha256, settled {
                    outcome.result = .unchanged
                    outcome.version = current.version
                    outcome.seconds = elapsed()
                    reporter.step("\(target.function):\(target.alias) already runs this code (version \(current.version)): nothing to do")
                    return outcome
                }
            }

            try target.lintHandler?(latest.handler, latest.runtime)
            let needsUpload = latest.codeSha256 != code.codeSha256
            let viaS3 = needsUpload && Self.directRequestBytes(zipBytes: code.bytes) > Self.directUploadLimit
            if viaS3, target.s3Bucket == nil || objectStore == nil {
                throw WorkflowError.tooLargeForDirectUpload(
                    zipBytes: code.bytes, requestBytes: Self.directRequestBytes(zipBytes: code.bytes))
            }

            if target.dryRun {
                var steps: [String] = []
                if !needsUpload {
                    steps.append("publish $LATEST (it already holds this code) without uploading")
                } else if viaS3, let bucket = target.s3Bucket {
                    let key = Self.s3Key(prefix: target.s3Prefix, function: target.function, sha256Hex: code.sha256Hex)
                    steps.append("upload \(code.bytes) bytes to s3://\(bucket)/\(key), update the code and publish a version")
                } else {
                    steps.append("upload \(code.bytes) bytes, wait for the update and publish a version")
                }
                if let weight = target.weight, let alias {
                    steps.append("route \(formatPercent(weight)) of \(target.alias) to it (main version stays \(alias.version))")
                } else if let alias {
                    steps.append("move \(target.alias) from version \(alias.version) to it")
                } else {
                    steps.append("create alias \(target.alias) pointing at it")
                }
                outcome.result = .dryRun
                outcome.plan = steps.joined(separator: ", then ")
                outcome.seconds = elapsed()
                return outcome
            }

            // Upload (when needed) and publish, until a version holding exactly our code exists.
            var head = latest
            var published: FunctionState?
            let description = Self.versionDescription(commit: target.commit, contentDigest: code.contentDigest, extra: target.description)
            for attempt in 1...maxAttempts {
                if head.codeSha256 != code.codeSha256 {
                    if attempt > 1 { reporter.step("$LATEST changed under this deploy (another deploy?): uploading again (attempt \(attempt) of \(maxAttempts))") }
                    changedAWS = true
                    let upload = try await uploadCode(code, target: target)
                    outcome.upload = upload.kind
                    outcome.uploadedBytes += upload.bytes
                    // The upload's own answer may already say the update is over (no poll then).
                    if upload.state.lastUpdateStatus == "Successful" {
                        head = upload.state
                    } else {
                        head = try await reporter.during("waiting for \(target.function) to finish updating") {
                            try await lambda.waitUntilUpdated(target.function)
                        }
                    }
                    if head.codeSha256 != code.codeSha256 { continue }
                } else if head.lastUpdateStatus == "InProgress" {
                    head = try await lambda.waitUntilUpdated(target.function)
                    if head.codeSha256 != code.codeSha256 { continue }
                }
                do {
                    let version = try await lambda.publish(target.function, codeSha256: code.codeSha256, description: description)
                    changedAWS = true
                    guard version.codeSha256 == code.codeSha256 else {
                        throw WorkflowError.publishedForeignCode(
                            function: target.function, version: version.version, expected: code.codeSha256, actual: version.codeSha256)
                    }
                    published = version
                    break
                } catch LambdaConflict.preconditionFailed {
                    head = try await lambda.function(target.function, qualifier: nil)
                }
            }
            guard let version = published else {
                throw WorkflowError.raceNotSettled(function: target.function, attempts: maxAttempts)
            }
            publishedVersion = version.version
            outcome.version = version.version
            reporter.step("published \(target.function) version \(version.version)")
            try Interruption.check()
            if let check = target.check { try await check(version.version) }

            // Move the alias: create it, or update it from the state we last read. With a weight,
            // the alias keeps its main version and sends a share to ours.
            if target.weight != nil, alias == nil || alias?.version == version.version {
                reporter.warning("\(target.alias) has no earlier version to shift traffic from: pointing it at version \(version.version) outright")
                outcome.weight = nil
            }
            let share = outcome.weight.map { $0 / 100 }
            let mover = AliasMover(lambda: lambda, reporter: reporter, maxAttempts: maxAttempts)
            let moved = try await mover.move(
                function: target.function, alias: target.alias, from: alias,
                description: { Self.aliasDescription(previous: $0?.version, commit: target.commit) },
                plan: { now in
                    guard let share, let now, now.version != version.version else { return AliasTarget(version: version.version) }
                    return AliasTarget(version: now.version, weights: [version.version: share])
                },
                onWrite: { changedAWS = true })
            previousVersion = moved.replaced?.version
            outcome.previousVersion = moved.replaced?.version ?? outcome.previousVersion
            outcome.seconds = elapsed()
            return outcome
        } catch {
            throw DeployFailure(underlying: error, changedAWS: changedAWS, publishedVersion: publishedVersion, previousVersion: previousVersion)
        }
    }

    /// Sends the package (straight to Lambda, or through S3 when it is too large) and returns
    /// what UpdateFunctionCode answered. The zip is streamed from its file; a lost answer is
    /// settled by the AWS client reading the state back (the package's checksums say whether
    /// the upload landed), never by failing the deploy.
    private func uploadCode(_ code: PackagedCode, target: Target) async throws -> (kind: DeployOutcome.Upload, bytes: Int64, state: FunctionState) {
        if Self.directRequestBytes(zipBytes: code.bytes) <= Self.directUploadLimit {
            let state = try await reporter.transfer("uploading \(formatBytes(code.bytes)) to \(target.function)", bytes: code.bytes) { progress in
                try await lambda.uploadZip(target.function, zipPath: code.zipPath, codeSha256: code.codeSha256, progress: progress)
            }
            return (.zip, code.bytes, state)
        }
        guard let bucket = target.s3Bucket, let objectStore else {
            throw WorkflowError.tooLargeForDirectUpload(zipBytes: code.bytes, requestBytes: Self.directRequestBytes(zipBytes: code.bytes))
        }
        let key = Self.s3Key(prefix: target.s3Prefix, function: target.function, sha256Hex: code.sha256Hex)
        var kind = DeployOutcome.Upload.s3Reused
        var sent: Int64 = 0
        if try await objectStore.exists(bucket: bucket, key: key) {
            reporter.step("s3://\(bucket)/\(key) already holds this package: not uploading it again")
        } else {
            try await reporter.transfer("uploading \(formatBytes(code.bytes)) to s3://\(bucket)/\(key)", bytes: code.bytes) { progress in
                try await objectStore.put(
                    bucket: bucket, key: key, file: URL(fileURLWithPath: code.zipPath), sha256Hex: code.sha256Hex, progress: progress)
            }
            kind = .s3
            sent = code.bytes
        }
        let state = try await lambda.uploadFromS3(target.function, bucket: bucket, key: key, codeSha256: code.codeSha256)
        return (kind, sent, state)
    }
}

func formatPercent(_ weight: Double) -> String {
    weight == weight.rounded() ? "\(Int(weight))%" : String(format: "%.2f%%", weight)
}

/// Human-readable byte counts (decimal units, as Lambda's limits are stated).
public func formatBytes(_ bytes: Int64) -> String {
    let value = Double(bytes)
    if value >= 1_000_000_000 { return String(format: "%.2f GB", value / 1e9) }
    if value >= 1_000_000 { return String(format: "%.1f MB", value / 1e6) }
    if value >= 1_000 { return String(format: "%.1f kB", value / 1e3) }
    return "\(bytes) B"
}

/// The outcome of `body` as a value, so that concurrent reads can all finish before one throws.
func settled<T: Sendable>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}
