internal import CLibgit2
public import Foundation
import Safety

/// Which records a ledger query selects.
public struct HistoryQuery: Sendable, Equatable {
    public var alias: String?
    public var function: String?
    public var region: String?
    /// Only records at or after this time.
    public var since: Date?
    /// At most this many entries (newest first); nil for all.
    public var limit: Int?

    public init(alias: String? = nil, function: String? = nil, region: String? = nil, since: Date? = nil, limit: Int? = nil) {
        self.alias = alias
        self.function = function
        self.region = region
        self.since = since
        self.limit = limit
    }

    /// No filter and no limit: every record (the answer the history cache keeps).
    var selectsEverything: Bool {
        alias == nil && function == nil && region == nil && since == nil && limit == nil
    }
}

/// The ledger's one reader: every record of a notes commit as a row of (the record's JSON line,
/// its parsed time, function, alias, region, commit), filtered and sorted once, and decoded into
/// a ``DeployRecord`` only for the rows a caller uses.
///
/// `history` over 10,000 records has to keep up with `git log --notes` (BENCHMARKS.md), and
/// decoding each line into a record only to print it again costs more than reading the notes.
/// Lines lambda-deploy wrote are already in the printed form, so ``CanonicalRecordLine`` checks
/// that a line is byte for byte what ``RecordWriter`` prints and such a line is kept verbatim;
/// any other line (hand edits, whitespace, unknown keys, `null`s, other escapes, a URL with
/// credentials) goes through ``RecordParser`` and the writer, so every row holds the writer's
/// form either way. A line that is not a record becomes a problem, never an error.
///
/// Order (D1 of issue 14: the same for text and JSON): newest first by the parsed instant
/// (`…17.500Z` after `…17Z`; a time that does not parse counts as oldest), then by commit id,
/// then by place in the notes tree.
final class LedgerRows {
    /// One record: its line in a chunk's arena and the values a query filters or sorts on.
    struct Row {
        /// The line without `commit`: `arena[start..<end]`.
        var start: Int32
        var end: Int32
        /// Where `"commit":"<id>",` goes in `history --json` (before the first key after it).
        var gap: Int32
        /// The unescaped values of `time`, `alias`, `function` and `region`, in the arena.
        var time: FieldRange
        var alias: FieldRange
        var function: FieldRange
        var region: FieldRange
        /// `time` in seconds since 1970; -infinity when it does not parse.
        var instant: Double
        var commit: ObjectID
        /// The `history` text line, in the chunk's ``Chunk/text`` (when the rows were read
        /// for text).
        var text: FieldRange = .absent
    }

    /// Rows and the bytes they point into (one chunk per read; keys name their chunk, so rows
    /// of several reads could be combined).
    final class Chunk {
        let arena = ByteArena()
        /// The rows' text lines, rendered while reading (only when reading for text).
        let text = ByteArena()
        var rows: [Row] = []
        var problems: [Problem] = []
    }

    /// A line that is not a record, with its note's place in the notes tree, so problems are
    /// reported in tree order whatever order the notes were read in.
    struct Problem {
        var treeOrder: Int
        var line: Int
        var text: String
    }

    /// A row's place in an answer.
    struct Key {
        var instant: Double
        var chunk: Int32
        var index: Int32
    }

    let chunks: [Chunk]

    init(chunks: [Chunk]) {
        self.chunks = chunks
    }

    /// The lines that are not records, in notes-tree order (as `git notes list` shows notes).
    var problems: [String] {
        chunks.flatMap(\.problems).sorted { ($0.treeOrder, $0.line) < ($1.treeOrder, $1.line) }.map(\.text)
    }

    var count: Int { chunks.reduce(0) { $0 + $1.rows.count } }

    // MARK: Reading

    /// Reads every note of `notesCommit` (the commit `ref` points at).
    ///
    /// The notes tree is walked (and checked) first, without reading any note; then the notes are
    /// read on this thread (split over threads, the readers only contended on libgit2's pack
    /// locks: more CPU time and more wall time than one reader, BENCHMARKS.md, history).
    /// Inflating the blobs is most of a cold `history`.
    ///
    /// Order: the first notes are read in tree order and tell how large the notes are. When all
    /// of them fit well within libgit2's 16 MiB cache of delta bases, tree order costs nothing
    /// and the rest follow in tree order; larger ledgers read the rest in pack order (see
    /// ``PackOrder``), which costs a little on small ledgers (about a tenth at 10,000 records)
    /// and saves most of the time on large ones (three quarters at 100,000).
    ///
    /// With `text`, each row's `history` line is rendered right after the row is checked, from
    /// the field ranges the check found (every line is scanned once), and the rows keep only
    /// that line and the values queries filter on, not the record line: such rows serve
    /// ``text(_:)``, not ``json(_:)`` or ``entries(_:)``.
    static func read(notesCommit: GitObject, ref: String, text: Bool = false, packOrderFrom: Int = packOrderFrom) throws -> LedgerRows {
        let repository = notesCommit.repository
        let tree = try NotesTree.tree(of: notesCommit, ref: ref)
        var notes: [NotePair] = []
        try NotesTree.walk(tree, entries: 0..<git_tree_entrycount(tree.pointer), ref: ref) { annotated, blob in
            notes.append(NotePair(annotated: annotated, blob: blob, treeOrder: notes.count))
        }
        let chunk = Chunk()
        let sample = min(notes.count, 32)
        let sampleBytes = try fill(chunk, from: notes[0..<sample], expected: notes.count, repository: repository, ref: ref, text: text)
        var rest = notes[sample...]
        if sample > 0, sampleBytes / sample * notes.count > packOrderFrom {
            rest = PackOrder(repository: repository).sorted(Array(rest))[...]
        }
        _ = try fill(chunk, from: rest, expected: notes.count, repository: repository, ref: ref, text: text)
        return LedgerRows(chunks: [chunk])
    }

    /// Notes larger than this in total are read in pack order: three quarters of libgit2's
    /// delta-base cache (`GIT_PACK_CACHE_MEMORY_LIMIT`, 16 MiB), which also holds each entry's
    /// bookkeeping. Measured crossover (BENCHMARKS.md): tree order wins at 30,000 records of
    /// about 400 bytes (12 MB), pack order at 50,000 (20 MB).
    static let packOrderFrom = 12 << 20

    /// Reads `notes` into `chunk` (of `expected` notes in all); returns the bytes read.
    @discardableResult
    private static func fill(
        _ chunk: Chunk, from notes: ArraySlice<NotePair>, expected: Int, repository: GitRepository, ref: String, text: Bool
    ) throws -> Int {
        var reader = LineReader(renders: text)
        chunk.rows.reserveCapacity(expected)
        var total = 0
        for note in notes {
            try repository.withBlob(note.blob) { bytes in
                if chunk.arena.count == 0 {
                    // Most notes hold one record of similar size: reserve for all at once.
                    chunk.arena.reserve(expected * (text ? 64 : bytes.count + 16))
                    if text { chunk.text.reserve(expected * (bytes.count / 3 + 64)) }
                }
                total += bytes.count
                reader.add(note: bytes, on: note.annotated, treeOrder: note.treeOrder, to: chunk)
            }
        }
        if chunk.arena.exhausted || chunk.arena.count >= Int(Int32.max) || chunk.text.exhausted || chunk.text.count >= Int(Int32.max) {
            throw LedgerError.outOfMemory(reading: ref)
        }
        return total
    }

    /// Turns note lines into rows, with one scanner and one renderer for all of them.
    struct LineReader {
        private var scanner = CanonicalRecordLine()
        private var renderer = HistoryLine.Renderer()
        /// Whether rows keep their rendered text line instead of their record line.
        private let renders: Bool
        /// The annotated commit's first 12 hex digits, as the text line shows it.
        private var shortCommit = [UInt8](repeating: 0, count: 40)

        init(renders: Bool) {
            self.renders = renders
        }

        mutating func add(note bytes: UnsafeRawBufferPointer, on commit: ObjectID, treeOrder: Int, to chunk: Chunk) {
            if renders {
                shortCommit.withUnsafeMutableBytes { buffer in
                    if let base = buffer.baseAddress { commit.writeHex(to: base) }
                }
            }
            RecordLines.forEach(bytes) { lineNumber, line in
                add(line: line, number: lineNumber, on: commit, treeOrder: treeOrder, to: chunk)
            }
        }

        private mutating func add(line: UnsafeRawBufferPointer, number: Int, on commit: ObjectID, treeOrder: Int, to chunk: Chunk) {
            let arena = chunk.arena
            let base = arena.count
            // A line holding '@' may carry a URL with credentials: it takes the parsing path,
            // where the record's URLs are masked before the line is written again.
            let mayHoldUserinfo = line.baseAddress.map { memchr($0, 0x40, line.count) != nil } ?? false
            if !mayHoldUserinfo, let shape = scanner.shape(of: line) {
                let time = UnsafeRawBufferPointer(rebasing: line[shape.time])
                let instant = RecordTime.secondsSince1970(time) ?? -Double.infinity
                guard renders else {
                    arena.append(line)
                    chunk.rows.append(Row(
                        start: Int32(base), end: Int32(arena.count), gap: Int32(base + shape.gap),
                        time: FieldRange(shape.time, plus: base), alias: FieldRange(shape.alias, plus: base),
                        function: FieldRange(shape.function, plus: base), region: FieldRange(shape.region, plus: base),
                        instant: instant, commit: commit))
                    return
                }
                // The check just found every field: render from its ranges (no '@' here), and
                // keep the values queries filter on (plain bytes: the check allows no escape).
                let textStart = chunk.text.count
                let plain = scanner.lastLineIsSimple
                let text = chunk.text
                scanner.withRanges { ranges in
                    shortCommit.withUnsafeBytes { hex in
                        renderer.render(line, ranges: ranges, plain: plain, commit: UnsafeRawBufferPointer(rebasing: hex[0..<12]), into: text)
                    }
                }
                chunk.rows.append(Row(
                    start: Int32(base), end: Int32(base), gap: Int32(base),
                    time: arena.keep(line, shape.time), alias: arena.keep(line, shape.alias),
                    function: arena.keep(line, shape.function), region: arena.keep(line, shape.region),
                    instant: instant, commit: commit, text: FieldRange(textStart..<chunk.text.count)))
                return
            }
            switch RecordParser.parse(line) {
            case let .success(parsed):
                let record = parsed.maskingUserinfo()
                var writer = RecordWriter()
                let gap = writer.object(record, commit: nil)
                var text = FieldRange.absent
                if renders {
                    let textStart = chunk.text.count
                    let hexDigits = shortCommit
                    writer.bytes.withUnsafeBytes { written in
                        hexDigits.withUnsafeBytes { hex in
                            renderer.render(written, commit: UnsafeRawBufferPointer(rebasing: hex[0..<12]), into: chunk.text)
                        }
                    }
                    text = FieldRange(textStart..<chunk.text.count)
                } else {
                    writer.bytes.withUnsafeBytes { arena.append($0) }
                }
                let end = arena.count
                chunk.rows.append(Row(
                    start: Int32(base), end: Int32(end), gap: Int32(renders ? base : base + gap),
                    time: FieldRange(arena.append(record.time)), alias: FieldRange(arena.append(record.alias)),
                    function: FieldRange(arena.append(record.function)), region: FieldRange(arena.append(record.region)),
                    instant: RecordTime.secondsSince1970(record.time) ?? -Double.infinity, commit: commit, text: text))
            case let .failure(problem):
                chunk.problems.append(Problem(treeOrder: treeOrder, line: number, text: "note on \(commit.hex) line \(number): \(problem.text)"))
            }
        }
    }

    // MARK: Selecting

    /// The keys of the rows matching `query`, in answer order, cut to its limit.
    func select(_ query: HistoryQuery) -> [Key] {
        let alias = query.alias.map { Array($0.utf8) }
        let function = query.function.map { Array($0.utf8) }
        let region = query.region.map { Array($0.utf8) }
        let since = query.since?.timeIntervalSince1970
        var keys: [Key] = []
        keys.reserveCapacity(count)
        for (c, chunk) in chunks.enumerated() {
            let arena = chunk.arena
            for (i, row) in chunk.rows.enumerated() {
                if let alias, !arena.bytes(row.alias.range).elementsEqual(alias) { continue }
                if let function, !arena.bytes(row.function.range).elementsEqual(function) { continue }
                if let region, !arena.bytes(row.region.range).elementsEqual(region) { continue }
                if let since, !(row.instant >= since) { continue }
                keys.append(Key(instant: row.instant, chunk: Int32(c), index: Int32(i)))
            }
        }
        keys.sort { l, r in
            if l.instant != r.instant { return l.instant > r.instant }
            var lc = row(l).commit.raw, rc = row(r).commit.raw
            let byCommit = git_oid_cmp(&lc, &rc)
            if byCommit != 0 { return byCommit < 0 }
            return (l.chunk, l.index) < (r.chunk, r.index)
        }
        if let limit = query.limit, keys.count > max(0, limit) { keys.removeLast(keys.count - max(0, limit)) }
        return keys
    }

    func row(_ key: Key) -> Row {
        chunks[Int(key.chunk)].rows[Int(key.index)]
    }

    /// The record line of a row (valid while the rows live).
    func line(_ key: Key) -> UnsafeRawBufferPointer {
        let row = row(key)
        return chunks[Int(key.chunk)].arena.bytes(Int(row.start)..<Int(row.end))
    }

    /// The rows decoded into entries; a row that does not decode (it cannot: every row is the
    /// writer's output) is reported in `problems` rather than dropped silently.
    func entries(_ keys: [Key]) -> (entries: [LedgerEntry], problems: [String]) {
        var entries: [LedgerEntry] = []
        var problems: [String] = []
        entries.reserveCapacity(keys.count)
        for key in keys {
            let commit = row(key).commit.hex
            switch RecordParser.parse(line(key)) {
            case let .success(record): entries.append(LedgerEntry(commit: commit, record: record))
            case let .failure(problem): problems.append("note on \(commit): \(problem.text)")
            }
        }
        return (entries, problems)
    }

    // MARK: Printing

    private static let commitKey = Array(#""commit":""#.utf8)

    /// `history --json`: `[` the rows' objects with `commit` spliced in `]`, sized exactly and
    /// written in one pass.
    ///
    /// (Filling the output on several threads, as an earlier version did, saved nothing
    /// measurable once the rows were read in pack order: BENCHMARKS.md, history.)
    func json(_ keys: [Key]) -> ByteArena {
        let perEntry = Self.commitKey.count + 40 + 2
        var size = 2  // [ and ]
        for (k, key) in keys.enumerated() {
            let row = row(key)
            size += (k > 0 ? 1 : 0) + Int(row.end - row.start) + perEntry
        }
        let output = ByteArena()
        output.append(upTo: size) { out in
            guard let base = out.baseAddress else { return 0 }
            var at = 0
            func put(_ bytes: UnsafeRawBufferPointer) {
                guard let from = bytes.baseAddress else { return }
                (base + at).copyMemory(from: from, byteCount: bytes.count)
                at += bytes.count
            }
            func put(_ byte: UInt8) {
                base.storeBytes(of: byte, toByteOffset: at, as: UInt8.self)
                at += 1
            }
            put(0x5B)  // [
            for (k, key) in keys.enumerated() {
                let chunk = chunks[Int(key.chunk)]
                let row = chunk.rows[Int(key.index)]
                if k > 0 { put(0x2C) }  // ,
                put(chunk.arena.bytes(Int(row.start)..<Int(row.gap)))
                Self.commitKey.withUnsafeBytes { put($0) }
                row.commit.writeHex(to: base + at)
                at += 40
                put(0x22)  // "
                put(0x2C)  // ,
                put(chunk.arena.bytes(Int(row.gap)..<Int(row.end)))
            }
            put(0x5D)  // ]
            return at
        }
        return output
    }

    /// `history`: one line per row (see ``HistoryLine``), newline-terminated, copied from the
    /// lines rendered while reading (``read(notesCommit:ref:text:packOrderFrom:)`` with `text`).
    func text(_ keys: [Key]) -> ByteArena {
        let size = keys.reduce(0) { $0 + row($1).text.range.count }
        let output = ByteArena()
        output.reserve(size)
        for key in keys {
            let chunk = chunks[Int(key.chunk)]
            output.append(chunk.text.bytes(chunk.rows[Int(key.index)].text.range))
        }
        return output
    }
}

extension ByteArena {
    /// Appends `line[range]` and returns where it landed.
    fileprivate func keep(_ line: UnsafeRawBufferPointer, _ range: Range<Int>) -> FieldRange {
        let start = count
        append(UnsafeRawBufferPointer(rebasing: line[range]))
        return FieldRange(start..<count)
    }
}

extension FieldRange {
    fileprivate init(_ range: Range<Int>, plus offset: Int = 0) {
        self.init(start: Int32(range.lowerBound + offset), end: Int32(range.upperBound + offset))
    }
}

extension ObjectID {
    /// Writes the 40 hex digits at `out`.
    func writeHex(to out: UnsafeMutableRawPointer) {
        var raw = self.raw
        withUnsafeBytes(of: &raw.id) { id in
            var at = 0
            for byte in id {
                out.storeBytes(of: lowerHexDigits[Int(byte >> 4)], toByteOffset: at, as: UInt8.self)
                out.storeBytes(of: lowerHexDigits[Int(byte & 0x0F)], toByteOffset: at + 1, as: UInt8.self)
                at += 2
            }
        }
    }
}

private let lowerHexDigits: [UInt8] = Array("0123456789abcdef".utf8)
