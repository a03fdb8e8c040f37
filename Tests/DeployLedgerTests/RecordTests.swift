import Foundation
import Testing
@testable import DeployLedger

@Suite struct RecordTests {
    @Test func encodesOneSortedLineWithoutEscapedSlashes() throws {
        let line = sampleRecord().jsonLine()
        #expect(!line.contains("\n"))
        #expect(line.contains("\"buildUrl\":\"https://ci.example.com/b/42\""))
        #expect(line.hasPrefix("{\"account\":\"123456789012\",\"actor\":\"octocat\",\"alias\":\"dev\""))
        #expect(!line.contains("previousVersion"))  // nil optionals are left out
    }

    @Test func newlinesInsideValuesStayOnOneLine() throws {
        var record = sampleRecord(result: .failed)
        record.error = "UpdateAlias failed\nthrottled"
        let line = record.jsonLine()
        #expect(!line.contains("\n"))
        #expect(DeployRecord.parseNote(line).records == [record])
    }

    @Test func roundTripsThroughANote() throws {
        let a = sampleRecord(alias: "dev", version: "3")
        var b = sampleRecord(alias: "prod", version: "3")
        b.trigger = .promote
        b.promotedFrom = "dev"
        b.weight = 10
        let note = a.jsonLine() + "\n" + b.jsonLine() + "\n"
        let parsed = DeployRecord.parseNote(note)
        #expect(parsed.records == [a, b])
        #expect(parsed.problems.isEmpty)
    }

    @Test func ignoresUnknownKeysAndToleratesMissingOptionals() {
        let line = #"{"alias":"dev","function":"f","future":{"nested":[1,2]},"result":"deployed","time":"2024-01-01T00:00:00Z","trigger":"hook"}"#
        let parsed = DeployRecord.parseNote(line)
        #expect(parsed.problems.isEmpty)
        #expect(parsed.records.first?.schema == 1)
        #expect(parsed.records.first?.alias == "dev")
        #expect(parsed.records.first?.version == nil)
    }

    struct BadLine: Sendable, CustomStringConvertible {
        var line: String
        var mentions: String
        var description: String { line }
    }

    @Test(arguments: [
        BadLine(line: "deployed v3 to prod -- bob", mentions: "not a JSON record"),
        BadLine(line: #"{"alias":"dev"}"#, mentions: "missing"),
        BadLine(line: #"{"alias":"dev","function":"f","result":"exploded","time":"t","trigger":"ci"}"#, mentions: "result"),
        BadLine(line: #"{"alias":7,"function":"f","result":"deployed","time":"t","trigger":"ci"}"#, mentions: "alias"),
        BadLine(line: "[1,2,3]", mentions: "not a JSON record"),
        BadLine(line: #"{"alias":"dev""#, mentions: "not a JSON record"),
    ])
    func reportsBadLinesWithoutFailing(_ bad: BadLine) throws {
        let good = sampleRecord().jsonLine()
        let parsed = DeployRecord.parseNote(good + "\n" + bad.line + "\n\n" + good + "\n")
        #expect(parsed.records.count == 2)
        #expect(parsed.problems.count == 1)
        #expect(parsed.problems.first?.hasPrefix("line 2: ") == true)
        #expect(parsed.problems.first?.contains(bad.mentions) == true)
    }

    @Test func fuzzedBytesNeverCrashTheParser() throws {
        var generator = SystemRandomNumberGenerator()
        let seedLine = Array(sampleRecord().jsonLine().utf8)
        for round in 0..<3000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0..<300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                // Mutations of a valid line reach deeper into the decoder than pure noise.
                bytes = seedLine
                for _ in 0..<Int.random(in: 1...6, using: &generator) {
                    let index = Int.random(in: 0..<bytes.count, using: &generator)
                    switch Int.random(in: 0..<3, using: &generator) {
                    case 0: bytes[index] = UInt8.random(in: 0...255, using: &generator)
                    case 1: bytes.remove(at: index)
                    default: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: index)
                    }
                    if bytes.isEmpty { break }
                }
            }
            let lineCount = bytes.split(separator: 0x0A).count
            var seen = 0
            bytes.withUnsafeBytes { buffer in
                RecordLines.forEach(buffer) { _, line in
                    _ = RecordParser.parse(line)
                    seen += 1
                }
            }
            #expect(seen <= lineCount)
            _ = DeployRecord.parseNote(String(decoding: bytes, as: UTF8.self))
        }
    }

    /// The ledger's own parser is never more permissive than JSONDecoder (through the
    /// table-driven `Decodable`): whatever it accepts, JSONDecoder accepts with the same value.
    @Test func theParserAcceptsNothingJSONDecoderRejects() throws {
        var generator = SystemRandomNumberGenerator()
        var full = sampleRecord(result: .failed)
        full.previousVersion = "0"
        full.dirty = true
        full.overrideProtection = false
        full.anyCommit = true
        full.weight = 10
        full.promotedFrom = "dev"
        full.job = "3"
        full.attempt = "2"
        full.allowOlder = true
        full.skipCheck = false
        full.lintDisabled = "size,handler"
        full.error = "quote \" backslash \\ tab\t é \u{1B}[2J"
        let seeds = [
            full.jsonLine(),
            #"{"alias":"dev","function":"f","x":[1,{"y":null},true,-1.5e3],"result":"unchanged","schema":1,"time":"t","trigger":"rollback","weight":-5,"branch":"caf\u00e9 \ud83d\ude00"}"#,
        ]
        for seed in seeds {
            let bytes = Array(seed.utf8)
            let ours = bytes.withUnsafeBytes { try? RecordParser.parse($0).get() }
            #expect(ours != nil, "the parser must read \(seed)")
            #expect(ours == (try? JSONDecoder().decode(DeployRecord.self, from: Data(bytes))))
        }
        let alphabet = Array(#"{}[]":,\ 0123456789-.eEtrufalsnu"#.utf8) + [0x0A, 0x80, 0xC3, 0x00, 0xFF]
        var accepted = 0
        for _ in 0..<5000 {
            var bytes = Array(seeds[Int.random(in: 0..<seeds.count, using: &generator)].utf8)
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                let byte = alphabet[Int.random(in: 0..<alphabet.count, using: &generator)]
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[index] = byte
                case 1: bytes.remove(at: index)
                default: bytes.insert(byte, at: index)
                }
            }
            guard let ours = bytes.withUnsafeBytes({ try? RecordParser.parse($0).get() }) else { continue }
            accepted += 1
            let decoded = try? JSONDecoder().decode(DeployRecord.self, from: Data(bytes))
            #expect(decoded == ours, "the parser accepted \(String(decoding: bytes, as: UTF8.self))")
        }
        #expect(accepted > 0)
    }

    @Test func timestampIsUTCSecondPrecisionWithZ() {
        let date = Date(timeIntervalSince1970: 1_714_564_800.75)
        #expect(DeployRecord.timestamp(date) == "2024-05-01T12:00:00Z")
    }

    struct TimeCase: Sendable, CustomStringConvertible {
        var text: String
        var seconds: Double?
        var description: String { text }
    }

    @Test(arguments: [
        TimeCase(text: "2024-05-01T12:00:00Z", seconds: 1_714_564_800),
        TimeCase(text: "1970-01-01T00:00:00Z", seconds: 0),
        TimeCase(text: "2024-05-01T12:00:00.5Z", seconds: 1_714_564_800.5),
        TimeCase(text: "2024-05-01T14:00:00+02:00", seconds: 1_714_564_800),
        TimeCase(text: "2000-02-29T00:00:00Z", seconds: 951_782_400),
        TimeCase(text: "yesterday", seconds: nil),
        TimeCase(text: "2024-13-01T12:00:00Z", seconds: nil),
        TimeCase(text: "2024-05-01T12:00:00", seconds: nil),
    ])
    func parsesRecordTimes(_ c: TimeCase) {
        #expect(RecordTime.secondsSince1970(c.text) == c.seconds)
    }

    @Test func ledgerEntryEncodesRecordKeysPlusCommit() throws {
        let entry = LedgerEntry(commit: String(repeating: "a", count: 40), record: sampleRecord())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let object = try JSONSerialization.jsonObject(with: encoder.encode(entry)) as? [String: Any]
        #expect(object?["commit"] as? String == entry.commit)
        #expect(object?["alias"] as? String == "dev")
    }
}
