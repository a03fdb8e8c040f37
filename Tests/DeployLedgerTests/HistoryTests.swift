import Foundation
import Testing
import Safety
@testable import DeployLedger

/// `Ledger.history`: the one reader's verbatim-line path and the per-notes-commit cache must print
/// exactly what decoding every note and encoding the records prints, for every kind of line a
/// note can hold, in text and JSON, in one order.
@Suite struct HistoryTests {
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
        // A duplicate key (readers could take either copy: a problem), a bad enum value, a CR, a
        // line that is not JSON.
        #"{"alias":"dev","alias":"prod","function":"orders","region":"r","result":"deployed","schema":1,"time":"2024-05-01T09:11:00Z","tool":"x","trigger":"ci"}"#,
        #"{"alias":"dev","function":"orders","region":"r","result":"maybe","schema":1,"time":"2024-05-01T09:12:00Z","tool":"x","trigger":"ci"}"#,
        "{\"alias\":\"dev\",\"function\":\"orders\",\"region\":\"r\",\"result\":\"deployed\",\"schema\":1,\"time\":\"2024-05-01T09:13:00Z\",\"tool\":\"x\",\"trigger\":\"ci\"}\r",
        "rolled back by hand -- alice",
        "",
        // Same time as a canonical record below, on another commit: ties order by commit id.
        #"{"alias":"prod","function":"orders","region":"r","result":"deployed","schema":1,"time":"2024-05-02T00:00:00Z","tool":"x","trigger":"ci"}"#,
        // A time that is not ISO-8601 sorts as the oldest and never matches --since.
        #"{"alias":"dev","function":"orders","region":"r","result":"deployed","schema":1,"time":"yesterday","tool":"x","trigger":"ci"}"#,
    ]

    /// The answer built without the ledger's reader: every note as `git notes` lists and shows
    /// it, each line decoded, filtered, sorted by the parsed instant (newest first), then commit
    /// id, then line order, limited, and encoded (JSON) or rendered (text).
    static func reference(_ box: Sandbox, _ dir: String, _ query: HistoryQuery) throws -> (json: String, text: String, problems: [String]) {
        var rows: [(entry: LedgerEntry, instant: Double, order: Int)] = []
        var problems: [String] = []
        let listing = try box.git(["notes", "--ref=deploys", "list"], in: dir).split(separator: "\n")
        for item in listing {
            let parts = item.split(separator: " ")
            guard parts.count == 2 else { continue }
            let commit = String(parts[1])
            let blob = try box.git(["cat-file", "blob", String(parts[0])], in: dir)
            var number = 0
            // Bytes, not Characters: "\r\n" is one Character and would join two lines.
            for line in Array(blob.utf8).split(separator: 0x0A, omittingEmptySubsequences: false) {
                number += 1
                let text = String(decoding: line, as: UTF8.self)
                guard !text.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) else { continue }
                let parsed = DeployRecord.parseNote(text)
                if let record = parsed.records.first {
                    rows.append((LedgerEntry(commit: commit, record: record.maskingUserinfo()), record.date?.timeIntervalSince1970 ?? -.infinity, rows.count))
                } else {
                    problems += parsed.problems.map { "note on \(commit) line \(number): " + $0.dropFirst("line 1: ".count) }
                }
            }
        }
        var filtered = rows.filter { row in
            (query.alias == nil || row.entry.record.alias == query.alias)
                && (query.function == nil || row.entry.record.function == query.function)
                && (query.region == nil || row.entry.record.region == query.region)
                && (query.since.map { row.instant >= $0.timeIntervalSince1970 } ?? true)
        }
        filtered.sort { l, r in
            if l.instant != r.instant { return l.instant > r.instant }
            if l.entry.commit != r.entry.commit { return l.entry.commit < r.entry.commit }
            return l.order < r.order
        }
        if let limit = query.limit { filtered = Array(filtered.prefix(limit)) }
        let entries = filtered.map(\.entry)
        let text = entries.map { $0.record.historyLine(commit: $0.commit) + "\n" }.joined()
        return (LedgerEntry.jsonArray(entries), text, problems)
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
        HistoryQuery(region: "r"),
    ]

    @Test(arguments: queries)
    func printsWhatDecodingEveryNotePrints(query: HistoryQuery) throws {
        let box = try Sandbox()
        let (dir, ledger) = try Self.mixedLedger(box)
        let expected = try Self.reference(box, dir, query)
        let json = try ledger.history(query, format: .json, cache: false)
        #expect(String(decoding: json.bytes, as: UTF8.self) == expected.json)
        #expect(json.problems.sorted() == expected.problems.sorted())
        #expect(json.problems.count == 4)  // schema 01, a duplicate key, bad result, not JSON
        let text = try ledger.history(query, format: .text, cache: false)
        #expect(String(decoding: text.bytes, as: UTF8.self) == expected.text)
        #expect(text.isEmpty == expected.text.isEmpty)
    }

    /// D1 (issue 14): a second-precision time next to a millisecond one sorts by the instant in
    /// text and JSON alike (bytewise, `…17Z` sorted after `…17.500Z`: `Z` > `.`).
    @Test func textAndJSONAgreeOnOrderAcrossTimePrecisions() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository(commits: 3)
        let ledger = Ledger(repository: try open(dir))
        try ledger.append(sampleRecord(version: "1", time: "2026-11-24T20:39:17Z"), to: "HEAD~2", author: .lambdaDeploy)
        try ledger.append(sampleRecord(version: "2", time: "2026-11-24T20:39:17.500Z"), to: "HEAD~1", author: .lambdaDeploy)
        try ledger.append(sampleRecord(version: "3", time: "2026-11-24T20:39:16.999Z"), to: "HEAD", author: .lambdaDeploy)
        let json = try ledger.history(HistoryQuery(), format: .json, cache: false)
        let versions = try #require(try JSONSerialization.jsonObject(with: Data(json.bytes)) as? [[String: Any]]).compactMap { $0["version"] as? String }
        #expect(versions == ["2", "1", "3"])
        let text = String(decoding: try ledger.history(HistoryQuery(), format: .text, cache: false).bytes, as: UTF8.self)
        let textVersions = text.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true)[2] }
        #expect(textVersions == ["v2", "v1", "v3"])
        #expect(try ledger.entries().entries.map(\.record.version) == ["2", "1", "3"])
    }

    @Test func recordsTheLedgerWritesArePrintedVerbatim() throws {
        var full = sampleRecord()
        full.dirty = false
        full.weight = 50
        full.error = "tab\there \"quoted\" back\\slash"
        full.previousVersion = "0"
        let minimal = DeployRecord(time: "2024-01-01T00:00:00Z", function: "f", region: "", alias: "a", result: .unchanged, trigger: .rollback, tool: "")
        var newFields = sampleRecord()
        newFields.job = "2"
        newFields.attempt = "1"
        newFields.allowOlder = true
        newFields.skipCheck = false
        newFields.lintDisabled = "a,b"
        newFields.result = .superseded
        newFields.supersededByCommit = String(repeating: "c", count: 40)
        newFields.supersededByVersion = "9"
        for record in [full, minimal, sampleRecord(), newFields] {
            let text = record.jsonLine()
            let shape = Array(text.utf8).withUnsafeBytes { CanonicalRecordLine.shape(of: $0) }
            #expect(shape != nil, "not taken verbatim: \(text)")
        }
    }

    /// The text line rebuilt from the record with String operations: every value through
    /// `URLText.maskingUserinfo` and `DisplayText.escaped`, in the documented columns.
    static func referenceLine(_ r: DeployRecord, commit: String) -> String {
        func d(_ value: String) -> String { DisplayText.escaped(URLText.maskingUserinfo(value)) }
        var version = r.version.map { "v" + d($0) } ?? "-"
        if let previous = r.previousVersion, previous != r.version { version += " (was \(d(previous)))" }
        if let weight = r.weight { version += " \(weight)%" }
        var columns = [d(r.time), d(r.function) + ":" + d(r.alias), version, String(commit.prefix(12)), r.branch.map(d) ?? "-",
                       r.trigger.rawValue, r.result.rawValue]
        var place: [String] = []
        if let ci = r.ci {
            var text = d(ci)
            if let build = r.build { text += " #" + d(build) }
            if let job = r.job { text += " job " + d(job) }
            if let attempt = r.attempt { text += " attempt " + d(attempt) }
            place.append(text)
        }
        if let actor = r.actor { place.append("by " + d(actor)) }
        if r.overrideProtection == true { place.append("OVERRIDE") }
        if r.dirty == true { place.append("dirty") }
        if r.allowOlder == true { place.append("ALLOW-OLDER") }
        if r.skipCheck == true { place.append("SKIP-CHECK") }
        if let lint = r.lintDisabled { place.append("lint off: " + d(lint)) }
        if r.supersededByVersion != nil || r.supersededByCommit != nil {
            var text = "superseded"
            if let version = r.supersededByVersion { text += " by v" + d(version) }
            if let commit = r.supersededByCommit {
                let isID = commit.utf8.count == 40 && commit.allSatisfy(\.isHexDigit)
                text += " (" + (isID ? String(commit.prefix(12)) : d(commit)) + ")"
            }
            place.append(text)
        }
        if let error = r.error { place.append("error: " + d(error)) }
        if !place.isEmpty { columns.append(place.joined(separator: " ")) }
        return columns.joined(separator: "  ")
    }

    /// The byte-level renderer (verbatim lines, and lines written again) prints exactly the
    /// reference line for records full of hostile and ordinary values.
    @Test func theTextLineIsTheEscapedReferenceLine() throws {
        let pool = ["main", "feature/x", "a\nb", "\u{1B}[2J", "https://u:p4ss@h/x", "x@y", "Zoë", "\u{202E}rtl", "\"quoted\"",
                    "back\\slash", "tab\there", "\u{7F}", "\u{85}", "", "1.2", "   ", "#", "%", "\r", "\u{0}",
                    String(repeating: "c", count: 40), String(repeating: "F", count: 40)]
        var generator = SystemRandomNumberGenerator()
        func pick() -> String { pool[Int.random(in: 0..<pool.count, using: &generator)] }
        func maybe() -> String? { Bool.random(using: &generator) ? pick() : nil }
        func flag() -> Bool? { [true, false, nil][Int.random(in: 0..<3, using: &generator)] }
        let box = try Sandbox()
        let dir = try box.makeRepository()
        let head = try box.git(["rev-parse", "HEAD"], in: dir).trimmingCharacters(in: .whitespacesAndNewlines)
        var records: [DeployRecord] = []
        for i in 0..<80 {
            var r = DeployRecord(
                time: DeployRecord.timestamp(Date(timeIntervalSince1970: 1_700_000_000 + Double(i))), function: pick(), region: pick(),
                alias: pick(), result: DeployRecord.Outcome.allCases.randomElement(using: &generator) ?? .deployed,
                trigger: DeployRecord.Trigger.allCases.randomElement(using: &generator) ?? .ci, tool: pick())
            r.version = maybe(); r.previousVersion = Bool.random(using: &generator) ? r.version : maybe()
            r.weight = Bool.random(using: &generator) ? Int.random(in: -5...100, using: &generator) : nil
            r.ci = maybe(); r.build = maybe(); r.job = maybe(); r.attempt = maybe(); r.branch = maybe(); r.actor = maybe()
            r.dirty = flag(); r.overrideProtection = flag(); r.allowOlder = flag(); r.skipCheck = flag()
            r.lintDisabled = maybe(); r.supersededByVersion = maybe(); r.supersededByCommit = maybe(); r.error = maybe()
            r.buildUrl = maybe(); r.account = maybe(); r.codeSha256 = maybe(); r.promotedFrom = maybe()
            #expect(r.historyLine(commit: head) == Self.referenceLine(r, commit: head), "\(r.jsonLine())")
            records.append(r)
        }
        let ledger = Ledger(repository: try open(dir))
        try ledger.append(records.map { RecordOnCommit($0, on: "HEAD") }, author: .lambdaDeploy)
        let text = String(decoding: try ledger.history(HistoryQuery(), format: .text, cache: false).bytes, as: UTF8.self)
        let expected = records.reversed().map { Self.referenceLine($0, commit: head) + "\n" }.joined()
        #expect(text == expected)
        #expect(!text.unicodeScalars.contains { DisplayText.needsEscape($0) && $0 != "\n" })
    }

    /// The printed shape: keys sorted, `commit` in its sorted place, nil optionals left out.
    @Test func thePrintedShapeIsPinned() throws {
        var record = sampleRecord()
        record.weight = 5
        record.dirty = true
        record.job = "1"
        let json = LedgerEntry.jsonArray([LedgerEntry(commit: String(repeating: "0", count: 40), record: record)])
        #expect(json == #"[{"account":"123456789012","actor":"octocat","alias":"dev","branch":"main","build":"42","buildUrl":"https://ci.example.com/b/42","ci":"github-actions","codeSha256":"abc=","commit":"0000000000000000000000000000000000000000","dirty":true,"function":"orders","job":"1","region":"eu-west-1","result":"deployed","schema":1,"time":"2024-05-01T12:00:00Z","tool":"lambda-deploy 0.1.0","trigger":"ci","version":"1","weight":5}]"#)
    }

    /// The cache's format version comes from the record table: a field added, dropped, renamed
    /// or changing kind gives another version, so no cached output of the old shape is used.
    @Test func theCacheFormatFollowsTheRecordTable() {
        let fields = RecordSchema.fields
        #expect(HistoryCache.formatVersion == HistoryCache.formatVersion(schema: RecordSchema.fingerprint(of: fields)))
        let variants = [Array(fields.dropLast()), Array(fields.dropFirst()), fields.reversed(), fields + [fields[0]]]
        for variant in variants {
            #expect(HistoryCache.formatVersion(schema: RecordSchema.fingerprint(of: variant)) != HistoryCache.formatVersion)
        }
    }

    @Test func anEmptyOrMissingLedgerPrintsAnEmptyArrayAndNoLines() throws {
        let box = try Sandbox()
        let ledger = Ledger(repository: try open(try box.makeRepository()))
        let json = try ledger.history(HistoryQuery(), format: .json)
        #expect(json.bytes == Array("[]".utf8))
        #expect(json.isEmpty)
        let text = try ledger.history(HistoryQuery(), format: .text)
        #expect(text.bytes.isEmpty)
        #expect(text.isEmpty)
    }

    // MARK: Cache

    @Test(arguments: [HistoryFormat.json, .text])
    func theNextHistoryAfterAnAppendShowsTheNewRecord(format: HistoryFormat) throws {
        let box = try Sandbox()
        let (dir, ledger) = try Self.mixedLedger(box)
        let first = try ledger.history(HistoryQuery(), format: format)
        #expect(!first.fromCache)
        let again = try ledger.history(HistoryQuery(), format: format)
        #expect(again.fromCache)
        #expect(again.bytes == first.bytes)
        #expect(again.problems == first.problems)
        #expect(again.isEmpty == first.isEmpty)

        try ledger.append(sampleRecord(alias: "prod", version: "77", time: "2030-01-01T00:00:00Z"), to: "HEAD", author: .lambdaDeploy)
        let after = try ledger.history(HistoryQuery(), format: format)
        #expect(!after.fromCache)
        let expected = try Self.reference(box, dir, HistoryQuery())
        #expect(String(decoding: after.bytes, as: UTF8.self) == (format == .json ? expected.json : expected.text))

        // A record added by plain git (another tool, a fetch) moves the ref just the same.
        try box.git(["notes", "--ref=deploys", "append", "-m", "note by hand", "HEAD~1"], in: dir)
        let byGit = try ledger.history(HistoryQuery(), format: format)
        #expect(!byGit.fromCache)
        #expect(byGit.problems.count == 5)

        // Only the current notes commit's files are kept.
        let cache = HistoryCache(repository: ledger.repository)
        let files = try FileManager.default.contentsOfDirectory(atPath: cache.directory).filter { $0.hasPrefix("history-") }
        let tip = try #require(try ledger.repository.referenceTarget(ledger.notesRef))
        #expect(files == [(cache.path(for: tip, format: format) as NSString).lastPathComponent])
    }

    @Test func textAndJSONAreCachedSideBySide() throws {
        let box = try Sandbox()
        let (_, ledger) = try Self.mixedLedger(box)
        let json = try ledger.history(HistoryQuery(), format: .json)
        let text = try ledger.history(HistoryQuery(), format: .text)
        #expect(try ledger.history(HistoryQuery(), format: .json).fromCache)
        #expect(try ledger.history(HistoryQuery(), format: .text).fromCache)
        #expect(try ledger.history(HistoryQuery(), format: .json).bytes == json.bytes)
        #expect(try ledger.history(HistoryQuery(), format: .text).bytes == text.bytes)
    }

    @Test func filteredQueriesNeitherReadNorWriteTheCache() throws {
        let box = try Sandbox()
        let (dir, ledger) = try Self.mixedLedger(box)
        #expect(!(try ledger.history(HistoryQuery(limit: 2), format: .json)).fromCache)
        let cache = HistoryCache(repository: ledger.repository)
        #expect(!FileManager.default.fileExists(atPath: cache.directory))
        _ = try ledger.history(HistoryQuery(), format: .json)
        let limited = try ledger.history(HistoryQuery(limit: 2), format: .json)
        #expect(!limited.fromCache)
        #expect(String(decoding: limited.bytes, as: UTF8.self) == (try Self.reference(box, dir, HistoryQuery(limit: 2))).json)
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
        let (dir, ledger) = try Self.mixedLedger(box)
        let expected = try Self.reference(box, dir, HistoryQuery())
        _ = try ledger.history(HistoryQuery(), format: .json)
        let tip = try #require(try ledger.repository.referenceTarget(ledger.notesRef))
        let path = HistoryCache(repository: ledger.repository).path(for: tip, format: .json)
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        try Data(damage.apply(good)).write(to: URL(fileURLWithPath: path))

        let output = try ledger.history(HistoryQuery(), format: .json)
        #expect(!output.fromCache)
        #expect(String(decoding: output.bytes, as: UTF8.self) == expected.json)
        #expect(output.problems.sorted() == expected.problems.sorted())
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == good)
        #expect(try ledger.history(HistoryQuery(), format: .json).fromCache)
    }

    @Test func aCacheFileOfAnotherNotesCommitIsNotUsed() throws {
        let box = try Sandbox()
        let (_, ledger) = try Self.mixedLedger(box)
        _ = try ledger.history(HistoryQuery(), format: .json)
        let cache = HistoryCache(repository: ledger.repository)
        let old = try #require(try ledger.repository.referenceTarget(ledger.notesRef))
        try ledger.append(sampleRecord(alias: "prod", version: "8", time: "2031-01-01T00:00:00Z"), to: "HEAD", author: .lambdaDeploy)
        let tip = try #require(try ledger.repository.referenceTarget(ledger.notesRef))
        // Someone copies the old commit's file to the new commit's name.
        try FileManager.default.copyItem(atPath: cache.path(for: old, format: .json), toPath: cache.path(for: tip, format: .json))
        let output = try ledger.history(HistoryQuery(), format: .json)
        #expect(!output.fromCache)
        #expect(String(decoding: output.bytes, as: UTF8.self).contains(#""version":"8""#))
    }

    @Test func concurrentWritersLeaveOneValidFile() throws {
        let box = try Sandbox()
        let (dir, ledger) = try Self.mixedLedger(box)
        let expected = try Self.reference(box, dir, HistoryQuery()).json
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            do {
                let own = Ledger(repository: try open(dir))
                for _ in 0..<5 {
                    let output = try own.history(HistoryQuery(), format: .json)
                    if String(decoding: output.bytes, as: UTF8.self) != expected { failures.add("wrong output") }
                }
            } catch {
                failures.add(String(describing: error))
            }
        }
        #expect(failures.all.isEmpty)
        let cache = HistoryCache(repository: ledger.repository)
        let names = try FileManager.default.contentsOfDirectory(atPath: cache.directory)
        #expect(names.count == 1)
        #expect(try ledger.history(HistoryQuery(), format: .json).fromCache)
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
