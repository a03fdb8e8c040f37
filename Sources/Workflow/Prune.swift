import Foundation
public import AWSClient
import DeployLedger
import Safety

/// What `prune` decided for one version.
public struct PruneDecision: Encodable, Sendable {
    public var version: String
    /// `deleted`, `kept`, or `would-delete` (dry run).
    public var action: String
    /// Why it is kept (or that nothing needs it).
    public var reason: String
}

public struct PruneReport: Encodable, Sendable {
    public var function: String
    public var region: String
    public var dryRun: Bool
    public var versions: [PruneDecision]
    public var storageBefore: AccountStorage?
    public var storageAfter: AccountStorage?

    public var deleted: [String] { versions.filter { $0.action != "kept" }.map(\.version) }
}

public struct PruneRequest: Sendable {
    public var function: String?
    /// The newest N versions are always kept.
    public var keep: Int
    /// Versions each alias ran within its last M moves (rollback targets) are kept.
    public var rollbackTargets: Int
    public var dryRun: Bool

    public static let defaultKeep = 10
    public static let defaultRollbackTargets = 3

    public init(function: String? = nil, keep: Int = defaultKeep, rollbackTargets: Int = defaultRollbackTargets, dryRun: Bool = false) {
        self.function = function
        self.keep = keep
        self.rollbackTargets = rollbackTargets
        self.dryRun = dryRun
    }
}

/// Deletes published versions nothing needs. Never deleted: a version any alias points at
/// (its routing's additional version too), the newest `keep`, every version the ledger says an
/// alias ran within its last `rollbackTargets` moves, versions with provisioned concurrency.
///
/// Versions are listed once, at the start: one a concurrent deploy publishes meanwhile is not in
/// the list and is never touched. An alias that moves onto a listed version meanwhile makes AWS
/// refuse that delete (409), which is reported as kept; a version deleted by someone else
/// meanwhile is simply gone.
public struct Prune {
    public let project: Project
    let reporter: Reporter

    public init(project: Project, reporter: Reporter) {
        self.project = project
        self.reporter = reporter
    }

    public func run(_ request: PruneRequest, services: Services) async throws -> PruneReport {
        guard request.keep >= 1 else { throw WorkflowError.invalidKeep(request.keep) }
        let function = try project.functionName(request.function)
        let lambda = services.lambda
        async let storageRead = settled { try await lambda.accountStorage() }
        async let versionsRead = lambda.versions(function)
        async let aliasesRead = lambda.aliases(function)
        async let provisionedRead = lambda.provisionedQualifiers(function)
        let (versions, aliases, provisioned) = try await (versionsRead, aliasesRead, provisionedRead)
        let before = try? await storageRead.get()

        // Why each version is needed, in order of importance.
        var needed: [String: String] = [:]
        func need(_ version: String, _ reason: String) { if needed[version] == nil { needed[version] = reason } }
        for alias in aliases {
            need(alias.version, "alias \(alias.name) points at it")
            for extra in alias.additionalWeights.keys { need(extra, "alias \(alias.name) sends it a share of traffic") }
        }
        for qualifier in provisioned where LambdaNames.isVersion(qualifier) { need(qualifier, "it has provisioned concurrency") }
        let published = versions.map(\.version).filter(LambdaNames.isVersion).sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        for version in published.prefix(request.keep) { need(version, "one of the newest \(request.keep)") }
        for (version, alias) in try rollbackTargets(function: function, region: services.region, aliases: aliases.map(\.name), moves: request.rollbackTargets) {
            need(version, "\(alias) ran it within its last \(request.rollbackTargets) moves (a rollback target)")
        }

        var decisions: [PruneDecision] = []
        for version in published.reversed() {  // oldest first
            if let reason = needed[version] {
                decisions.append(PruneDecision(version: version, action: "kept", reason: reason))
                continue
            }
            if request.dryRun {
                decisions.append(PruneDecision(version: version, action: "would-delete", reason: "nothing needs it"))
                continue
            }
            try Interruption.check()
            do {
                try await lambda.deleteVersion(function, version: version)
                decisions.append(PruneDecision(version: version, action: "deleted", reason: "nothing needs it"))
            } catch LambdaConflict.inUse {
                decisions.append(PruneDecision(version: version, action: "kept", reason: "an alias moved onto it meanwhile"))
            }
        }
        let after = request.dryRun ? before : try? await lambda.accountStorage()
        return PruneReport(function: function, region: services.region, dryRun: request.dryRun, versions: decisions, storageBefore: before, storageAfter: after)
    }

    /// Versions each alias ran within its last `moves` recorded moves (the version it moved to,
    /// and the one it left), per the ledger.
    func rollbackTargets(function: String, region: String, aliases: [String], moves: Int) throws -> [(version: String, alias: String)] {
        guard let repository = project.repository, moves > 0 else { return [] }
        let ledger = Ledger(repository: repository, notesRef: project.config.notes.ref)
        var targets: [(String, String)] = []
        for alias in aliases {
            for version in try ledger.recentVersions(function: function, region: region, alias: alias, moves: moves) {
                targets.append((version, alias))
            }
        }
        return targets
    }
}

extension PruneReport {
    /// `deleted 54 versions of pr, kept 6`.
    public var summary: String {
        "\(dryRun ? "would delete" : "deleted") \(deleted.count) version\(deleted.count == 1 ? "" : "s") of \(function), kept \(versions.count - deleted.count)"
    }

    public var lines: [String] {
        var lines: [String] = []
        for decision in versions {
            lines.append("\(decision.action == "kept" ? "keep  " : decision.action == "deleted" ? "delete" : "would delete") \(function) v\(decision.version): \(decision.reason)")
        }
        if versions.isEmpty { lines.append("\(function) has no published versions") }
        lines.append(summary)
        if let before = storageBefore {
            var storage = "code storage: \(formatBytes(before.used))"
            if let after = storageAfter, !dryRun { storage += " -> \(formatBytes(after.used))" }
            if let limit = (storageAfter ?? before).limit { storage += " of \(formatBytes(limit))" }
            lines.append(storage)
        }
        return lines
    }
}
