import Foundation
import Testing
@testable import DeployLedger

/// The reader reads note blobs in pack order (so delta chains resolve once); the order comes from
/// the pack index files, read with bounds checks.
@Suite struct PackOrderTests {
    /// A repository whose notes are packed (by `git gc`) with deltas between them.
    static func packedLedger(_ box: Sandbox, notes: Int = 120) throws -> (dir: String, ledger: Ledger) {
        let dir = try box.makeRepository(commits: 1)
        var stream = ""
        for i in 1...notes {
            stream += "commit refs/heads/many\nmark :\(i)\ncommitter t <t@t> \(1_700_000_000 + i) +0000\ndata 2\nc\n"
            if i == 1 { stream += "from refs/heads/main\n" }
        }
        stream += "commit refs/notes/deploys\ncommitter t <t@t> 1700001000 +0000\ndata 1\nn\n"
        for i in 1...notes {
            var record = sampleRecord(version: String(i), time: DeployRecord.timestamp(Date(timeIntervalSince1970: Double(1_700_000_000 + i))))
            record.error = i % 7 == 0 ? "not a record line follows" : nil
            var text = record.jsonLine() + "\n"
            if i % 7 == 0 { text += "hand edit \(i)\n" }
            stream += "N inline :\(i)\ndata \(text.utf8.count)\n\(text)\n"
        }
        try stream.write(toFile: box.path + "/stream", atomically: true, encoding: .utf8)
        try box.git(["fast-import", "--quiet"], in: dir, stdinFile: box.path + "/stream")
        try box.git(["gc", "-q", "--aggressive"], in: dir)
        return (dir, Ledger(repository: try open(dir)))
    }

    @Test func positionsFollowThePackOffsets() throws {
        let box = try Sandbox()
        let (dir, ledger) = try Self.packedLedger(box)
        let order = PackOrder(repository: ledger.repository)
        let index = try box.git(["rev-parse", "--git-path", "objects/pack"], in: dir).trimmingCharacters(in: .whitespacesAndNewlines)
        let idx = try #require(try FileManager.default.contentsOfDirectory(atPath: dir + "/" + index).first { $0.hasSuffix(".idx") })
        // `git verify-pack -v`: "<id> <type> <size> <size-in-pack> <offset> ...".
        let listing = try box.git(["verify-pack", "-v", dir + "/" + index + "/" + idx], in: dir)
        var checked = 0
        for line in listing.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 5, fields[0].count == 40, let id = ObjectID(hex: String(fields[0])), let offset = UInt64(fields[4]) else { continue }
            #expect(order.position(of: id) == offset)
            checked += 1
        }
        #expect(checked > 100)
        #expect(order.position(of: try #require(ObjectID(hex: String(repeating: "0", count: 40)))) == .max)
    }

    /// Reading in pack order changes nothing in the answer: rows and problems come out in the
    /// same order as in tree order and as from a loose (unpacked) copy of the same notes.
    @Test func packOrderDoesNotChangeTheAnswer() throws {
        let box = try Sandbox()
        let (dir, packed) = try Self.packedLedger(box)
        let loose = try box.makeRepository("loose")
        // Fetched objects stay loose below the unpack limit: no pack, so tree order.
        try box.git(["-c", "fetch.unpackLimit=100000", "fetch", "-q", dir, "refs/notes/deploys:refs/notes/deploys", "refs/heads/many:refs/heads/many"], in: loose)
        #expect(try FileManager.default.contentsOfDirectory(atPath: loose + "/.git/objects/pack").isEmpty)
        let looseLedger = Ledger(repository: try open(loose))
        for format in [HistoryFormat.json, .text] {
            let packOrder = try packed.history(HistoryQuery(), format: format, cache: false, packOrderFrom: 0)
            let treeOrder = try packed.history(HistoryQuery(), format: format, cache: false, packOrderFrom: .max)
            let fromLoose = try looseLedger.history(HistoryQuery(), format: format, cache: false, packOrderFrom: 0)
            #expect(packOrder.bytes == treeOrder.bytes)
            #expect(packOrder.bytes == fromLoose.bytes)
            #expect(packOrder.problems == treeOrder.problems)
            #expect(packOrder.problems == fromLoose.problems)
            #expect(packOrder.problems.count == 120 / 7)
        }
        let problems = try packed.history(HistoryQuery(), format: .json, cache: false, packOrderFrom: 0).problems
        let listed = try box.git(["notes", "--ref=deploys", "list"], in: dir).split(separator: "\n").map { String($0.split(separator: " ")[1]) }
        let problemCommits = problems.map { String($0.dropFirst("note on ".count).prefix(40)) }
        #expect(problemCommits == listed.filter { problemCommits.contains($0) }, "problems in notes-tree order")
    }

    struct Damage: Sendable, CustomStringConvertible {
        var description: String
        var apply: @Sendable ([UInt8]) -> [UInt8]
    }

    /// A damaged index never crashes the reader and never changes its answer.
    @Test(arguments: [
        Damage(description: "truncated") { Array($0.prefix(600)) },
        Damage(description: "empty") { _ in [] },
        Damage(description: "huge count") { bytes in
            var copy = bytes
            for i in (8 + 255 * 4)..<(8 + 256 * 4) { copy[i] = 0x7F }
            return copy
        },
        Damage(description: "large offsets out of range") { bytes in
            var copy = bytes
            let count = Int(UInt32(copy[8 + 255 * 4]) << 24 | UInt32(copy[8 + 255 * 4 + 1]) << 16 | UInt32(copy[8 + 255 * 4 + 2]) << 8 | UInt32(copy[8 + 255 * 4 + 3]))
            let offsets = 8 + 256 * 4 + count * 24
            for n in 0..<count { copy[offsets + n * 4] |= 0x80 }
            return copy
        },
        Damage(description: "fan-out out of order") { bytes in
            var copy = bytes
            for i in 8..<(8 + 128 * 4) { copy[i] = 0xFF }
            return copy
        },
        Damage(description: "wrong version") { bytes in
            var copy = bytes
            copy[7] = 3
            return copy
        },
    ])
    func aDamagedPackIndexIsHarmless(_ damage: Damage) throws {
        let box = try Sandbox()
        let (dir, ledger) = try Self.packedLedger(box)
        let expected = try ledger.history(HistoryQuery(), format: .json, cache: false)
        let packDir = dir + "/.git/objects/pack"
        let idx = try #require(try FileManager.default.contentsOfDirectory(atPath: packDir).first { $0.hasSuffix(".idx") })
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: packDir + "/" + idx)))
        // The damaged copy sits in a directory of its own (libgit2 keeps reading the real pack).
        let damaged = box.path + "/damaged-pack"
        try FileManager.default.createDirectory(atPath: damaged, withIntermediateDirectories: true)
        try Data(damage.apply(good)).write(to: URL(fileURLWithPath: damaged + "/pack-1.idx"))
        try Data(good).write(to: URL(fileURLWithPath: damaged + "/pack-2.idx"))
        let order = PackOrder(packDirectory: damaged)
        let reference = PackOrder(packDirectory: packDir)
        var found = 0
        for line in try box.git(["notes", "--ref=deploys", "list"], in: dir).split(separator: "\n") {
            guard let id = ObjectID(hex: String(line.prefix(40))) else { continue }
            let position = order.position(of: id)
            // Found in the good copy (pack number 1) or, where the damage leaves it readable, the
            // damaged one at the right offset; never a wrong offset.
            if position != .max {
                #expect(position & 0xFFFF_FFFF_FFFF == reference.position(of: id) & 0xFFFF_FFFF_FFFF || position >> 48 == 1)
                found += 1
            }
        }
        #expect(found > 0)
        // And reading the ledger (with its real index) gives the same answer as ever.
        #expect(try ledger.history(HistoryQuery(), format: .json, cache: false).bytes == expected.bytes)
    }
}
