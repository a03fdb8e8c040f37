/// The version an alias ran before its newest move, per the ledger: what `rollback` goes back to.
public struct RollbackTarget: Sendable, Equatable {
    /// The version to go back to (the newest move's `previousVersion`).
    public var version: String
    /// The record of the move being undone.
    public var move: LedgerEntry
}

/// The questions the workflow asks the ledger, each answered by the one reader (``LedgerRows``):
/// rows filtered by function, alias and region without decoding, newest first, and records
/// decoded only for the rows an answer looks at. A broken ledger (a notes ref that is not a
/// notes commit, a foreign entry in its tree) throws; lines that are not records are skipped
/// here and reported by `history`.
extension Ledger {
    /// Every row of the notes ref, nil when there are no records yet.
    func rows() throws -> LedgerRows? {
        let ref = try checkedRef()
        guard let tip = try repository.notesCommit(ref) else { return nil }
        return try LedgerRows.read(notesCommit: tip, ref: ref)
    }

    /// The records matching `query`, newest first (the order `history` prints), decoded.
    public func entries(_ query: HistoryQuery = HistoryQuery()) throws -> (entries: [LedgerEntry], problems: [String]) {
        guard let rows = try rows() else { return ([], []) }
        let (entries, decodeProblems) = rows.entries(rows.select(query))
        return (entries, rows.problems + decodeProblems)
    }

    /// How many records the ledger holds (without decoding any).
    public func count() throws -> Int {
        try rows()?.count ?? 0
    }

    /// Walks the rows matching `query` newest first, decoding one at a time, until `body`
    /// returns false.
    private func walk(_ query: HistoryQuery, _ body: (LedgerEntry) -> Bool) throws {
        guard let rows = try rows() else { return }
        for key in rows.select(query) {
            guard case let .success(record) = RecordParser.parse(rows.line(key)) else { continue }
            if !body(LedgerEntry(commit: rows.row(key).commit.hex, record: record)) { return }
        }
    }

    /// The state each alias of `function` in `region` should be in: its newest record that
    /// moved or confirmed it. `failed` records are not a state (the deploy did not complete) and
    /// neither are `superseded` ones (a newer deploy took their place, and its record is the
    /// state).
    public func newestPerAlias(function: String, region: String) throws -> [String: LedgerEntry] {
        var newest: [String: LedgerEntry] = [:]
        try walk(HistoryQuery(function: function, region: region)) { entry in
            let record = entry.record
            if newest[record.alias] == nil, record.result != .failed, record.result != .superseded {
                newest[record.alias] = entry
            }
            return true
        }
        return newest
    }

    /// The commit a published version was built from: the newest record of `version` of
    /// `function` in `region` that did not fail and carries the code's CodeSha256 (what
    /// `promote` checks the running code against).
    public func entry(function: String, version: String, region: String) throws -> LedgerEntry? {
        var found: LedgerEntry?
        try walk(HistoryQuery(function: function, region: region)) { entry in
            let record = entry.record
            if record.version == version, record.result != .failed, record.codeSha256 != nil {
                found = entry
                return false
            }
            return true
        }
        return found
    }

    /// What `rollback` of `alias` goes back to while it runs `currentVersion`: the version before
    /// the newest `deployed` record that moved it to `currentVersion`; nil when the ledger does
    /// not know one.
    public func rollbackTarget(function: String, alias: String, region: String, currentVersion: String) throws -> RollbackTarget? {
        var target: RollbackTarget?
        try walk(HistoryQuery(alias: alias, function: function, region: region)) { entry in
            let record = entry.record
            guard record.result == .deployed, record.version == currentVersion else { return true }
            if let previous = record.previousVersion, previous != currentVersion {
                target = RollbackTarget(version: previous, move: entry)
            }
            return false
        }
        return target
    }

    /// The versions `alias` ran within its last `moves` moves (`deployed` records), newest
    /// first, each once: every move's version and the version it replaced. What `prune` must
    /// keep so a rollback still has somewhere to go.
    public func recentVersions(function: String, region: String, alias: String, moves: Int) throws -> [String] {
        var versions: [String] = []
        var seenMoves = 0
        guard moves > 0 else { return [] }
        try walk(HistoryQuery(alias: alias, function: function, region: region)) { entry in
            let record = entry.record
            guard record.result == .deployed else { return true }
            for version in [record.version, record.previousVersion].compactMap({ $0 }) where !versions.contains(version) {
                versions.append(version)
            }
            seenMoves += 1
            return seenMoves < moves
        }
        return versions
    }

    /// The newest record of `alias` of `function` (in `region` when given), whatever its result:
    /// what `status` shows as the alias's last deploy.
    public func newest(function: String, alias: String, region: String? = nil) throws -> LedgerEntry? {
        var found: LedgerEntry?
        try walk(HistoryQuery(alias: alias, function: function, region: region, limit: 1)) { entry in
            found = entry
            return false
        }
        return found
    }
}
