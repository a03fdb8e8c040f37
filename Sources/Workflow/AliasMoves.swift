import Foundation
import DeployLedger
import ReleasePolicy
import Safety

public struct PromoteRequest: Sendable {
    public var from: String?
    public var to: String
    public var function: String?
    public var weight: Double?
    public var finish = false
    public var anyCommit = false
    public var overrideProtection = false
    public var pushNotes: Bool?

    public init(to: String) {
        self.to = to
    }
}

public struct RollbackRequest: Sendable {
    public var alias: String
    public var toVersion: String?
    public var function: String?
    public var overrideProtection = false
    public var pushNotes: Bool?

    public init(alias: String) {
        self.alias = alias
    }
}

/// The result of promote or rollback.
public struct AliasMoveReport: Encodable, Sendable {
    public var function: String
    public var region: String
    public var alias: String
    public var from: String?
    /// `promoted` | `finished` | `rolled-back` | `cancelled-shift` | `unchanged`
    public var result: String
    public var version: String
    public var previousVersion: String?
    public var weight: Double?
    public var commit: String?
    public var codeSha256: String?
    public var record: RecordReport?
    public var recordProblem: WorkflowError?
    public var lines: [String] = []

    enum CodingKeys: String, CodingKey {
        case function, region, alias, from, result, version, previousVersion, weight, commit, codeSha256, record
    }
}

/// Promote and rollback: alias moves that ship no new code, only versions that exist.
public struct AliasMoves {
    public let project: Project
    let reporter: Reporter

    public init(project: Project, reporter: Reporter) {
        self.project = project
        self.reporter = reporter
    }

    var recorder: Recorder { Recorder(project: project, reporter: reporter) }

    /// The commit a published version was built from, per the ledger, with its record.
    func ledgerEntry(function: String, version: String, region: String) throws -> LedgerEntry? {
        guard let repository = project.repository else { return nil }
        return try Ledger(repository: repository, notesRef: project.config.notes.ref).entry(function: function, version: version, region: region)
    }

    /// Moves an alias to a fixed target through the one alias-move loop; returns the state it replaced.
    func moveAlias(
        _ services: Services, function: String, alias name: String, current: AliasState?, to target: AliasTarget,
        commit: String?, description: ((AliasState?) -> String)? = nil
    ) async throws -> AliasState? {
        try Interruption.check()
        let mover = AliasMover(lambda: services.lambda, reporter: reporter)
        let outcome = try await mover.move(
            function: function, alias: name, from: current,
            description: description ?? { Deployer.aliasDescription(previous: $0?.version, commit: commit) },
            plan: { _ in target })
        return outcome.replaced
    }

    /// Is `commit` on the branch mapped to `alias`? Checks the remote's branch (fetched) when the
    /// repository has that remote, else the local branch.
    func checkProvenance(commit: String, alias: String) throws {
        let repository = try project.requireRepository()
        let branches = project.config.branches.filter { $0.alias == alias && Glob($0.pattern).isLiteral }.map(\.pattern)
        guard !branches.isEmpty else { return }  // no literal branch maps to the target: nothing to check against
        guard repository.contains(commit: commit) else {
            throw WorkflowError.provenance(commit: commit, branch: branches.joined(separator: "' or '"), alias: alias)
        }
        let remote = project.config.notes.remote
        // The default mapping names both main and master; a repository has one of them, so a
        // branch the remote lacks is no answer. Only when no mapped branch could be read at all
        // is the fetch failure (say, the remote is unreachable) the error to report.
        var fetchFailure: (any Error)?
        var found: [String] = []
        for branch in branches {
            let tip: String?
            do {
                tip = try repository.branchTip(branch, remote: remote, environment: project.environment.variables)
            } catch {
                fetchFailure = fetchFailure ?? error
                continue
            }
            if tip != nil { found.append(branch) }
            if let tip, try tip == commit || repository.isAncestor(commit, of: tip) { return }
        }
        if found.isEmpty, let fetchFailure { throw fetchFailure }
        throw WorkflowError.provenance(commit: commit, branch: (found.isEmpty ? branches : found).joined(separator: "' or '"), alias: alias)
    }

    /// Checks a promotion before any AWS call: names, weight, and protection of the target.
    public func check(_ request: PromoteRequest) throws {
        try validateAliasName(request.to)
        if let from = request.from { try validateAliasName(from) }
        if let weight = request.weight { try validateWeight(weight) }
        // Protection as for a deploy: a CI push build of a mapped branch, or --override-protection.
        try project.policy.checkManualDeploy(alias: request.to, context: project.localContext, overrideProtection: request.overrideProtection)
        _ = try project.functionName(request.function)
    }

    /// Checks a rollback before any AWS call.
    public func check(_ request: RollbackRequest) throws {
        try validateAliasName(request.alias)
        if let version = request.toVersion, !LambdaNames.isVersion(version) {
            throw WorkflowError.invalidVersion(version)
        }
        try project.policy.checkManualDeploy(alias: request.alias, context: project.localContext, overrideProtection: request.overrideProtection)
        _ = try project.functionName(request.function)
    }

    public func promote(_ request: PromoteRequest, services: Services) async throws -> AliasMoveReport {
        try check(request)
        let function = try project.functionName(request.function)
        let session = services
        let lambda = session.lambda
        let target = try await lambda.alias(function, name: request.to)
        var report = AliasMoveReport(function: function, region: session.region, alias: request.to, from: request.from, result: "promoted", version: "", previousVersion: target?.version)

        if request.finish {
            guard let target, let (version, _) = target.additionalWeights.first else { throw WorkflowError.noRoutingToFinish(alias: request.to) }
            let entry = try ledgerEntry(function: function, version: version, region: session.region)
            let replaced = try await moveAlias(services, function: function, alias: request.to, current: target, to: AliasTarget(version: version), commit: entry?.commit)
            report.previousVersion = replaced?.version ?? target.version
            report.result = "finished"
            report.version = version
            report.lines.append("finished: \(function):\(request.to) now runs version \(version) fully (was \(target.version) with a share on \(version))")
            report.commit = entry?.commit
            record(&report, trigger: .promote, entry: entry, request.pushNotes, override: request.overrideProtection, anyCommit: false, now: services.clock.now())
            return report
        }

        guard let fromName = request.from, let source = try await lambda.alias(function, name: fromName) else {
            throw WorkflowError.promoteSourceMissing(function: function, alias: request.from ?? "")
        }
        let version = source.version
        report.version = version
        let running = try await lambda.function(function, qualifier: version)
        report.codeSha256 = running.codeSha256

        // The ledger says which commit this version was built from, and with which code.
        let entry = try ledgerEntry(function: function, version: version, region: session.region)
        if let entry, let recorded = entry.record.codeSha256, recorded != running.codeSha256 {
            throw WorkflowError.ledgerMismatch(version: version, ledger: recorded, actual: running.codeSha256)
        }
        report.commit = entry?.commit
        if !request.anyCommit {
            guard let commit = entry?.commit else { throw WorkflowError.unknownProvenance(function: function, version: version) }
            try checkProvenance(commit: commit, alias: request.to)
        }

        if let target, target.version == version, target.additionalWeights.isEmpty {
            report.result = "unchanged"
            report.lines.append("unchanged: \(function):\(request.to) already runs version \(version), the same as \(fromName)")
            return report
        }
        var weights: [String: Double] = [:]
        var main = version
        if let weight = request.weight, let target, target.version != version {
            weights = [version: weight / 100]
            main = target.version
            report.weight = weight
        }
        let replaced = try await moveAlias(services, function: function, alias: request.to, current: target, to: AliasTarget(version: main, weights: weights), commit: entry?.commit)
        report.previousVersion = replaced?.version
        if let commit = entry?.commit { report.lines.append("promoting commit \(commit.prefix(12)) (\(fromName) version \(version), CodeSha256 \(running.codeSha256))") }
        report.lines.append(weights.isEmpty
            ? "promoted: \(function):\(request.to) -> version \(version) (was \(target?.version ?? "none")), no rebuild, no upload"
            : "promoted: \(function):\(request.to) sends \(formatPercent(request.weight ?? 0)) to version \(version), main version stays \(main); finish with `lambda-deploy promote --finish --to \(request.to)`")
        record(&report, trigger: .promote, entry: entry, request.pushNotes, override: request.overrideProtection, anyCommit: request.anyCommit, now: services.clock.now())
        return report
    }

    public func rollback(_ request: RollbackRequest, services: Services) async throws -> AliasMoveReport {
        try check(request)
        let function = try project.functionName(request.function)
        let session = services
        let lambda = session.lambda
        guard let current = try await lambda.alias(function, name: request.alias) else {
            throw WorkflowError.aliasNotFound(function: function, alias: request.alias)
        }
        var report = AliasMoveReport(function: function, region: session.region, alias: request.alias, from: nil, result: "rolled-back", version: "", previousVersion: current.version)

        // A traffic shift in progress: cancel it, all traffic back on the main version.
        if request.toVersion == nil, !current.additionalWeights.isEmpty {
            let kept = current.description ?? Deployer.aliasDescription(previous: nil, commit: nil)
            _ = try await moveAlias(services, function: function, alias: request.alias, current: current, to: AliasTarget(version: current.version), commit: nil, description: { _ in kept })
            report.result = "cancelled-shift"
            report.version = current.version
            report.lines.append("cancelled the traffic shift on \(function):\(request.alias): all traffic on version \(current.version) again")
            let entry = try ledgerEntry(function: function, version: current.version, region: session.region)
            report.commit = entry?.commit
            record(&report, trigger: .rollback, entry: entry, request.pushNotes, override: request.overrideProtection, anyCommit: false, now: services.clock.now())
            return report
        }

        // The version before the latest move: from --to, the ledger, or the alias description.
        var targetVersion = request.toVersion
        if targetVersion == nil, let repository = project.repository {
            targetVersion = try Ledger(repository: repository, notesRef: project.config.notes.ref)
                .rollbackTarget(function: function, alias: request.alias, region: session.region, currentVersion: current.version)?.version
        }
        if targetVersion == nil { targetVersion = Deployer.previousVersion(fromAliasDescription: current.description) }
        guard let version = targetVersion, version != current.version else { throw WorkflowError.nothingToRollBack(alias: request.alias) }
        // Check the version exists; listing pages through every page (50 versions each).
        let versions = try await lambda.versions(function)
        guard let target = versions.first(where: { $0.version == version }) else {
            throw WorkflowError.rollbackTargetMissing(function: function, version: version)
        }
        let entry = try ledgerEntry(function: function, version: version, region: session.region)
        let replaced = try await moveAlias(services, function: function, alias: request.alias, current: current, to: AliasTarget(version: version), commit: entry?.commit)
        report.previousVersion = replaced?.version ?? current.version
        report.version = version
        report.codeSha256 = target.codeSha256
        report.commit = entry?.commit
        report.lines.append("rolled back: \(function):\(request.alias) -> version \(version) (was \(current.version))")
        record(&report, trigger: .rollback, entry: entry, request.pushNotes, override: request.overrideProtection, anyCommit: false, now: services.clock.now())
        return report
    }

    /// Writes a promote/rollback record on the commit the version was built from, when known.
    func record(_ report: inout AliasMoveReport, trigger: DeployRecord.Trigger, entry: LedgerEntry?, _ push: Bool?, override: Bool, anyCommit: Bool, now: Date) {
        guard let commit = entry?.commit else {
            report.lines.append("record: not written: no ledger record says which commit version \(report.version) was built from")
            return
        }
        var facts = RecordFacts(function: report.function, region: report.region, alias: report.alias, trigger: trigger)
        facts.account = entry?.record.account
        facts.version = report.version
        facts.previousVersion = report.previousVersion
        facts.codeSha256 = report.codeSha256 ?? entry?.record.codeSha256
        facts.weight = report.weight
        facts.promotedFrom = report.from
        facts.overrideProtection = override
        facts.anyCommit = anyCommit
        let written = recorder.write(recorder.record(facts, now: now), on: commit, push: push)
        report.record = written.report
        report.recordProblem = written.problem
        report.lines.append("record: \(written.report.message)")
    }
}
