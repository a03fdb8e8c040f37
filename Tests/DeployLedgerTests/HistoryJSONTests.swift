import Foundation
import Testing
@testable import DeployLedger

/// `Ledger.historyJSON`: the verbatim-line path and the per-notes-commit cache must print exactly
/// what encoding the parsed records prints, for every kind of line a note can hold.
@Suite struct HistoryJSONTests {
    /// Note lines, canonical or not, that must all come out as the encoder would print them.
    static let handWrittenLines: [String] = [
        // Whitespace, unknown keys, nulls, a missing schema and region, keys out of order.
        #"{ "alias": "dev", "function": "orders", "result": "deployed", "time": "2024-05-01T09:00:00Z", "tool": "x", "trigger": "manual", "schema": 1, "region": "r" }"#,
        #"{"alias":"dev","extra":{"a":[1,2]},"function":"orders","region":"r","result":"deployed","schema":1,"time":"2024-05-01T09:01:00Z","tool":"x","trigger":"ci"}"#,
        #"{"actor":null,"alias":"dev","function":"orders","region":"r","result":"failed","schema":1,"time":"2024-05-01T09:02:00Z","tool":"x","trigger":"ci"}"#,
        #"{"alias":"dev","function":"orders","result":"deployed","time":"2024-05-01T09:03:00Z","trigger":"hook"}"#,
        #"{"time":"2024-05-01T09:04:00Z","alias":"dev","function":"orders","region":"r","result":"deployed","schema":1,"tool":"x","trigger":"ci"}"#,
        // Escapes the writer prints differently (\/ and \u), its own escapes, non-ASCII text.
        #"{"alias":"dev","buildUrl":"https:\/\/ci\/1","function":"orders","region":"r","result":"deployed","schema":1,"time":"2024-05-01T09:05:00Z","tool":"x","trigger":"ci"}"#,
        #"{"alias":"dev","error":"bad \"quote\" \\ tab\t\u0001 \u00e9","function":"orders","region":"r","result":"failed","schema":1,"time":"2024-05-01T09:06:00Z","tool":"x","trigger":"ci"}"#,
        #"{"actor":"Zoë","alias":"dev","function":"orders","region":"r","result":"deployed","schema":1,"time":"2024-05-01T09:07:00Z","tool":"x","trigger":"ci"}"#,
        // Integers: a leading zero is not JSON (a problem); a large weight and -0 are records.
        #"{"alias":"dev","function":"orders","region":"r","result":"deployed","schema":01,"time":"2024-05-01T09:08:00Z","tool":"x","trigger":"ci"}"#,
        #"{"alias":"dev","function":"orders","region":"r","result":"deployed","schema":1,"time":"2024-05-01T09:09:00Z","tool":"x","trigger":"ci","weight":-0}"#,
        #"{"alias":"dev","function":"orders","region":"r","result":"deployed","schema":1,"time":"2024-05-01T09:10:00Z","tool":"x","trigger":"ci","weight":123456789012345678}"#,
        // A duplicate key (JSONDecoder takes it), a bad enum value, a CR, a line that is not JSON.
        #"{"alias":"dev","alias":"prod","function":"orders","region":"r","result":"deployed","schema":1,"time":"2024-05-01T09:11:00Z","tool":"x","trigger":"ci"}"#,
        #"{"alias":"dev","function":"orders","region":"r","result":"maybe","schema":1,"time":"2024-05-01T09:12:00Z","tool":"x","trigger":"ci"}"#,
        "{\"alias\":\"dev\",\"function\":\"orders\",\"region\":\"r\",\"result\":\"deployed\",\"schema\":1,\"time\":\"2024-05-01T09:13:00Z\",\"tool\":\"x\",\"trigger\":\"ci\"}\r",
        "rolled back by hand -- alice",
        "",
        // Same time as a canonical record below, on another commit: ties order by commit id.
        #"{"alias":"prod","function":"orders","region":"r","result":"deployed","schema":1,"time":"2024-05-02T00:00:00Z","tool":"x","trigger":"ci"}"#,
        // A time that is not ISO-8601 still sorts (as a string) and never matches --since.
        #"{"alias":"dev","function":"orders","region":"r","result":"deployed","schema":1,"time":"yesterday","tool":"x","trigger":"ci"}"#,
    ]

    /// What `history --json` printed before the verbatim path: scan, filter, sort by time string
    /// (stable), limit, encode.
    static func reference(_ ledger: Ledger, _ query: HistoryQuery) throws -> (json: String, problems: [String]) {
        let (entries, problems) = try ledger.scan()
        var filtered = entries.filter { entry in
            (query.alias == nil || entry.record.alias == query.alias)
                && (query.function == nil || entry.record.function == query.function)
                && (query.since.map { start in entry.record.date.map { $0 >= start } ?? false } ?? true)
        }
        filtered.sort { $0.record.time > $1.record.time }
        if let limit = query.limit { filtered = Array(filtered.prefix(limit)) }
        return (LedgerEntry.jsonArray(filtered), problems)
    }

    /// A repository whose notes hold records written by the ledger and every hand-written line.
    static func mixedLedger(_ box: Sandbox) throws -> (dir: String, ledger: Ledger) {
        let dir = try box.makeRepository(commits: 4)
        let ledger = Ledger(repository: try open(dir))
        try ledger.append(sampleRecord(alias: "dev", version: "1", time: "2024-05-02T00:00:00Z"), to: "HEAD~3", author: .lambdaDeploy)
        try ledger.append(sampleRecord(alias: "prod", version: "1", time: "2024-05-02T00:00:00Z"), to: "HEAD~2", author: .lambdaDeploy)
        var full = sampleRecord(alias: "prod", version: "2", time: "2024-05-03T00:00:00Z", result: .failed)
        full.dirty = true
        full.overrideProtection = false
        full.anyCommit = true
        full.weight = 10
        full.promotedFrom = "dev"
        full.previousVersion = "1"
        full.error = "alias \"prod\" moved: retry\nsecond line\\"
        try ledger.append(full, to: "HEAD~1", author: .lambdaDeploy)
        try box.write(handWrittenLines.joined(separator: "\n") + "\n", to: "note.txt", in: box.path)
        // `-C` stores the blob as is (`-m`/`-F` would clean up whitespace and CRs).
        let blob = try box.git(["hash-object", "-w", box.path + "/note.txt"], in: dir).trimmingCharacters(in: .whitespacesAndNewlines)
        try box.git(["notes", "--ref=deploys", "add", "-C", blob, "HEAD"], in: dir)
        try ledger.append(sampleRecord(alias: "dev", version: "5", time: "2024-05-04T00:00:00Z", function: "billing"), to: "HEAD", author: .lambdaDeploy)
        return (dir, ledger)
    }

    static let queries: [HistoryQuery] = [
        HistoryQuery(),
        HistoryQuery(alias: "prod"),
        HistoryQuery(alias: "dev", function: "orders"),
        HistoryQuery(function: "billing"),
        HistoryQuery(since: Date(timeIntervalSince1970: 1_714_608_000)),  // 2024-05-02T00:00:00Z
        HistoryQuery(limit: 3),
        HistoryQuery(alias: "nobody"),
    ]

    @Test(arguments: queries)
    func printsWhatEncodingTheRecordsPrints(query: HistoryQuery) throws {
        let box = try Sandbox()
        let (_, ledger) = try Self.mixedLedger(box)
        let expected = try Self.reference(ledger, query)
        let output = try ledger.historyJSON(query, cache: false)
        #expect(String(decoding: output.json, as: UTF8.self) == expected.json)
        #expect(output.problems == expected.problems)
        #expect(output.problems.count == 3)  // schema 01, bad result, not JSON
        // Split over threads (one note each here), the answer is the same.
        let threaded = try ledger.historyJSON(query, cache: false, parallelFrom: 1)
        #expect(Array(threaded.json) == Array(output.json))
        #expect(threaded.problems == output.problems)
    }

    @Test func recordsTheLedgerWritesArePrintedVerbatim() throws {
        var full = sampleRecord()
        full.dirty = false
        full.weight = 50
        full.error = "tab\there \"quoted\" back\\slash"
        full.previousVersion = "0"
        let minimal = DeployRecord(time: "2024-01-01T00:00:00Z", function: "f", region: "", alias: "a", result: .unchanged, trigger: .rollback, tool: "")
        for record in [full, minimal, sampleRecord()] {
            let text = try record.jsonLine()
            let shape = Array(text.utf8).withUnsafeBytes { CanonicalRecordLine.shape(of: $0) }
            #expect(shape != nil, "not taken verbatim: \(text)")
        }
    }

    /// The cache keeps printed JSON across versions of the tool, keyed by
    /// `HistoryCache.formatVersion`: when this pinned output changes, bump that version too, or
    /// users keep seeing the old shape until their notes ref moves.
    @Test func theCachedShapeIsPinnedToTheFormatVersion() throws {
        var record = sampleRecord()
        record.weight = 5
        record.dirty = true
        let json = String(decoding: HistoryTable.pinnedShape(record), as: UTF8.self)
        #expect(json == #"[{"account":"123456789012","actor":"octocat","alias":"dev","branch":"main","build":"42","buildUrl":"https://ci.example.com/b/42","ci":"github-actions","codeSha256":"abc=","commit":"0000000000000000000000000000000000000000","dirty":true,"function":"orders","region":"eu-west-1","result":"deployed","schema":1,"time":"2024-05-01T12:00:00Z","tool":"lambda-deploy 0.1.0","trigger":"ci","version":"1","weight":5}]"#)
        #expect(HistoryCache.formatVersion == 2)
    }

    @Test func anEmptyOrMissingLedgerPrintsAnEmptyArray() throws {
        let box = try Sandbox()
        let ledger = Ledger(repository: try open(try box.makeRepository()))
        #expect(Array(try ledger.historyJSON(HistoryQuery()).json) == Array("[]".utf8))
    }

    /// Entries in the notes tree that are not notes (a name that is not hex, a blob in a fan-out
    /// directory's place) are skipped, as git skips them.
    @Test func entriesThatAreNotNotesAreSkipped() throws {
        let box = try Sandbox()
        let (dir, ledger) = try Self.mixedLedger(box)
        let expected = try Self.reference(ledger, HistoryQuery())
        let blob = try box.git(["hash-object", "-w", "--stdin"], in: dir, stdinFile: box.path + "/note.txt").trimmingCharacters(in: .whitespacesAndNewlines)
        var listing = try box.git(["ls-tree", "refs/notes/deploys"], in: dir)
        listing += "100644 blob \(blob)\tREADME\n100644 blob \(blob)\tab\n"
        try box.write(listing, to: "tree.txt", in: box.path)
        let tree = try box.git(["mktree"], in: dir, stdinFile: box.path + "/tree.txt").trimmingCharacters(in: .whitespacesAndNewlines)
        let commit = try box.git(["commit-tree", tree, "-p", "refs/notes/deploys", "-m", "extra"], in: dir).trimmingCharacters(in: .whitespacesAndNewlines)
        try box.git(["update-ref", "refs/notes/deploys", commit], in: dir)
        let output = try ledger.historyJSON(HistoryQuery(), cache: false)
        #expect(String(decoding: output.json, as: UTF8.self) == expected.json)
        #expect(output.problems == expected.problems)
    }

    // MARK: Cache

    @Test func theNextHistoryAfterAnAppendShowsTheNewRecord() throws {
        let box = try Sandbox()
        let (dir, ledger) = try Self.mixedLedger(box)
        let first = try ledger.historyJSON(HistoryQuery())
        #expect(!first.fromCache)
        let again = try ledger.historyJSON(HistoryQuery())
        #expect(again.fromCache)
        #expect(Array(again.json) == Array(first.json))
        #expect(again.problems == first.problems)

        try ledger.append(sampleRecord(alias: "prod", version: "77", time: "2030-01-01T00:00:00Z"), to: "HEAD", author: .lambdaDeploy)
        let after = try ledger.historyJSON(HistoryQuery())
        #expect(!after.fromCache)
        #expect(String(decoding: after.json, as: UTF8.self) == (try Self.reference(ledger, HistoryQuery())).json)
        #expect(String(decoding: after.json, as: UTF8.self).contains(#""time":"2030-01-01T00:00:00Z","tool":"lambda-deploy 0.1.0","trigger":"ci","version":"77"}"#))

        // A record added by plain git (another tool, a fetch) moves the ref just the same.
        try box.git(["notes", "--ref=deploys", "append", "-m", "note by hand", "HEAD~1"], in: dir)
        let byGit = try ledger.historyJSON(HistoryQuery())
        #expect(!byGit.fromCache)
        #expect(byGit.problems.count == 4)

        // Only the current notes commit's file is kept.
        let cache = HistoryCache(repository: ledger.repository)
        let files = try FileManager.default.contentsOfDirectory(atPath: cache.directory).filter { $0.hasPrefix("history-") }
        let tip = try #require(try ledger.repository.referenceTarget(ledger.notesRef))
        #expect(files == [(cache.path(for: tip) as NSString).lastPathComponent])
    }

    @Test func filteredQueriesNeitherReadNorWriteTheCache() throws {
        let box = try Sandbox()
        let (_, ledger) = try Self.mixedLedger(box)
        #expect(!(try ledger.historyJSON(HistoryQuery(limit: 2))).fromCache)
        let cache = HistoryCache(repository: ledger.repository)
        #expect(!FileManager.default.fileExists(atPath: cache.directory))
        _ = try ledger.historyJSON(HistoryQuery())
        let limited = try ledger.historyJSON(HistoryQuery(limit: 2))
        #expect(!limited.fromCache)
        #expect(String(decoding: limited.json, as: UTF8.self) == (try Self.reference(ledger, HistoryQuery(limit: 2))).json)
    }

    struct Damage: Sendable, CustomStringConvertible {
        var description: String
        var apply: @Sendable ([UInt8]) -> [UInt8]
    }

    static let damages: [Damage] = [
        Damage(description: "truncated") { Array($0.prefix($0.count - 7)) },
        Damage(description: "one JSON byte changed") { bytes in
            var copy = bytes
            copy[copy.count / 2] ^= 0x20
            return copy
        },
        Damage(description: "empty") { _ in [] },
        Damage(description: "garbage") { _ in Array("[{\"alias\":\"stale\"}]".utf8) },
        Damage(description: "other format version") { bytes in
            var copy = bytes
            copy[4] &+= 1
            return copy
        },
        Damage(description: "extra bytes") { $0 + [0x0A] },
    ]

    /// The cache checksum (four lanes over 32-byte blocks) must notice any flipped bit, a word
    /// moved to another lane, blocks in another order and a shorter body.
    @Test func theCacheChecksumNoticesFlipsSwapsAndTruncation() {
        let body = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        func sum(_ bytes: [UInt8]) -> UInt64 { bytes.withUnsafeBytes { HistoryCache.checksum($0) } }
        let original = sum(body)
        #expect(sum(body) == original)
        for position in 0..<body.count {
            var flipped = body
            flipped[position] ^= 1 << UInt8(position % 8)
            #expect(sum(flipped) != original, "bit flip at \(position) not noticed")
        }
        let lanesSwapped = Array(body[8..<16] + body[0..<8] + body[16...])
        #expect(sum(lanesSwapped) != original)
        let blocksSwapped = Array(body[32..<64] + body[0..<32] + body[64...])
        #expect(sum(blocksSwapped) != original)
        #expect(sum(Array(body.dropLast())) != original)
    }

    @Test(arguments: damages)
    func aDamagedCacheFileIsIgnoredAndRebuilt(damage: Damage) throws {
        let box = try Sandbox()
        let (_, ledger) = try Self.mixedLedger(box)
        let expected = try Self.reference(ledger, HistoryQuery())
        _ = try ledger.historyJSON(HistoryQuery())
        let tip = try #require(try ledger.repository.referenceTarget(ledger.notesRef))
        let path = HistoryCache(repository: ledger.repository).path(for: tip)
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        try Data(damage.apply(good)).write(to: URL(fileURLWithPath: path))

        let output = try ledger.historyJSON(HistoryQuery())
        #expect(!output.fromCache)
        #expect(String(decoding: output.json, as: UTF8.self) == expected.json)
        #expect(output.problems == expected.problems)
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == good)
        #expect(try ledger.historyJSON(HistoryQuery()).fromCache)
    }

    @Test func aCacheFileOfAnotherNotesCommitIsNotUsed() throws {
        let box = try Sandbox()
        let (_, ledger) = try Self.mixedLedger(box)
        _ = try ledger.historyJSON(HistoryQuery())
        let cache = HistoryCache(repository: ledger.repository)
        let old = try #require(try ledger.repository.referenceTarget(ledger.notesRef))
        try ledger.append(sampleRecord(alias: "prod", version: "8", time: "2031-01-01T00:00:00Z"), to: "HEAD", author: .lambdaDeploy)
        let tip = try #require(try ledger.repository.referenceTarget(ledger.notesRef))
        // Someone copies the old commit's file to the new commit's name.
        try FileManager.default.copyItem(atPath: cache.path(for: old), toPath: cache.path(for: tip))
        let output = try ledger.historyJSON(HistoryQuery())
        #expect(!output.fromCache)
        #expect(String(decoding: output.json, as: UTF8.self).contains(#""version":"8""#))
    }

    @Test func concurrentWritersLeaveOneValidFile() throws {
        let box = try Sandbox()
        let (dir, ledger) = try Self.mixedLedger(box)
        let expected = try Self.reference(ledger, HistoryQuery()).json
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            do {
                let own = Ledger(repository: try open(dir))
                for _ in 0..<5 {
                    let output = try own.historyJSON(HistoryQuery())
                    if String(decoding: output.json, as: UTF8.self) != expected { failures.add("wrong output") }
                }
            } catch {
                failures.add(String(describing: error))
            }
        }
        #expect(failures.all.isEmpty)
        let cache = HistoryCache(repository: ledger.repository)
        let names = try FileManager.default.contentsOfDirectory(atPath: cache.directory)
        #expect(names.count == 1)
        #expect(try ledger.historyJSON(HistoryQuery()).fromCache)
    }
}

/// Collects failures from worker threads.
private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) {
        lock.lock()
        items.append(item)
        lock.unlock()
    }
    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
}
