public import Foundation
public import DeployLedger
import ReleasePolicy

/// `show`: the records on one commit and, with `--live`, which aliases run it now.
public struct ShownCommit: Encodable, Sendable {
    public var commit: String
    public var records: [DeployRecord]
    public var problems: [String]
    /// Aliases whose current version is one recorded on this commit (only with --live).
    public var liveAliases: [String]?

    public var lines: [String] {
        var lines = ["commit \(commit)"]
        if records.isEmpty { lines.append("  no deploy records on this commit") }
        for record in records {
            lines.append("  " + record.historyLine(commit: commit))
        }
        if let liveAliases {
            lines.append(liveAliases.isEmpty ? "  runs now: no alias" : "  runs now: " + liveAliases.joined(separator: ", "))
        }
        return lines
    }
}

/// `verify`: each alias against its newest record.
public struct VerifyReport: Encodable, Sendable {
    public struct Check: Encodable, Sendable {
        public var alias: String
        public var actualVersion: String?
        public var recordedVersion: String?
        public var recordedCommit: String?
        public var status: String  // ok | drift | unrecorded
        public var detail: String
    }
    public var function: String
    public var region: String
    public var checks: [Check]
    public var driftCount: Int { checks.filter { $0.status != "ok" }.count }

    public var lines: [String] {
        var lines = ["\(function) in \(region):"]
        for check in checks { lines.append("  \(check.status == "ok" ? "ok   " : "DRIFT") \(check.alias): \(check.detail)") }
        if checks.isEmpty { lines.append("  no aliases and no records") }
        lines.append(driftCount == 0 ? "no drift" : "\(driftCount) alias(es) drifted")
        return lines
    }
}

/// Reading the ledger: history, show, verify, and the notes commands.
public final class Audit {
    let project: Project
    let repository: GitRepository

    public init(project: Project) throws {
        self.project = project
        repository = try project.requireRepository()
    }

    public var notesRef: String { project.config.notes.ref }
    var ledger: Ledger { Ledger(repository: repository, notesRef: notesRef) }

    /// `history`: the matching records, newest first, as text lines or one JSON array, straight
    /// from the ledger's one reader (same order for both), which caches the unfiltered answer
    /// per notes commit.
    public func history(alias: String?, function: String?, since: Date?, limit: Int?, format: HistoryFormat) throws -> HistoryOutput {
        try ledger.history(HistoryQuery(alias: alias, function: function, since: since, limit: limit), format: format)
    }

    /// The records on one commit; with `live` services, also which aliases run it now.
    public func show(_ revision: String, live: Services?) async throws -> ShownCommit {
        let commit = try repository.resolveCommit(revision)
        let (records, problems) = try ledger.records(on: commit)
        var shown = ShownCommit(commit: commit, records: records, problems: problems, liveAliases: nil)
        if let session = live {
            var running: Set<String> = []
            let functions = Set(records.map(\.function)).union(project.config.targets.map(\.name))
            for function in functions.sorted() {
                let versions = Set(records.filter { $0.function == function && $0.result != .failed }.compactMap(\.version))
                for alias in try await session.lambda.aliases(function) where versions.contains(alias.version) || alias.additionalWeights.keys.contains(where: versions.contains) {
                    running.insert("\(function):\(alias.name)")
                }
            }
            shown.liveAliases = running.sorted()
        }
        return shown
    }

    /// The function `verify` checks, before any AWS call.
    public func verifiedFunction(_ flag: String?) throws -> String {
        guard let function = try flag ?? project.config.selecting(function: nil).function else {
            throw WorkflowError.missingSetting(name: "function", flag: "--function NAME", configKey: "function")
        }
        return function
    }

    public func verify(function flag: String?, services session: Services) async throws -> VerifyReport {
        let function = try verifiedFunction(flag)
        // The newest record that moved (or confirmed) each alias of this function in this region.
        var newest = try ledger.newestPerAlias(function: function, region: session.region)
        let aliases = try await session.lambda.aliases(function)
        var checks: [VerifyReport.Check] = []
        for alias in aliases {
            guard let entry = newest.removeValue(forKey: alias.name) else {
                checks.append(.init(alias: alias.name, actualVersion: alias.version, recordedVersion: nil, recordedCommit: nil, status: "unrecorded",
                                    detail: "runs version \(alias.version) but no record says so (moved outside lambda-deploy, or records not fetched: lambda-deploy notes fetch)"))
                continue
            }
            let record = entry.record
            let matches: Bool
            if record.weight != nil, let version = record.version {
                matches = alias.additionalWeights[version] != nil || alias.version == version
            } else {
                matches = alias.version == record.version && alias.additionalWeights.isEmpty
            }
            let commit = String(entry.commit.prefix(12))
            checks.append(.init(
                alias: alias.name, actualVersion: alias.version, recordedVersion: record.version, recordedCommit: entry.commit,
                status: matches ? "ok" : "drift",
                detail: matches
                    ? "version \(alias.version), as recorded on \(commit) (\(record.time))"
                    : "runs version \(alias.version)\(alias.additionalWeights.isEmpty ? "" : " with routing \(alias.additionalWeights)") but the newest record (\(commit), \(record.time)) says \(record.version ?? "none")"))
        }
        for (alias, entry) in newest.sorted(by: { $0.key < $1.key }) {
            checks.append(.init(alias: alias, actualVersion: nil, recordedVersion: entry.record.version, recordedCommit: entry.commit, status: "drift",
                                detail: "recorded on \(entry.commit.prefix(12)) but the alias does not exist in AWS"))
        }
        return VerifyReport(function: function, region: session.region, checks: checks.sorted { $0.alias < $1.alias })
    }

    func sync(remote: String?) throws -> NotesSync {
        guard let git = NotesSync.locateGit(environment: project.environment.variables) else {
            throw WorkflowError.notesNotPushed(reason: "git is not on PATH")
        }
        return try NotesSync(repository: repository, notesRef: notesRef, remote: remote ?? project.config.notes.remote, git: git, environment: project.environment.variables)
    }

    public func fetchNotes(remote: String?) throws -> String {
        let sync = try sync(remote: remote)
        let outcome = try sync.fetchAndMerge(author: Recorder(project: project, reporter: .silent).signature())
        return "fetched \(sync.remote)'s records into \(notesRef): \(outcome)"
    }

    public func pushNotes(remote: String?) throws -> String {
        let sync = try sync(remote: remote)
        let outcome = try sync.share(author: Recorder(project: project, reporter: .silent).signature())
        return "pushed \(notesRef) to \(sync.remote): \(outcome.push)\(outcome.attempts > 1 ? " after \(outcome.attempts) rounds" : "")"
    }
}
