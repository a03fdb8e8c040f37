import Foundation
import Testing
@testable import DeployLedger

@Suite struct LedgerTests {
    @Test func appendsToAnExistingNoteAndGitShowsBothLines() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        // A first line written by plain git, as a human or another tool would.
        let first = sampleRecord(alias: "dev", version: "1").jsonLine()
        try box.git(["notes", "--ref=deploys", "add", "-m", first, "HEAD"], in: dir)

        let repo = try open(dir)
        let ledger = Ledger(repository: repo)
        let second = sampleRecord(alias: "prod", version: "1", time: "2024-05-01T12:05:00Z")
        try ledger.append(second, to: "HEAD", author: .lambdaDeploy)

        let shown = try box.git(["notes", "--ref=deploys", "show", "HEAD"], in: dir)
        #expect(shown == first + "\n" + second.jsonLine() + "\n")
        let parsed = try ledger.records(on: "HEAD")
        #expect(parsed.records.map(\.alias) == ["dev", "prod"])
        #expect(parsed.problems.isEmpty)

        // Every write is a notes commit on the same ref: the history keeps each version.
        let log = try box.git(["log", "--format=%an <%ae>", "refs/notes/deploys"], in: dir)
        #expect(log.split(separator: "\n").count == 2)
        #expect(log.hasPrefix("lambda-deploy <lambda-deploy@localhost>"))
        try box.git(["fsck", "--no-progress"], in: dir)
    }

    @Test func writesWithoutAnyGitIdentityAndOnTheRequestedSignature() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        let repo = try open(dir)
        let ledger = Ledger(repository: repo)
        try ledger.append(sampleRecord(), to: "HEAD", author: Signature(name: "octocat", email: "octocat@users.noreply.github.com"))
        let author = try box.git(["log", "-1", "--format=%an <%ae>", "refs/notes/deploys"], in: dir, identity: false)
        #expect(author == "octocat <octocat@users.noreply.github.com>\n")
    }

    @Test func reportsAHandEditedLineWithoutFailing() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        let repo = try open(dir)
        let ledger = Ledger(repository: repo)
        try ledger.append(sampleRecord(version: "1"), to: "HEAD", author: .lambdaDeploy)
        try box.git(["notes", "--ref=deploys", "append", "-m", "rolled back by hand -- alice", "HEAD"], in: dir)
        try ledger.append(sampleRecord(version: "2", time: "2024-05-02T00:00:00Z"), to: "HEAD", author: .lambdaDeploy)

        let parsed = try ledger.records(on: "HEAD")
        #expect(parsed.records.map(\.version) == ["1", "2"])
        #expect(parsed.problems.count == 1)
        #expect(parsed.problems.first?.contains("rolled back by hand") == true)
        let all = try ledger.entries()
        #expect(all.entries.count == 2)
        #expect(all.problems.count == 1)
    }

    @Test func recordsOnATagLandOnTheCommit() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        try box.git(["tag", "-a", "v1", "-m", "v1"], in: dir)
        let ledger = Ledger(repository: try open(dir))
        try ledger.append(sampleRecord(), to: "v1", author: .lambdaDeploy)
        let commit = try box.git(["rev-parse", "HEAD"], in: dir).trimmingCharacters(in: .whitespacesAndNewlines)
        let listed = try box.git(["notes", "--ref=deploys", "list"], in: dir)
        #expect(listed.hasSuffix(" " + commit + "\n"))
    }

    @Test func historyIsNewestFirstAndFiltered() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository(commits: 3)
        let ledger = Ledger(repository: try open(dir))
        try ledger.append(sampleRecord(alias: "dev", version: "1", time: "2024-05-01T10:00:00Z"), to: "HEAD~2", author: .lambdaDeploy)
        try ledger.append(sampleRecord(alias: "prod", version: "1", time: "2024-05-01T11:00:00Z"), to: "HEAD~2", author: .lambdaDeploy)
        try ledger.append(sampleRecord(alias: "dev", version: "2", time: "2024-05-02T10:00:00Z"), to: "HEAD~1", author: .lambdaDeploy)
        try ledger.append(sampleRecord(alias: "dev", version: "3", time: "2024-05-03T10:00:00Z", result: .failed), to: "HEAD", author: .lambdaDeploy)
        try ledger.append(sampleRecord(alias: "dev", version: "9", time: "2024-05-04T10:00:00Z", function: "billing"), to: "HEAD", author: .lambdaDeploy)

        let all = try ledger.entries().entries
        #expect(all.map(\.record.version) == ["9", "3", "2", "1", "1"])
        let head = try box.git(["rev-parse", "HEAD"], in: dir).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(all.first?.commit == head)

        let dev = try ledger.entries(HistoryQuery(alias: "dev", function: "orders")).entries
        #expect(dev.map(\.record.version) == ["3", "2", "1"])
        let recent = try ledger.entries(HistoryQuery(since: RecordTime.secondsSince1970("2024-05-02T00:00:00Z").map { Date(timeIntervalSince1970: $0) })).entries
        #expect(recent.map(\.record.version) == ["9", "3", "2"])
        #expect(try ledger.entries(HistoryQuery(limit: 2)).entries.count == 2)
        #expect(try ledger.count() == 5)

        #expect(try ledger.newest(function: "orders", alias: "dev")?.record.version == "3")
        #expect(try ledger.newest(function: "orders", alias: "staging") == nil)
    }

    @Test func emptyLedgerHasNoEntries() throws {
        let box = try Sandbox()
        let ledger = Ledger(repository: try open(try box.makeRepository()), notesRef: "deploys")
        #expect(ledger.notesRef == "refs/notes/deploys")
        #expect(try ledger.entries().entries.isEmpty)
        #expect(try ledger.count() == 0)
        #expect(try ledger.records(on: "HEAD").records.isEmpty)
    }

    /// fast-import writes notes fanned out (`ab/cdef...`) once there are many; reading and
    /// appending must handle that layout, and git must still read the result.
    @Test func readsAndAppendsToAFannedOutNotesTree() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        var stream = ""
        let count = 600
        for i in 1...count {
            stream += "commit refs/heads/many\nmark :\(i)\ncommitter t <t@t> \(1_700_000_000 + i) +0000\ndata 2\nc\n"
            if i == 1 { stream += "from refs/heads/main\n" }
        }
        stream += "commit refs/notes/deploys\ncommitter t <t@t> 1700001000 +0000\ndata 1\nn\n"
        for i in 1...count {
            let line = sampleRecord(version: String(i), time: DeployRecord.timestamp(Date(timeIntervalSince1970: Double(1_700_000_000 + i)))).jsonLine()
            stream += "N inline :\(i)\ndata \(line.utf8.count + 1)\n\(line)\n\n"
        }
        let input = box.path + "/stream"
        try stream.write(toFile: input, atomically: true, encoding: .utf8)
        try box.git(["-c", "core.fsync=none", "fast-import", "--quiet", "--import-marks-if-exists=/dev/null"], in: dir, stdinFile: input)
        let tree = try box.git(["ls-tree", "refs/notes/deploys"], in: dir)
        #expect(tree.contains("040000 tree "))  // fanned out

        let ledger = Ledger(repository: try open(dir))
        let entries = try ledger.entries().entries
        #expect(entries.count == count)
        #expect(entries.first?.record.version == String(count))
        // The reader walks the fanned-out tree itself.
        let json = try ledger.history(HistoryQuery(), format: .json, cache: false)
        #expect(String(decoding: json.bytes, as: UTF8.self) == LedgerEntry.jsonArray(entries))

        try ledger.append(sampleRecord(alias: "prod", version: "600", time: "2030-01-01T00:00:00Z"), to: "many", author: .lambdaDeploy)
        let shown = try box.git(["notes", "--ref=deploys", "show", "many"], in: dir)
        #expect(shown.split(separator: "\n").count == 2)
        #expect(try ledger.count() == count + 1)
        try box.git(["fsck", "--no-progress"], in: dir)
    }
}
