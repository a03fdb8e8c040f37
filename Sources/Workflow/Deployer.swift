public import Foundation
public import ReleasePolicy
import AWSClient
import Safety

/// What a deploy did, in the shape `--json` prints and the ledger records.
public struct DeployOutcome: Codable, Sendable, Equatable {
    public enum Result: String, Codable, Sendable {
        case deployed, unchanged
        /// A newer deploy of the same alias took its place (see `supersededByVersion`): the alias
        /// runs that one, and was not moved back. `version` is this deploy's own version, if it
        /// published one before it found out.
        case superseded
        case dryRun = "dry-run"
    }
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
    /// For `superseded`: the version the alias runs instead, and its commit (from its description).
    public var supersededByVersion: String? = nil
    public var supersededByCommit: String? = nil
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
///
/// Concurrent deploys of one function take turns on `$LATEST` (see `TurnTaking`): an upload
/// carries the RevisionId it was decided from, so of two racing uploads one is refused before it
/// changes anything; a deploy never uploads into another's update (it waits for its end), gives
/// that deploy time to publish, and backs off with full jitter after a lost race. And an alias
/// never moves backwards by accident: before uploading, and on every later read of the alias, a
/// deploy asks `Precedence` whether the alias already runs something newer; if so it ends
/// `superseded` and leaves the alias alone (`allowOlder` forces the move).
///
/// Why UpdateFunctionCode then PublishVersion, not UpdateFunctionCode with `Publish: true`:
/// both serialise racing deploys equally well under the strict emulation (ci/bench-races.sh,
/// four racing deploys, 2 s update window, 5 runs: 4 uploads, no 409 and no failed job either
/// way; 11.4 s racing and 9.2 s one after another for this design, 9.9 s and 11.0 s with
/// `Publish: true`, whose deploys return before their update ends, so the next one waits it
/// out). What decides is the version description: UpdateFunctionCode has no `Description`, so
/// a version it publishes carries the function's, and the commit, build and branch that the
/// never-backwards rule reads from every version would cost an UpdateFunctionConfiguration
/// first — another update, with its own InProgress window and 409s. PublishVersion takes the
/// description, and the `CodeSha256` precondition that proves the version holds our code.
public struct Deployer: Sendable {
    /// Lambda's cap on a whole UpdateFunctionCode request, base64 included.
    public static let directUploadLimit: Int64 = 69_905_067

    public var lambda: any LambdaOperations
    public var objectStore: (any ObjectStore)?
    public var reporter: Reporter
    /// How many times this deploy's code may land on `$LATEST` and be replaced before it is
    /// published, and how many lost races on the alias are retried.
    public var maxAttempts: Int = 4
    /// How this deploy takes turns with others on `$LATEST`.
    public var turns = TurnTaking()

    public init(lambda: any LambdaOperations, objectStore: (any ObjectStore)?, reporter: Reporter, maxAttempts: Int = 4) {
        self.lambda = lambda
        self.objectStore = objectStore
        self.reporter = reporter
        self.maxAttempts = maxAttempts
    }

    /// How concurrent deploys of one function take turns on `$LATEST` without talking to each
    /// other: Lambda is the only thing they share.
    ///
    /// - Before the first upload, wait a moment drawn from `startJitter` and read `$LATEST` again:
    ///   deploys started by one push would otherwise all send their package at the same instant.
    /// - Never upload into an update in progress (Lambda would answer 409): read `$LATEST` every
    ///   `poll` (jittered) until it ends. Our own update is waited for closely instead (the
    ///   client's waiter), so we publish right after it ends.
    /// - When another deploy's update has ended, give it `grace` plus up to `graceJitter` to
    ///   publish its version (and move the alias) before uploading over it; the jitter also
    ///   spreads the deploys that were all waiting, so one goes first and the others find its
    ///   update in progress instead of racing it.
    /// - A lost race (our upload refused: 412 stale RevisionId, 409 update in progress) backs off
    ///   with full jitter: a pause drawn uniformly from zero to `backoffBase` doubled per loss,
    ///   capped at `backoffCap` (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
    /// - A deploy that has not had its turn within `budget` stops, naming the other deploy.
    public struct TurnTaking: Sendable {
        public var budget: Duration = .seconds(600)
        public var poll: Duration = .milliseconds(750)
        public var grace: Duration = .milliseconds(500)
        public var graceJitter: Duration = .milliseconds(500)
        public var startJitter: Duration = .milliseconds(250)
        public var backoffBase: Duration = .milliseconds(500)
        public var backoffCap: Duration = .seconds(8)
        /// A number drawn uniformly from 0..<1 (tests may fix it).
        public var random: @Sendable () -> Double = { Double.random(in: 0..<1) }

        public init() {}

        /// The pause after the `losses`-th lost race: full jitter over the capped exponential.
        func backoff(afterLosses losses: Int) -> Duration {
            let ceiling = min(backoffCap, backoffBase * Int(1 << min(max(losses - 1, 0), 16)))
            return ceiling * random()
        }

        /// `poll`, spread over half to one and a half times itself.
        var jitteredPoll: Duration { poll * (0.5 + random()) }

        var jitteredGrace: Duration { grace + graceJitter * random() }
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
        /// The CI build this deploy comes from (written into the version description: it orders
        /// deploys where git ancestry cannot).
        public var buildOrder: BuildOrder?
        /// The branch being deployed (its hash goes into the version description).
        public var branch: String?
        /// Move the alias even when it runs a newer commit (`deploy --allow-older`).
        public var allowOlder = false
        /// Asks this clone whether one commit is an ancestor of another (nil: no repository).
        public var isAncestor: AncestryCheck?

        /// This deploy's side of the never-backwards question.
        var provenance: VersionProvenance {
            VersionProvenance(commit: commit, build: buildOrder, branchHash: branch.map(VersionProvenance.branchHash))
        }

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

    /// Version description: Lambda allows 256 characters; the commit, content digest, build and
    /// branch hash come first (at most about 190 characters with a SHA-256 commit id), the
    /// user's text after them. A word of that text that looks like a field read back
    /// (`commit=`, `build=`, `branch=`) gets `:` for its `=`, so it cannot forge one.
    public static func versionDescription(
        commit: String?, contentDigest: String, build: BuildOrder? = nil, branch: String? = nil, extra: String?
    ) -> String {
        var parts = ["lambda-deploy"]
        if let commit { parts.append("\(VersionProvenance.commitKey)=\(commit)") }
        parts.append("content=sha256:\(contentDigest.prefix(16))")
        parts += VersionProvenance(build: build, branchHash: branch.map(VersionProvenance.branchHash)).descriptionFields
        var text = parts.joined(separator: " ")
        if let extra, !extra.isEmpty {
            let words = extra.split(separator: " ", omittingEmptySubsequences: false).map { word in
                VersionProvenance.readKeys.contains { word.hasPrefix($0 + "=") }
                    ? word.replacingOccurrences(of: "=", with: ":", options: [], range: word.range(of: "=")) : String(word)
            }
            text += " " + words.joined(separator: " ")
        }
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
        var tally = Tally()
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
        func superseded(by newer: Supersession) -> DeployOutcome {
            reporter.step("\(target.function):\(target.alias) left as it is: \(newer.reason)")
            outcome.result = .superseded
            outcome.version = publishedVersion
            outcome.supersededByVersion = newer.version
            outcome.supersededByCommit = newer.commit
            outcome.upload = tally.kind
            outcome.uploadedBytes = tally.bytes
            outcome.seconds = elapsed()
            return outcome
        }
        let precedence = PrecedenceMemo(lambda: lambda, target: target, code: code.codeSha256)
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
                // Never backwards: the description of the version the alias runs is read already.
                if let newer = try await precedence.supersession(current, running: running) {
                    if target.dryRun {
                        outcome.result = .dryRun
                        outcome.plan = "leave \(target.alias) alone: \(newer.reason)"
                        outcome.seconds = elapsed()
                        return outcome
                    }
                    return superseded(by: newer)
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

            // Upload (when needed) and publish, taking turns with other deploys, until a version
            // holding exactly our code exists.
            let description = Self.versionDescription(
                commit: target.commit, contentDigest: code.contentDigest, build: target.buildOrder, branch: target.branch,
                extra: target.description)
            let version: FunctionState
            switch try await takeTurns(code, target: target, description: description, from: latest, precedence: precedence, clock: clock, tally: &tally) {
            case .superseded(let newer):
                return superseded(by: newer)
            case .published(let published):
                version = published
            }
            outcome.upload = tally.kind
            outcome.uploadedBytes = tally.bytes
            publishedVersion = version.version
            outcome.version = version.version
            reporter.step("published \(target.function) version \(version.version)")
            try Interruption.check()
            if let check = target.check { try await check(version.version) }

            // Move the alias: create it, or update it from the state read now (the check may have
            // taken a while, and a newer deploy may have moved it meanwhile). With a weight, the
            // alias keeps its main version and sends a share to ours.
            let current = try await lambda.alias(target.function, name: target.alias)
            if target.weight != nil, current == nil || current?.version == version.version {
                reporter.warning("\(target.alias) has no earlier version to shift traffic from: pointing it at version \(version.version) outright")
                outcome.weight = nil
            }
            let share = outcome.weight.map { $0 / 100 }
            let mover = AliasMover(lambda: lambda, reporter: reporter, maxAttempts: maxAttempts)
            let moved: AliasMover.Outcome
            do {
                moved = try await mover.move(
                    function: target.function, alias: target.alias, from: current,
                    description: { Self.aliasDescription(previous: $0?.version, commit: target.commit) },
                    plan: { now in
                        if let now, now.version != version.version, let newer = try await precedence.supersession(now) {
                            throw WorkflowError.superseded(
                                function: target.function, alias: target.alias, version: newer.version, commit: newer.commit, reason: newer.reason)
                        }
                        guard let share, let now, now.version != version.version else { return AliasTarget(version: version.version) }
                        return AliasTarget(version: now.version, weights: [version.version: share])
                    },
                    onWrite: { tally.changedAWS = true })
            } catch WorkflowError.superseded(_, _, let newerVersion, let newerCommit, let reason) {
                return superseded(by: Supersession(version: newerVersion, commit: newerCommit, reason: reason))
            } catch WorkflowError.aliasNotMoved(_, _, _, let actual) where LambdaNames.isVersion(actual) {
                // Our move landed, and another deploy moved the alias again before we read it back:
                // last writer wins, and this deploy's place was taken.
                let commit = VersionProvenance(description: try? await lambda.function(target.function, qualifier: actual).description).commit
                let by = commit.map { " (commit \($0.prefix(12)))" } ?? ""
                return superseded(
                    by: Supersession(
                        version: actual, commit: commit,
                        reason: "another deploy moved \(target.alias) to version \(actual)\(by) right after this one moved it to version \(version.version)"))
            }
            previousVersion = moved.replaced?.version
            outcome.previousVersion = moved.replaced?.version ?? outcome.previousVersion
            outcome.seconds = elapsed()
            return outcome
        } catch {
            throw DeployFailure(underlying: error, changedAWS: tally.changedAWS, publishedVersion: publishedVersion, previousVersion: previousVersion)
        }
    }

    /// What the turn-taking did to AWS, for the outcome and a `failed` record.
    struct Tally {
        var changedAWS = false
        var kind = DeployOutcome.Upload.none
        var bytes: Int64 = 0
    }

    enum Turn {
        case published(FunctionState)
        case superseded(Supersession)
    }

    /// Uploads (when `$LATEST` does not hold our code) and publishes, taking turns with other
    /// deploys of the function (see `TurnTaking`), until a version holding exactly our code
    /// exists — or a newer deploy has taken the alias meanwhile.
    private func takeTurns(
        _ code: PackagedCode, target: Target, description: String, from latest: FunctionState, precedence: PrecedenceMemo,
        clock: ContinuousClock, tally: inout Tally
    ) async throws -> Turn {
        let deadline = clock.now + turns.budget
        var head = latest
        // Seen another deploy write $LATEST while this one wanted it.
        var contended = false
        // The settled state of another deploy's update (RevisionId, else code) already given its grace.
        var graceGiven: String?
        // Our uploads refused before they changed anything (412, 409): they set the backoff.
        var refused = 0
        // Our code landed and was replaced, or a publish did not give us our code.
        var overtaken = 0
        var toldWaiting = false
        // Deploys started by one push begin at the same instant and would all send their package
        // at once (all but one refused): the first upload waits a moment drawn from
        // `startJitter`, then reads `$LATEST` again, so one goes first and the others see it.
        var spread = false

        func pause(_ duration: Duration) async throws {
            let wait = min(duration, deadline - clock.now)
            if wait > .zero { try await clock.sleep(for: wait) }
        }
        func overtakenOnce() throws {
            overtaken += 1
            contended = true
            guard overtaken < maxAttempts else { throw WorkflowError.raceNotSettled(function: target.function, attempts: overtaken) }
        }
        func noTurn() async -> WorkflowError {
            .noTurn(function: target.function, seconds: Int(Self.seconds(turns.budget)), other: await otherDeploy(target.function, code: head.codeSha256))
        }

        while true {
            try Interruption.check()
            if head.isUpdating {
                if head.codeSha256 == code.codeSha256 {
                    // Ours: wait closely, to publish right after it ends (another deploy may be waiting).
                    head = try await reporter.during("waiting for \(target.function) to finish updating") {
                        try await lambda.waitUntilUpdated(target.function)
                    }
                    if head.codeSha256 != code.codeSha256 { try overtakenOnce() }
                    continue
                }
                // Another deploy's update: never upload into it. Let it end, then give it its turn.
                contended = true
                if !toldWaiting {
                    reporter.step("another update of \(target.function) is in progress (another deploy?): waiting for it to end")
                    toldWaiting = true
                }
                guard clock.now < deadline else { throw await noTurn() }
                try await pause(turns.jitteredPoll)
                head = try await lambda.function(target.function, qualifier: nil)
                continue
            }

            if head.codeSha256 == code.codeSha256 {
                do {
                    let version = try await lambda.publish(target.function, codeSha256: code.codeSha256, description: description)
                    tally.changedAWS = true
                    if version.codeSha256 == code.codeSha256 { return .published(version) }
                    // AWS refuses a publish whose CodeSha256 is not $LATEST's; a Lambda that does not
                    // (moto) published another deploy's code. That version is not ours: go again.
                    reporter.warning(
                        "\(target.function) version \(version.version) was published with another deploy's code although the request named ours (this Lambda does not check CodeSha256): taking another turn")
                    try overtakenOnce()
                } catch LambdaConflict.preconditionFailed {
                    // Another deploy's upload replaced ours before we could publish it.
                    try overtakenOnce()
                } catch LambdaConflict.updateInProgress {
                    // An update began after ours ended (another deploy's, or a configuration change).
                    contended = true
                }
                head = try await lambda.function(target.function, qualifier: nil)
                continue
            }

            // $LATEST holds other code, and no update is in progress.
            let settledState = head.revisionId ?? head.codeSha256
            if contended, graceGiven != settledState {
                // Another deploy's update has just ended: let it publish (and move the alias)
                // before uploading over its code; then see whether it took the alias from us.
                graceGiven = settledState
                try await pause(turns.jitteredGrace)
                if let newer = try await precedence.supersession(try await lambda.alias(target.function, name: target.alias)) {
                    return .superseded(newer)
                }
                head = try await lambda.function(target.function, qualifier: nil)
                continue
            }
            guard clock.now < deadline else { throw await noTurn() }
            if !spread {
                spread = true
                try await pause(turns.startJitter * turns.random())
                head = try await lambda.function(target.function, qualifier: nil)
                continue
            }
            if refused + overtaken > 0 { reporter.step("uploading to \(target.function) again (another deploy had its turn)") }
            do {
                let upload = try await uploadCode(code, target: target, revisionId: head.revisionId)
                tally.changedAWS = true
                tally.kind = upload.kind
                tally.bytes += upload.bytes
                // Its RevisionId is stale once the update ends: the waiter's read replaces it.
                head = upload.state
            } catch LambdaConflict.preconditionFailed {
                // Another deploy's upload got there first (our RevisionId is stale): nothing changed.
                refused += 1
                contended = true
                try await pause(turns.backoff(afterLosses: refused))
                head = try await lambda.function(target.function, qualifier: nil)
            } catch LambdaConflict.updateInProgress {
                refused += 1
                contended = true
                try await pause(turns.backoff(afterLosses: refused))
                head = try await lambda.function(target.function, qualifier: nil)
            } catch {
                // The upload may have landed (a lost answer the client could not settle).
                if (error as? AWSError)?.mayHaveBeenApplied ?? true { tally.changedAWS = true }
                throw error
            }
        }
    }

    /// The commit of the deploy whose code `$LATEST` holds, from the description of the newest
    /// version with that code (nil when none names one, or the versions cannot be listed).
    private func otherDeploy(_ function: String, code: String) async -> String? {
        guard let versions = try? await lambda.versions(function) else { return nil }
        return versions.last { $0.codeSha256 == code }.flatMap { VersionProvenance(description: $0.description).commit }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Sends the package (straight to Lambda, or through S3 when it is too large) and returns
    /// what UpdateFunctionCode answered. The zip is streamed from its file; a lost answer is
    /// settled by the AWS client reading the state back (the package's checksums say whether
    /// the upload landed), never by failing the deploy.
    /// `revisionId` is the state of `$LATEST` the upload was decided from: if another deploy
    /// changed it meanwhile, Lambda refuses the upload (`LambdaConflict.preconditionFailed`).
    private func uploadCode(_ code: PackagedCode, target: Target, revisionId: String?) async throws -> (kind: DeployOutcome.Upload, bytes: Int64, state: FunctionState) {
        if Self.directRequestBytes(zipBytes: code.bytes) <= Self.directUploadLimit {
            let state = try await reporter.transfer("uploading \(formatBytes(code.bytes)) to \(target.function)", bytes: code.bytes) { progress in
                try await lambda.uploadZip(
                    target.function, zipPath: code.zipPath, codeSha256: code.codeSha256, revisionId: revisionId, progress: progress)
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
        let state = try await lambda.uploadFromS3(target.function, bucket: bucket, key: key, codeSha256: code.codeSha256, revisionId: revisionId)
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

/// A newer deploy holding the alias: its version, its commit (when its description names one),
/// and why it counts as newer, in words.
struct Supersession: Sendable, Equatable {
    var version: String
    var commit: String?
    var reason: String
}

/// The never-backwards question for one deploy, asked of every alias state it reads. Versions
/// are immutable, so each is read and decided once.
final class PrecedenceMemo {
    let lambda: any LambdaOperations
    let target: Deployer.Target
    let code: String
    private var decided: [String: Supersession?] = [:]

    init(lambda: any LambdaOperations, target: Deployer.Target, code: String) {
        self.lambda = lambda
        self.target = target
        self.code = code
    }

    /// The newer deploy `alias` runs, or nil when this deploy may move it. `running` is the
    /// alias's version when already read.
    func supersession(_ alias: AliasState?, running: FunctionState? = nil) async throws -> Supersession? {
        guard !target.allowOlder, let alias else { return nil }
        if let known = decided[alias.version] { return known }
        let state: FunctionState
        if let running { state = running } else { state = try await lambda.function(target.function, qualifier: alias.version) }
        var answer: Supersession?
        if state.codeSha256 != code {
            let theirs = VersionProvenance(description: state.description)
            if case .superseded(let reason) = Precedence.decide(
                ours: target.provenance, theirs: theirs, version: alias.version, alias: target.alias, isAncestor: target.isAncestor)
            {
                answer = Supersession(version: alias.version, commit: theirs.commit, reason: reason)
            }
        }
        decided[alias.version] = answer
        return answer
    }
}
