import Foundation
import DeployLedger
import ReleasePolicy

public struct PromoteRequest: Sendable {
    public var from: String?
    public var to: String
    public var function: String?
    public var weight: Double?
    public var finish = false
    public var anyCommit = false
    public var overrideProtection = false
    public var pushNotes: Bool?
    public var aws: AWSSettings

    public init(to: String, aws: AWSSettings) {
        self.to = to
        self.aws = aws
    }
}

public struct RollbackRequest: Sendable {
    public var alias: String
    public var toVersion: String?
    public var function: String?
    public var overrideProtection = false
    public var pushNotes: Bool?
    public var aws: AWSSettings

    public init(alias: String, aws: AWSSettings) {
        self.alias = alias
        self.aws = aws
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

extension DeployRunner {
    /// The commit a published version was built from, per the ledger, with its record.
    func ledgerEntry(function: String, version: String, region: String) -> LedgerEntry? {
        guard let repository = project.repository else { return nil }
        let ledger = Ledger(repository: repository, notesRef: project.config.notes.ref)
        guard let (entries, _) = try? ledger.scan() else { return nil }
        return entries
            .filter { $0.record.function == function && $0.record.version == version && $0.record.region == region && $0.record.result != .failed && $0.record.codeSha256 != nil }
            .max { $0.record.instant < $1.record.instant }
    }

    /// Moves an alias from the state last read, re-reading on a RevisionId conflict.
    func moveAlias(
        _ lambda: any LambdaOperations, function: String, alias name: String, current: AliasState?,
        version: String, weights: [String: Double], description: String
    ) async throws -> AliasState? {
        var current = current
        for _ in 1...4 {
            do {
                if let existing = current {
                    _ = try await lambda.updateAlias(function, name: name, version: version, description: description, additionalWeights: weights, revisionId: existing.revisionId)
                } else {
                    _ = try await lambda.createAlias(function, name: name, version: version, description: description, additionalWeights: weights)
                }
                return current
            } catch is LambdaConflict {
                let now = try await lambda.alias(function, name: name)
                if let now, now.version == version, now.additionalWeights == weights { return current }
                current = now
            }
        }
        throw WorkflowError.raceNotSettled(function: function, attempts: 4)
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

    public func promote(_ request: PromoteRequest) async throws -> AliasMoveReport {
        try validateAliasName(request.to)
        if let from = request.from { try validateAliasName(from) }
        if let weight = request.weight { try validateWeight(weight) }
        // Protection as for a deploy: a CI push build of a mapped branch, or --override-protection.
        try checkProtection(alias: request.to, trigger: .manual, override: request.overrideProtection)
        let function = try functionName(request.function)
        let session = try await AWSSession.make(settings: request.aws, configRegion: project.config.region, environment: project.environment, reporter: reporter)
        let lambda = session.lambda
        let target = try await lambda.alias(function, name: request.to)
        var report = AliasMoveReport(function: function, region: session.region, alias: request.to, from: request.from, result: "promoted", version: "", previousVersion: target?.version)

        if request.finish {
            guard let target, let (version, _) = target.additionalWeights.first else { throw WorkflowError.noRoutingToFinish(alias: request.to) }
            _ = try await moveAlias(lambda, function: function, alias: request.to, current: target, version: version, weights: [:],
                                    description: Deployer.aliasDescription(previous: target.version, commit: nil))
            report.result = "finished"
            report.version = version
            report.lines.append("finished: \(function):\(request.to) now runs version \(version) fully (was \(target.version) with a share on \(version))")
            let entry = ledgerEntry(function: function, version: version, region: session.region)
            report.commit = entry?.commit
            try record(&report, trigger: .promote, entry: entry, request.pushNotes, override: request.overrideProtection, anyCommit: false)
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
        let entry = ledgerEntry(function: function, version: version, region: session.region)
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
        _ = try await moveAlias(lambda, function: function, alias: request.to, current: target, version: main, weights: weights,
                                description: Deployer.aliasDescription(previous: target?.version, commit: entry?.commit))
        if let commit = entry?.commit { report.lines.append("promoting commit \(commit.prefix(12)) (\(fromName) version \(version), CodeSha256 \(running.codeSha256))") }
        report.lines.append(weights.isEmpty
            ? "promoted: \(function):\(request.to) -> version \(version) (was \(target?.version ?? "none")), no rebuild, no upload"
            : "promoted: \(function):\(request.to) sends \(formatPercent(request.weight ?? 0)) to version \(version), main version stays \(main); finish with `lambda-deploy promote --finish --to \(request.to)`")
        try record(&report, trigger: .promote, entry: entry, request.pushNotes, override: request.overrideProtection, anyCommit: request.anyCommit)
        return report
    }

    public func rollback(_ request: RollbackRequest) async throws -> AliasMoveReport {
        try validateAliasName(request.alias)
        try checkProtection(alias: request.alias, trigger: .manual, override: request.overrideProtection)
        let function = try functionName(request.function)
        let session = try await AWSSession.make(settings: request.aws, configRegion: project.config.region, environment: project.environment, reporter: reporter)
        let lambda = session.lambda
        guard let current = try await lambda.alias(function, name: request.alias) else {
            throw WorkflowError.aliasNotFound(function: function, alias: request.alias)
        }
        var report = AliasMoveReport(function: function, region: session.region, alias: request.alias, from: nil, result: "rolled-back", version: "", previousVersion: current.version)

        // A traffic shift in progress: cancel it, all traffic back on the main version.
        if request.toVersion == nil, !current.additionalWeights.isEmpty {
            _ = try await moveAlias(lambda, function: function, alias: request.alias, current: current, version: current.version, weights: [:],
                                    description: current.description ?? Deployer.aliasDescription(previous: nil, commit: nil))
            report.result = "cancelled-shift"
            report.version = current.version
            report.lines.append("cancelled the traffic shift on \(function):\(request.alias): all traffic on version \(current.version) again")
            let entry = ledgerEntry(function: function, version: current.version, region: session.region)
            report.commit = entry?.commit
            try record(&report, trigger: .rollback, entry: entry, request.pushNotes, override: request.overrideProtection, anyCommit: false)
            return report
        }

        // The version before the latest move: from --to, the ledger, or the alias description.
        var targetVersion = request.toVersion
        if targetVersion == nil, let repository = project.repository {
            let ledger = Ledger(repository: repository, notesRef: project.config.notes.ref)
            let moves = ((try? ledger.scan().entries) ?? [])
                .filter { $0.record.function == function && $0.record.alias == request.alias && $0.record.region == session.region && $0.record.result == .deployed && $0.record.version == current.version }
            targetVersion = moves.max { $0.record.instant < $1.record.instant }?.record.previousVersion
        }
        if targetVersion == nil { targetVersion = Deployer.previousVersion(fromAliasDescription: current.description) }
        guard let version = targetVersion, version != current.version else { throw WorkflowError.nothingToRollBack(alias: request.alias) }
        // Check the version exists; listing pages through every page (50 versions each).
        let versions = try await lambda.versions(function)
        guard let target = versions.first(where: { $0.version == version }) else {
            throw WorkflowError.rollbackTargetMissing(function: function, version: version)
        }
        let entry = ledgerEntry(function: function, version: version, region: session.region)
        _ = try await moveAlias(lambda, function: function, alias: request.alias, current: current, version: version, weights: [:],
                                description: Deployer.aliasDescription(previous: current.version, commit: entry?.commit))
        report.version = version
        report.codeSha256 = target.codeSha256
        report.commit = entry?.commit
        report.lines.append("rolled back: \(function):\(request.alias) -> version \(version) (was \(current.version))")
        try record(&report, trigger: .rollback, entry: entry, request.pushNotes, override: request.overrideProtection, anyCommit: false)
        return report
    }

    /// Writes a promote/rollback record on the commit the version was built from, when known.
    func record(_ report: inout AliasMoveReport, trigger: DeployRecord.Trigger, entry: LedgerEntry?, _ push: Bool?, override: Bool, anyCommit: Bool) throws {
        guard let commit = entry?.commit else {
            report.lines.append("record: not written: no ledger record says which commit version \(report.version) was built from")
            return
        }
        var record = recorder.record(function: report.function, region: report.region, account: entry?.record.account, alias: report.alias, result: .deployed, trigger: trigger)
        record.version = report.version
        record.previousVersion = report.previousVersion
        record.codeSha256 = report.codeSha256 ?? entry?.record.codeSha256
        record.weight = report.weight.map { Int($0.rounded()) }
        record.promotedFrom = report.from
        if override { record.overrideProtection = true }
        if anyCommit { record.anyCommit = true }
        let (recordReport, problem) = recorder.write(record, on: commit, push: push)
        report.record = recordReport
        report.recordProblem = problem
        report.lines.append("record: \(recordReport.message)")
    }
}
