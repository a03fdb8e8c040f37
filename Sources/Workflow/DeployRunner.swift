import Foundation
public import ReleasePolicy
import DeployLedger
import Packaging

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
    public var overrideProtection = false
    public var allowDirty = true
    /// nil: the config's `notes.push` (default: push in CI only).
    public var pushNotes: Bool?
    /// The commit being shipped when it is not HEAD's (never: the hook refuses that case).
    public var commit: String?
    public var aws: AWSSettings

    public init(alias: String, trigger: DeployTrigger, aws: AWSSettings) {
        self.alias = alias
        self.trigger = trigger
        self.aws = aws
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
    /// Set when the record could not be pushed: the command prints the result, then exits 3.
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

extension Decision {
    public var shouldDeploy: Bool { action == .deploy }

    /// The context behind the decision, one fact a line, for `plan`.
    public var contextLines: [String] {
        var lines = ["service: \(context.service.rawValue)\(context.isCI ? "" : " (not CI)")"]
        lines.append("event: \(context.eventType.rawValue)")
        if let branch = context.branch { lines.append("branch: \(branch)") }
        if let tag = context.tag { lines.append("tag: \(tag)") }
        if context.isPullRequest {
            lines.append("pull request: \(context.pullRequestNumber.map(String.init) ?? "yes")\(context.pullRequestSourceBranch.map { " from \($0)" } ?? "")")
        }
        if context.isFork { lines.append("fork: yes") }
        if let commit = context.commit { lines.append("commit: \(commit)") }
        if let job = context.jobNumber { lines.append("job: \(job)") }
        if !context.rawVariables.isEmpty {
            lines.append("variables:")
            for (name, value) in context.rawVariables.sorted(by: { $0.key < $1.key }) { lines.append("  \(name)=\(value)") }
        }
        return lines
    }
}

/// Runs the commands that deploy, promote, roll back and set up: one per process.
public final class DeployRunner {
    public let project: Project
    let reporter: Reporter
    let recorder: Recorder

    /// `function` is the `--function` flag: with a `functions:` list it picks the entry whose
    /// directory, region and policy apply; nil means the config's only function.
    public init(environment: RunEnvironment, configPath: String?, function: String? = nil, reporter: Reporter) throws {
        self.project = try Project(environment: environment, configPath: configPath, function: .one(function))
        self.reporter = reporter
        self.recorder = Recorder(project: project, reporter: reporter)
    }

    public var policy: ReleasePolicy { ReleasePolicy(config: project.config) }

    /// What `ci` would do here, and why (pure: reads nothing but the environment and config).
    public func decide() -> Decision { policy.decide(project.ci) }

    func functionName(_ flag: String?) throws -> String {
        if let flag, !flag.isEmpty { return flag }
        if let name = project.config.function, !name.isEmpty { return name }
        throw WorkflowError.missingSetting(name: "function", flag: "--function NAME", configKey: "function")
    }

    func functionDirectory(_ flag: String?) throws -> String {
        if let flag, !flag.isEmpty { return project.environment.absolutePath(flag) }
        if let directory = project.config.directory, !directory.isEmpty { return project.configRelativePath(directory) }
        throw WorkflowError.missingSetting(name: "function directory", flag: "--dir DIR", configKey: "directory")
    }

    /// Refuses a protected alias outside a CI push build of a mapped branch, before any AWS call.
    func checkProtection(alias: String, trigger: DeployTrigger, override: Bool) throws {
        if trigger == .ci { return }  // the CI decision already applied the policy
        try policy.checkManualDeploy(alias: alias, context: project.ci, overrideProtection: override)
    }

    public func run(_ request: DeployRequest) async throws -> DeployReport {
        try validateAliasName(request.alias)
        if let weight = request.weight { try validateWeight(weight) }
        try checkProtection(alias: request.alias, trigger: request.trigger, override: request.overrideProtection)
        let function = try functionName(request.function)
        let directory = try functionDirectory(request.directory)

        // Which commit is shipped, and whether the tree matches it.
        var commit = request.commit
        var dirty: Bool?
        if let repository = project.repository {
            if commit == nil { commit = try? repository.headCommit() }
            if let relative = project.pathInRepository(directory) {
                dirty = try? repository.isDirty(under: relative)
            }
        } else if commit == nil {
            commit = project.ci.commit
        }

        // Package into the cache directory (reused entries make unchanged redeploys cheap).
        let cache = project.environment.cacheDirectory
        try? FileManager.default.createDirectory(atPath: cache + "/packages", withIntermediateDirectories: true)
        var options = PackageOptions(directory: directory, output: cache + "/packages/\(function)-\(ProcessInfo.processInfo.processIdentifier).zip")
        options.excludes = project.config.exclude
        options.cacheDirectory = cache + "/entries"
        let started = Date()
        let package = try Packager.package(options)
        defer { try? FileManager.default.removeItem(atPath: package.output) }
        for warning in package.warnings { reporter.warning(warning) }
        reporter.step("packaged \(package.files) files, \(formatBytes(package.bytes)) zipped, in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")

        let session = try await AWSSession.make(settings: request.aws, configRegion: project.config.region, environment: project.environment, reporter: reporter)
        let deployer = Deployer(lambda: session.lambda, objectStore: session.objectStore, reporter: reporter)
        let target = Deployer.Target(
            function: function, region: session.region, alias: request.alias,
            s3Bucket: request.s3Bucket ?? project.config.s3?.bucket, s3Prefix: project.config.s3?.prefix ?? "",
            description: request.description, commit: commit, weight: request.weight, dryRun: request.dryRun)
        let code = PackagedCode(
            zipPath: package.output, codeSha256: package.codeSha256, sha256Hex: package.sha256Hex,
            contentDigest: package.contentDigest, bytes: package.bytes)

        let trigger = DeployRecord.Trigger(rawValue: request.trigger.rawValue) ?? .manual
        do {
            let outcome = try await deployer.deploy(code, to: target)
            var report = DeployReport(
                outcome: outcome, commit: commit, branch: project.ci.branch ?? project.repository?.currentBranch(),
                dirty: dirty, files: package.files, unzippedBytes: package.unzippedBytes)
            guard outcome.result != .dryRun else { return report }
            var record = recorder.record(
                function: function, region: session.region, account: outcome.account, alias: request.alias,
                result: outcome.result == .unchanged ? .unchanged : .deployed, trigger: trigger)
            record.version = outcome.version
            record.previousVersion = outcome.previousVersion
            record.codeSha256 = outcome.codeSha256
            record.dirty = dirty
            record.weight = outcome.weight.map { Int($0.rounded()) }
            if request.overrideProtection { record.overrideProtection = true }
            let (recordReport, problem) = recorder.write(record, on: commit, push: request.pushNotes)
            report.record = recordReport
            report.recordProblem = problem
            return report
        } catch let failure as DeployFailure {
            if failure.changedAWS {
                var record = recorder.record(
                    function: function, region: session.region, account: nil, alias: request.alias, result: .failed, trigger: trigger)
                record.version = failure.publishedVersion
                record.previousVersion = failure.previousVersion
                record.codeSha256 = code.codeSha256
                record.dirty = dirty
                record.error = failure.errorDescription
                if request.overrideProtection { record.overrideProtection = true }
                let (recordReport, _) = recorder.write(record, on: commit, push: request.pushNotes)
                reporter.step("record: \(recordReport.message)")
            }
            throw failure
        }
    }
}
