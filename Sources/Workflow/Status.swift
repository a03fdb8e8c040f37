import Foundation
import DeployLedger
import ReleasePolicy
import Safety

/// `status`: which commit runs where, for every function and alias of the config.
public struct StatusReport: Encodable, Sendable {
    public struct Row: Encodable, Sendable {
        public var function: String
        public var region: String
        public var alias: String
        /// The version the alias runs (AWS), or the newest record's with `--offline`.
        public var version: String?
        /// During a traffic shift: the additional version and its share (0.0-1.0).
        public var weights: [String: Double]
        /// The commit that version was built from, per the ledger.
        public var commit: String?
        /// Whether AWS agrees (the alias description lambda-deploy writes names the commit);
        /// nil offline or when AWS does not say.
        public var commitConfirmed: Bool?
        public var movedAt: String?
        public var movedBy: String?
        public var trigger: String?
        /// The branch the alias is mapped to, and how the commit relates to it.
        public var branch: String?
        public var relation: String?
        /// `drift`, `unrecorded`, `missing`, `commit-mismatch`; empty when all is well.
        public var flags: [String]
    }

    public var offline: Bool
    public var rows: [Row]
    /// Pairs of aliases of one function: "prod is 3 commits behind dev".
    public var comparisons: [String]
    /// Failures to read one alias (the others are still reported).
    public var problems: [String]

    public var driftCount: Int { rows.filter { !$0.flags.isEmpty }.count }
}

/// Answers "which commit runs where": the ledger for the history, one GetAlias per alias (all
/// at once) for the truth in AWS, git for how commits relate to the mapped branches.
public struct Status {
    public let project: Project

    public init(project: Project) { self.project = project }

    /// The (function, region, alias) triples to report: every function of the config, each
    /// with the aliases its branch mapping and hook name, plus any alias its records mention.
    func targets(entries: [LedgerEntry]) -> [(function: String, region: String?, aliases: [String])] {
        var result: [(String, String?, [String])] = []
        for target in project.config.targets {
            let narrowed = (try? project.config.selecting(function: target.name)) ?? project.config
            var aliases = Set(narrowed.branches.map(\.alias) + narrowed.tags.map(\.alias) + [narrowed.hook.alias])
            for entry in entries where entry.record.function == target.name { aliases.insert(entry.record.alias) }
            result.append((target.name, narrowed.region, aliases.sorted()))
        }
        return result
    }

    /// `connect(region)` gives the services for a region (nil: `--offline`).
    public func run(connect: RegionalServicesProvider?) async throws -> StatusReport {
        let repository = project.repository
        // Newest first, in the ledger's one order.
        let entries = try repository.map { try Ledger(repository: $0, notesRef: project.config.notes.ref).entries().entries } ?? []
        var report = StatusReport(offline: connect == nil, rows: [], comparisons: [], problems: [])
        let wanted = targets(entries: entries)

        // One GetAlias per alias, all at once (bounded), each region's services made once.
        var live: [String: Result<AliasState?, any Error>] = [:]
        var regions: [String: String] = [:]
        if let connect {
            var services: [String: Services] = [:]
            for target in wanted where services[target.region ?? ""] == nil {
                services[target.region ?? ""] = try await connect(target.region)
            }
            for target in wanted { regions[target.function] = services[target.region ?? ""]?.region }
            live = await withTaskGroup(of: (String, Result<AliasState?, any Error>).self) { group in
                var results: [String: Result<AliasState?, any Error>] = [:]
                var pending = wanted.flatMap { target in target.aliases.map { (target, $0) } }.makeIterator()
                func start(_ next: ((function: String, region: String?, aliases: [String]), String)?) {
                    guard let (target, alias) = next, let lambda = services[target.region ?? ""]?.lambda else { return }
                    group.addTask { ("\(target.function):\(alias)", await settled { try await lambda.alias(target.function, name: alias) }) }
                }
                for _ in 0..<8 { start(pending.next()) }
                while let (key, result) = await group.next() {
                    results[key] = result
                    start(pending.next())
                }
                return results
            }
        }

        for target in wanted {
            let region = regions[target.function] ?? target.region ?? ""
            var commits: [String: String] = [:]
            for alias in target.aliases {
                let records = entries
                    .filter { $0.record.function == target.function && $0.record.alias == alias && (region.isEmpty || $0.record.region == region) }
                    .filter { $0.record.result != .failed && $0.record.result != .superseded }
                let newest = records.first
                var row = StatusReport.Row(
                    function: target.function, region: region, alias: alias, version: newest?.record.version, weights: [:],
                    commit: newest?.commit, commitConfirmed: nil, movedAt: newest?.record.time, movedBy: newest?.record.actor,
                    trigger: newest?.record.trigger.rawValue, branch: nil, relation: nil, flags: [])
                if !report.offline {
                    switch live["\(target.function):\(alias)"] {
                    case .success(let state?)?:
                        row.version = state.version
                        row.weights = state.additionalWeights
                        // The record of the version it runs now, which may not be the newest one.
                        let running = records.first { $0.record.version == state.version }
                        if let newest, newest.record.version != state.version || (newest.record.weight == nil) != state.additionalWeights.isEmpty {
                            row.flags.append("drift")
                        }
                        if newest == nil { row.flags.append("unrecorded") }
                        row.commit = running?.commit ?? (newest?.record.version == state.version ? newest?.commit : nil)
                        // The alias description names the commit of the deploy that moved it there;
                        // `unchanged` records of later commits with the same code leave it as it is.
                        let mover = records.first { $0.record.version == state.version && $0.record.result != .unchanged }
                        if let described = Self.commit(inDescription: state.description), let commit = mover?.commit ?? row.commit {
                            row.commitConfirmed = described == commit
                            if described != commit { row.flags.append("commit-mismatch") }
                        } else if row.commit == nil, let described = Self.commit(inDescription: state.description) {
                            row.commit = described
                        }
                        if let running { row.movedAt = running.record.time; row.movedBy = running.record.actor; row.trigger = running.record.trigger.rawValue }
                    case .success(nil)?:
                        row.version = nil
                        if newest != nil { row.flags.append("missing") } else { continue }
                    case .failure(let error)?:
                        report.problems.append("\(target.function):\(alias): \(describe(error))")
                    case nil:
                        break
                    }
                } else if newest == nil {
                    continue
                }
                (row.branch, row.relation) = relation(of: row.commit, alias: alias, function: target.function)
                if let commit = row.commit { commits[alias] = commit }
                report.rows.append(row)
            }
            report.comparisons += compare(commits, function: target.function)
        }
        return report
    }

    /// `commit=SHA` in an alias or version description lambda-deploy wrote.
    static func commit(inDescription description: String?) -> String? {
        guard let description else { return nil }
        for field in description.split(separator: " ") where field.hasPrefix("commit=") {
            let value = String(field.dropFirst("commit=".count))
            if GitNames.isObjectID(value) { return value }
        }
        return nil
    }

    /// The branch `alias` is mapped to and how `commit` relates to it.
    func relation(of commit: String?, alias: String, function: String) -> (String?, String?) {
        guard let repository = project.repository, let commit else { return (nil, nil) }
        let config = (try? project.config.selecting(function: function)) ?? project.config
        let mapped = config.branches.first { $0.alias == alias && Glob($0.pattern).isLiteral }?.pattern
        guard repository.contains(commit: commit) else { return (mapped, "commit \(commit.prefix(12)) is not in this clone (fetch it)") }
        if let mapped, let tip = repository.localTip(of: mapped, remote: config.notes.remote), let distance = repository.distance(from: commit, to: tip) {
            switch (distance.ahead, distance.behind) {
            case (0, 0): return (mapped, "at \(mapped)")
            case (0, let behind): return (mapped, "\(behind) commit\(behind == 1 ? "" : "s") behind \(mapped)")
            default: return (mapped, "not on \(mapped)")
            }
        }
        let branches = repository.branchesContaining(commit)
        return (mapped, branches.isEmpty ? "on no branch" : "on \(branches.prefix(3).joined(separator: ", "))")
    }

    /// "prod is 3 commits behind dev" for each pair of one function's aliases.
    func compare(_ commits: [String: String], function: String) -> [String] {
        guard let repository = project.repository else { return [] }
        var lines: [String] = []
        let aliases = commits.keys.sorted()
        for (index, first) in aliases.enumerated() {
            for second in aliases[(index + 1)...] {
                guard let a = commits[first], let b = commits[second], let distance = repository.distance(from: a, to: b) else { continue }
                switch (distance.ahead, distance.behind) {
                case (0, 0): lines.append("\(function): \(first) and \(second) run the same commit")
                case (0, let n): lines.append("\(function): \(first) is \(n) commit\(n == 1 ? "" : "s") behind \(second)")
                case (let n, 0): lines.append("\(function): \(second) is \(n) commit\(n == 1 ? "" : "s") behind \(first)")
                case (let x, let y): lines.append("\(function): \(first) and \(second) have diverged (\(x) and \(y) commits apart)")
                }
            }
        }
        return lines
    }
}

extension StatusReport {
    /// One line per alias, then the comparisons.
    public var lines: [String] {
        var lines: [String] = []
        for row in rows {
            var version = row.version.map { "v\($0)" } ?? "-"
            if let (extra, share) = row.weights.first { version += " (+v\(extra) \(Int((share * 100).rounded()))%)" }
            var columns = ["\(row.function):\(row.alias)", version, row.commit.map { String($0.prefix(12)) } ?? "-"]
            if let at = row.movedAt { columns.append(at + (row.movedBy.map { " by \($0)" } ?? "") + (row.trigger.map { " (\($0))" } ?? "")) }
            if let relation = row.relation { columns.append(relation) }
            columns.append(row.flags.isEmpty ? "ok" : row.flags.joined(separator: ",").uppercased())
            lines.append(columns.joined(separator: "  "))
        }
        if rows.isEmpty { lines.append("no aliases and no records") }
        lines += comparisons
        return lines
    }
}
