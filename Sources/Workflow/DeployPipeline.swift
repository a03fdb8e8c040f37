import Foundation
public import ReleasePolicy
import DeployLedger
public import Packaging

/// Where AWS is reached and as whom, as the user asked on the command line.
public struct AWSSettings: Sendable, Equatable {
    public var region: String?
    public var endpointURL: String?
    public var profile: String?

    public init(region: String? = nil, endpointURL: String? = nil, profile: String? = nil) {
        self.region = region
        self.endpointURL = endpointURL
        self.profile = profile
    }
}

/// What started a deploy; becomes the record's `trigger`.
public enum DeployTrigger: String, Sendable, Codable {
    case ci, hook, manual
}

/// A deploy as asked for: flags and the decision; the config fills the gaps.
public struct DeployRequest: Sendable {
    public var function: String?
    public var directory: String?
    public var alias: String
    public var s3Bucket: String?
    public var description: String?
    public var weight: Double?
    public var dryRun = false
    public var trigger: DeployTrigger
    /// The release policy's decision, for a CI deploy: protection is checked from it, and a CI
    /// deploy without one is refused (nothing can claim `trigger: .ci` to skip protection).
    public var decision: Decision?
    public var overrideProtection = false
    /// Package a function directory outside the repository (recorded as dirty).
    public var allowOutsideRepository = false
    /// nil: the config's `notes.push` (default: push in CI only).
    public var pushNotes: Bool?
    /// The commit being shipped when it is not HEAD's (never: the hook refuses that case).
    public var commit: String?
    /// Move the alias without running the config's `check:` (recorded).
    public var skipCheck = false
    /// Lints not to run on top of the config's `lint.disable` (`--no-lint`, recorded).
    public var disabledLints: Set<String> = []
    /// Move the alias even when it runs a newer commit of the branch (`--allow-older`; recorded).
    public var allowOlder = false

    public init(alias: String, trigger: DeployTrigger) {
        self.alias = alias
        self.trigger = trigger
    }
}

/// A deploy's result for the command line: the outcome, the commit, and the record's fate.
public struct DeployReport: Encodable, Sendable {
    public var outcome: DeployOutcome
    public var commit: String?
    public var branch: String?
    public var dirty: Bool?
    public var files: Int
    public var unzippedBytes: Int64
    public var record: RecordReport?
    /// Set when the record could not be written or pushed: the command prints the result, then
    /// exits with the record's exit code.
    public var recordProblem: WorkflowError?

    enum CodingKeys: String, CodingKey {
        case commit, branch, dirty, files, unzippedBytes, record
    }

    /// The outcome's fields at the top level (`result`, `version`, ...), then the rest.
    public func encode(to encoder: any Encoder) throws {
        try outcome.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(commit, forKey: .commit)
        try container.encodeIfPresent(branch, forKey: .branch)
        try container.encodeIfPresent(dirty, forKey: .dirty)
        try container.encode(files, forKey: .files)
        try container.encode(unzippedBytes, forKey: .unzippedBytes)
        try container.encodeIfPresent(record, forKey: .record)
    }
}

/// A deploy that passed every check that needs no AWS call, not packaged yet.
public struct DeployPlan: Sendable {
    public var request: DeployRequest
    public var function: String
    public var directory: String
    public var commit: String?
    public var dirty: Bool?
    /// What protection said: `.overridden` is recorded.
    public var protection: Protection
    public var options: PackageOptions
    /// The config's `check:`, its event read (nil: none, or skipped).
    var check: VersionCheck?
}

/// A deploy that passed every check that needs no AWS call, with its package built: the plan's
/// fields (`prepared.function`, `prepared.commit`, …) are read from the plan it was packaged from.
@dynamicMemberLookup
public struct PreparedDeploy: Sendable {
    public var plan: DeployPlan
    public var package: PackageResult

    public subscript<Value>(dynamicMember field: KeyPath<DeployPlan, Value>) -> Value { plan[keyPath: field] }

    /// The lint options packaging ran with (the handler lint runs once AWS says the handler).
    var lint: LintOptions? { plan.options.lint }

    /// Removes the package from the cache directory (the entry cache keeps what redeploys reuse).
    public func discard() {
        try? FileManager.default.removeItem(atPath: package.output)
        TemporaryFiles.shared.forget(package.output)
    }
}

/// The deploy pipeline: check, package, then (with services) upload, publish, move, record.
///
/// `prepare` does everything that needs no AWS call, so bad input, a protected alias or a
/// repository that cannot take a record fails before anything changes in AWS.
public struct DeployPipeline {
    public let project: Project
    let reporter: Reporter

    public init(project: Project, reporter: Reporter) {
        self.project = project
        self.reporter = reporter
    }

    var recorder: Recorder { Recorder(project: project, reporter: reporter) }

    /// Refuses a deploy the release policy does not allow, before any AWS call: the decision
    /// travels with the request (CI's, the hook's) or is made here for an alias named by hand,
    /// and protection is checked from it in ReleasePolicy's one place.
    func authorize(_ request: DeployRequest) throws -> Protection {
        let decision: Decision
        switch request.trigger {
        case .ci:
            guard let given = request.decision, given.shouldDeploy, given.alias == request.alias else {
                throw WorkflowError.notDecided(alias: request.alias)
            }
            decision = given
        case .hook, .manual:
            decision = request.decision ?? project.policy.decide(
                alias: request.alias, context: project.localContext, trigger: request.trigger == .hook ? .hook : .manual,
                overrideProtection: request.overrideProtection)
        }
        return try project.policy.checkProtection(decision)
    }

    /// Every check of a deploy that needs neither AWS nor the package: names, protection, the
    /// commit and whether the tree matches it, whether a record can be written.
    public func check(_ request: DeployRequest) throws -> DeployPlan {
        try validateAliasName(request.alias)
        if let weight = request.weight { try validateWeight(weight) }
        let protection = try authorize(request)
        let function = try project.functionName(request.function)
        let directory = try project.functionDirectory(request.directory)

        // Which commit is shipped, and whether the tree matches it.
        var commit = request.commit
        var dirty: Bool?
        if let repository = project.repository {
            if commit == nil { commit = try repository.headCommit() }
            if let relative = project.pathInRepository(directory) {
                dirty = try repository.isDirty(under: relative)
            } else {
                // HEAD does not hold this directory: the record would claim code the commit lacks.
                guard request.allowOutsideRepository else {
                    throw WorkflowError.outsideRepository(directory: directory, repository: repository.workdir ?? repository.gitDir)
                }
                dirty = true
            }
        } else if commit == nil {
            commit = project.ci.commit
        }
        if !request.dryRun { try recorder.preflight(commit: commit) }

        let cache = project.environment.cacheDirectory
        do {
            try FileManager.default.createDirectory(atPath: cache + "/packages", withIntermediateDirectories: true)
        } catch {
            throw WorkflowError.cacheUnwritable(path: cache, reason: describe(error))
        }
        var output = cache + "/packages/\(function)-\(ProcessInfo.processInfo.processIdentifier).zip"
        // The zip never goes inside what it packages (a cache directory set inside the function).
        if Packager.relativePath(of: output, inside: directory) != nil {
            output = NSTemporaryDirectory() + "lambda-deploy-\(function)-\(ProcessInfo.processInfo.processIdentifier).zip"
        }
        let check = try project.config.check.flatMap { request.skipCheck ? nil : try VersionCheck($0, project: project) }
        // Last, after every cheap check: the config's `build:`, whose output is what is zipped.
        let packaged = try project.packagedDirectory(function: function, directory: directory, commit: commit, reporter: reporter)
        var options = project.packageOptions(directory: packaged, output: output, cache: cache)
        options.lint?.disabled.formUnion(request.disabledLints)
        return DeployPlan(
            request: request, function: function, directory: directory, commit: commit, dirty: dirty, protection: protection,
            options: options, check: check)
    }

    /// Packages a checked deploy into the cache directory (reused entries make unchanged
    /// redeploys cheap). Files only: safe to run for several functions at once.
    public static func package(_ plan: DeployPlan, reporter: Reporter) throws -> PreparedDeploy {
        TemporaryFiles.shared.register(plan.options.output)
        let started = Date()
        let package: PackageResult
        do {
            package = try reporter.section("packaging \(plan.function)") { try Packager.package(plan.options) }
        } catch {
            TemporaryFiles.shared.forget(plan.options.output)
            throw error
        }
        for warning in package.warnings { reporter.warning(warning) }
        reporter.step("packaged \(plan.function): \(package.files) files, \(formatBytes(package.bytes)) zipped, in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
        return PreparedDeploy(plan: plan, package: package)
    }

    /// ``check(_:)`` then ``package(_:reporter:)``.
    public func prepare(_ request: DeployRequest) throws -> PreparedDeploy {
        try Self.package(check(request), reporter: reporter)
    }

    /// Prepares, connects (only when preparing succeeded) and deploys.
    public func run(_ request: DeployRequest, connect: ServicesProvider) async throws -> DeployReport {
        let prepared = try prepare(request)
        defer { prepared.discard() }
        try Interruption.check()
        return try await deploy(prepared, services: try await connect())
    }

    public func deploy(_ prepared: PreparedDeploy, services: Services) async throws -> DeployReport {
        let shipment = shipment(prepared, services: services)
        let result: Result<DeployOutcome, DeployFailure>
        do {
            result = .success(try await shipment.deployer.deploy(shipment.code, to: shipment.target))
        } catch let failure as DeployFailure {
            result = .failure(failure)
        }
        let report = try record(prepared, result, services: services, push: prepared.request.pushNotes)
        await pruneAfterDeploy(report, services: services)
        return report
    }

    /// `prune: {keep: N}` in the config: after a deploy that published a version, delete the old
    /// ones nothing needs. Housekeeping: a failure is a warning, never a failed deploy.
    func pruneAfterDeploy(_ report: DeployReport, services: Services) async {
        guard let settings = project.config.prune, report.outcome.result == .deployed else { return }
        do {
            let pruned = try await Prune(project: project, reporter: reporter)
                .run(PruneRequest(function: report.outcome.function, keep: settings.keep), services: services)
            reporter.step(pruned.summary)
        } catch {
            reporter.warning("pruning old versions of \(report.outcome.function) failed (the deploy itself succeeded): \(describe(error))")
        }
    }

    /// What the AWS half of a deploy needs, all Sendable: it may run in a task of its own.
    struct Shipment: Sendable {
        var deployer: Deployer
        var target: Deployer.Target
        var code: PackagedCode
    }

    func shipment(_ prepared: PreparedDeploy, services: Services) -> Shipment {
        let request = prepared.request
        let package = prepared.package
        var target = Deployer.Target(
            function: prepared.function, region: services.region, alias: request.alias,
            s3Bucket: request.s3Bucket ?? project.config.s3?.bucket, s3Prefix: project.config.s3?.prefix ?? "",
            description: request.description, commit: prepared.commit, weight: request.weight, dryRun: request.dryRun)
        target.buildOrder = project.ci.buildOrder
        target.branch = recorder.branch
        target.allowOlder = request.allowOlder
        target.isAncestor = project.repository.map { Self.ancestryCheck(repository: $0.workdir ?? $0.gitDir) }
        if let options = prepared.lint, !options.disabled.contains(PackageLint.Name.handler.rawValue) {
            let entries = package.entries
            target.lintHandler = { handler, runtime in
                var lint = options
                (lint.handler, lint.runtime) = (handler, runtime)
                let refused = PackageLint.check(entries, lint).filter { $0.lint == PackageLint.Name.handler.rawValue && $0.severity == .error }
                if !refused.isEmpty { throw PackagingError.lintRefused(refused) }
            }
        }
        if let check = prepared.check {
            let (function, lambda, reporter) = (prepared.function, services.lambda, reporter)
            target.check = { version in try await check.run(function: function, version: version, lambda: lambda, reporter: reporter) }
        }
        return Shipment(
            deployer: Deployer(lambda: services.lambda, objectStore: services.objectStore, reporter: reporter),
            target: target,
            code: PackagedCode(
                zipPath: package.output, codeSha256: package.codeSha256, sha256Hex: package.sha256Hex,
                contentDigest: package.contentDigest, bytes: package.bytes))
    }

    /// Whether one commit is an ancestor of another in the repository at `path`; nil when a
    /// commit is not there or the clone is shallow and says no (its history may stop short of
    /// the answer). GitRepository is not Sendable: each question opens a handle of its own.
    static func ancestryCheck(repository path: String) -> AncestryCheck {
        { ancestor, descendant in
            guard let repository = try? GitRepository.discover(from: path),
                repository.contains(commit: ancestor), repository.contains(commit: descendant),
                let answer = try? repository.isAncestor(ancestor, of: descendant)
            else { return nil }
            return answer || !repository.isShallow ? answer : nil
        }
    }

    /// Writes the record of a deploy's outcome (a `failed` one only if AWS changed) and returns
    /// the report, or rethrows the failure. `push: false` leaves sharing to the caller (a run
    /// over many functions pushes once).
    func record(_ prepared: PreparedDeploy, _ result: Result<DeployOutcome, DeployFailure>, services: Services, push: Bool?) throws -> DeployReport {
        let request = prepared.request
        let package = prepared.package
        let trigger = DeployRecord.Trigger(rawValue: request.trigger.rawValue) ?? .manual
        var facts = RecordFacts(function: prepared.function, region: services.region, alias: request.alias, trigger: trigger)
        facts.dirty = prepared.dirty
        facts.overrideProtection = prepared.protection == .overridden
        facts.skipCheck = request.skipCheck && project.config.check != nil
        facts.lintDisabled = prepared.lint?.disabled ?? []
        switch result {
        case .success(let outcome):
            var report = DeployReport(
                outcome: outcome, commit: prepared.commit, branch: recorder.branch,
                dirty: prepared.dirty, files: package.files, unzippedBytes: package.unzippedBytes)
            guard outcome.result != .dryRun else { return report }
            switch outcome.result {
            case .unchanged: facts.result = .unchanged
            case .superseded: facts.result = .superseded
            case .deployed, .dryRun: facts.result = .deployed
            }
            facts.allowOlder = request.allowOlder
            facts.supersededByCommit = outcome.supersededByCommit
            facts.supersededByVersion = outcome.supersededByVersion
            facts.account = outcome.account
            facts.version = outcome.version
            facts.previousVersion = outcome.previousVersion
            facts.codeSha256 = outcome.codeSha256
            facts.weight = outcome.weight
            let written = recorder.write(recorder.record(facts, now: services.clock.now()), on: prepared.commit, push: push)
            report.record = written.report
            report.recordProblem = written.problem
            return report
        case .failure(let failure):
            if failure.changedAWS {
                facts.result = .failed
                facts.version = failure.publishedVersion
                facts.previousVersion = failure.previousVersion
                facts.codeSha256 = package.codeSha256
                facts.error = failure.errorDescription
                let written = recorder.write(recorder.record(facts, now: services.clock.now()), on: prepared.commit, push: push)
                reporter.step("record: \(written.report.message)")
            }
            throw failure
        }
    }
}

extension Project {
    /// The one place config becomes packaging options: `package` and `deploy` build the same zip.
    public func packageOptions(directory: String, output: String, cache: String?) -> PackageOptions {
        var options = PackageOptions(directory: directory, output: output)
        options.excludes = config.exclude
        options.cacheDirectory = cache.map { $0 + "/entries" }
        options.lint = LintOptions(
            hasBuildStep: config.build != nil, disabled: Set(config.lint.disable.map(\.rawValue)), allowed: Set(config.lint.allow))
        return options
    }
}
