import Foundation
import Testing
@testable import DeployLedger

/// The questions Workflow asks the ledger (verify, promote, rollback, prune, status), answered
/// by the one reader.
@Suite struct QueryTests {
    /// A ledger with a history of one function in two regions, across four commits.
    static func history(_ box: Sandbox) throws -> (dir: String, ledger: Ledger, commits: [String]) {
        let dir = try box.makeRepository(commits: 4)
        let ledger = Ledger(repository: try open(dir))
        let commits = try (0..<4).map { try box.git(["rev-parse", "HEAD~\(3 - $0)"], in: dir).trimmingCharacters(in: .whitespacesAndNewlines) }
        func record(_ alias: String, _ version: String, _ time: String, _ result: DeployRecord.Outcome = .deployed,
                    previous: String? = nil, region: String = "eu-west-1", code: String? = "sha-v") -> DeployRecord {
            var r = sampleRecord(alias: alias, version: version, time: "2024-05-0\(time)Z", result: result)
            r.previousVersion = previous
            r.region = region
            r.codeSha256 = code.map { $0 + version }
            return r
        }
        let batch: [RecordOnCommit] = [
            RecordOnCommit(record("dev", "1", "1T10:00:00"), on: commits[0]),
            RecordOnCommit(record("prod", "1", "1T11:00:00"), on: commits[0]),
            RecordOnCommit(record("dev", "2", "2T10:00:00", previous: "1"), on: commits[1]),
            RecordOnCommit(record("dev", "3", "2T11:00:00", .failed, previous: "2"), on: commits[2]),
            RecordOnCommit(record("prod", "2", "3T10:00:00", previous: "1"), on: commits[1]),
            RecordOnCommit(record("dev", "4", "3T11:00:00", .superseded, previous: "2"), on: commits[2]),
            RecordOnCommit(record("dev", "2", "3T12:00:00", .unchanged, previous: "2"), on: commits[1]),
            RecordOnCommit(record("prod", "7", "4T00:00:00", region: "us-east-1"), on: commits[3]),
            RecordOnCommit(record("dev", "5", "4T10:00:00", previous: "2", code: nil), on: commits[3]),
        ]
        try ledger.append(batch, author: .lambdaDeploy)
        return (dir, ledger, commits)
    }

    @Test func manyRecordsAreWrittenInOneMoveOfTheRef() throws {
        let box = try Sandbox()
        let (dir, ledger, commits) = try Self.history(box)
        #expect(try ledger.count() == 9)
        let reflog = try box.git(["reflog", "show", "--format=%H", "refs/notes/deploys"], in: dir)
        #expect(reflog.split(separator: "\n").count == 1, "one ref update for the batch")
        #expect(try ledger.records(on: commits[1]).records.map(\.version) == ["2", "2", "2"])
        try box.git(["fsck", "--no-progress"], in: dir)
    }

    /// verify: failed records are no state; superseded ones neither (a newer deploy took over).
    @Test func newestPerAliasSkipsFailedAndSuperseded() throws {
        let box = try Sandbox()
        let (_, ledger, commits) = try Self.history(box)
        let state = try ledger.newestPerAlias(function: "orders", region: "eu-west-1")
        #expect(state["dev"]?.record.version == "5")
        #expect(state["dev"]?.commit == commits[3])
        #expect(state["prod"]?.record.version == "2")
        #expect(try ledger.newestPerAlias(function: "orders", region: "us-east-1")["prod"]?.record.version == "7")
        #expect(try ledger.newestPerAlias(function: "billing", region: "eu-west-1").isEmpty)
    }

    @Test func newestPerAliasDoesNotTakeASupersededRecordAsTheState() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository(commits: 2)
        let ledger = Ledger(repository: try open(dir))
        try ledger.append(sampleRecord(version: "6", time: "2024-05-01T10:00:00Z"), to: "HEAD", author: .lambdaDeploy)
        var late = sampleRecord(version: "5", time: "2024-05-01T10:00:05Z", result: .superseded)
        late.supersededByVersion = "6"
        try ledger.append(late, to: "HEAD~1", author: .lambdaDeploy)
        #expect(try ledger.newestPerAlias(function: "orders", region: "eu-west-1")["dev"]?.record.version == "6")
        // and history shows what happened.
        let text = String(decoding: try ledger.history(HistoryQuery(), format: .text).bytes, as: UTF8.self)
        #expect(text.split(separator: "\n").first?.contains("superseded by v6") == true)
    }

    /// promote: the commit a version was built from, from a record that did not fail and has
    /// the code's hash.
    @Test func entryForAVersionIsItsNewestGoodRecordWithCode() throws {
        let box = try Sandbox()
        let (_, ledger, commits) = try Self.history(box)
        let two = try #require(try ledger.entry(function: "orders", version: "2", region: "eu-west-1"))
        #expect(two.commit == commits[1])
        #expect(two.record.result == .unchanged)  // the newest good record of version 2
        #expect(try ledger.entry(function: "orders", version: "3", region: "eu-west-1") == nil)  // failed only
        #expect(try ledger.entry(function: "orders", version: "5", region: "eu-west-1") == nil)  // no codeSha256
        #expect(try ledger.entry(function: "orders", version: "7", region: "eu-west-1") == nil)  // other region
        #expect(try ledger.entry(function: "orders", version: "4", region: "eu-west-1")?.commit == commits[2])
    }

    @Test func rollbackTargetIsThePreviousVersionOfTheNewestMove() throws {
        let box = try Sandbox()
        let (_, ledger, commits) = try Self.history(box)
        let dev = try #require(try ledger.rollbackTarget(function: "orders", alias: "dev", region: "eu-west-1", currentVersion: "5"))
        #expect(dev.version == "2")
        #expect(dev.move.commit == commits[3])
        #expect(try ledger.rollbackTarget(function: "orders", alias: "prod", region: "eu-west-1", currentVersion: "2")?.version == "1")
        // A version no move went to (failed, superseded) or one without a predecessor: unknown.
        #expect(try ledger.rollbackTarget(function: "orders", alias: "dev", region: "eu-west-1", currentVersion: "3") == nil)
        #expect(try ledger.rollbackTarget(function: "orders", alias: "dev", region: "eu-west-1", currentVersion: "4") == nil)
        #expect(try ledger.rollbackTarget(function: "orders", alias: "dev", region: "eu-west-1", currentVersion: "1") == nil)
    }

    @Test func recentVersionsAreThoseTheAliasRanInItsLastMoves() throws {
        let box = try Sandbox()
        let (_, ledger, _) = try Self.history(box)
        #expect(try ledger.recentVersions(function: "orders", region: "eu-west-1", alias: "dev", moves: 1) == ["5", "2"])
        #expect(try ledger.recentVersions(function: "orders", region: "eu-west-1", alias: "dev", moves: 2) == ["5", "2", "1"])
        #expect(try ledger.recentVersions(function: "orders", region: "eu-west-1", alias: "dev", moves: 10) == ["5", "2", "1"])
        #expect(try ledger.recentVersions(function: "orders", region: "eu-west-1", alias: "dev", moves: 0).isEmpty)
        #expect(try ledger.recentVersions(function: "orders", region: "us-east-1", alias: "prod", moves: 3) == ["7"])
    }

    @Test func newestIsTheAliasesLastRecordWhateverItsResult() throws {
        let box = try Sandbox()
        let (_, ledger, _) = try Self.history(box)
        #expect(try ledger.newest(function: "orders", alias: "dev")?.record.version == "5")
        #expect(try ledger.newest(function: "orders", alias: "prod")?.record.version == "7")
        #expect(try ledger.newest(function: "orders", alias: "prod", region: "eu-west-1")?.record.version == "2")
        #expect(try ledger.newest(function: "orders", alias: "staging") == nil)
    }

    /// The queries read through the one reader: a broken ledger throws instead of answering
    /// "nothing recorded".
    @Test func queriesOnABrokenLedgerThrow() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        try box.pointRef("refs/notes/deploys", at: .tree, in: dir)
        let ledger = Ledger(repository: try open(dir))
        #expect(failure { _ = try ledger.entry(function: "f", version: "1", region: "r") } is LedgerError)
        #expect(failure { _ = try ledger.rollbackTarget(function: "f", alias: "a", region: "r", currentVersion: "1") } is LedgerError)
        #expect(failure { _ = try ledger.recentVersions(function: "f", region: "r", alias: "a", moves: 3) } is LedgerError)
        #expect(failure { _ = try ledger.newest(function: "f", alias: "a") } is LedgerError)
        #expect(failure { _ = try ledger.count() } is LedgerError)
    }
}

/// What a deploy checks before any AWS call, so a record can always be written afterwards.
@Suite struct PreflightTests {
    @Test func aWritableRepositoryPasses() throws {
        let box = try Sandbox()
        let ledger = Ledger(repository: try open(try box.makeRepository()))
        try ledger.checkWritable()
        try ledger.append(sampleRecord(), to: "HEAD", author: .lambdaDeploy)
        try ledger.checkWritable()
    }

    @Test func aBadRefABrokenRefOrAReadOnlyRepositoryFailsBeforehand() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        let repo = try open(dir)
        #expect(failure { try Ledger(repository: repo, notesRef: "refs/notes/a..b").checkWritable() } is LedgerError)
        try box.pointRef("refs/notes/deploys", at: .blob, in: dir)
        #expect(failure { try Ledger(repository: repo).checkWritable() } is LedgerError)
        let clean = try box.makeRepository("clean")
        guard getuid() != 0 else { return }  // root writes anywhere: nothing to check
        chmod(clean + "/.git/objects", 0o555)
        defer { chmod(clean + "/.git/objects", 0o755) }
        let error = try #require(failure { try Ledger(repository: try open(clean)).checkWritable() } as? LedgerError)
        #expect(error == .repositoryNotWritable(path: clean + "/.git/objects"))
    }
}
