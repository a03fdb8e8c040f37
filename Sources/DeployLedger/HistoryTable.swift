internal import CLibgit2
import Foundation

/// Every record line of a notes commit, kept as the JSON bytes `history --json` prints, without
/// building a ``DeployRecord`` for lines that are already in the printed form.
///
/// `history --json` over 10,000 records has to keep up with `git log --notes` (issue 5), and
/// decoding each line into a record only to encode it again costs more than reading the notes.
/// Lines lambda-deploy wrote are already sorted-key JSON, so ``CanonicalRecordLine`` checks that
/// a line is byte for byte what ``JSONWriter`` would print for it, and such a line is copied
/// verbatim with `"commit":"<id>",` spliced in at its sorted place. Any other line (hand edits,
/// whitespace, unknown keys, `null`s, escapes the writer would print differently) goes through
/// the record parser and the writer, so the output is the same either way.
struct HistoryTable {
    /// One record: its object bytes in a chunk's arena and the ranges a query filters or sorts on.
    struct Entry {
        /// The object without `commit`: `arena[start..<end]`.
        var start: Int
        var end: Int
        /// Where `"commit":"<id>",` goes (before the first key that sorts after `commit`).
        var gap: Int
        /// The unescaped values of `time`, `alias` and `function`, in the arena.
        var time: Range<Int>
        var alias: Range<Int>
        var function: Range<Int>
        var commit: ObjectID
    }

    /// The records of a run of consecutive notes, read by one thread.
    final class Chunk: @unchecked Sendable {
        // Written only by the thread that reads the chunk, read only after that thread is done.
        let arena = ByteArena()
        var entries: [Entry] = []
        var problems: [String] = []
    }

    /// The chunks in note order (the order of the notes tree, as `git notes list` prints it).
    var chunks: [Chunk]

    var problems: [String] { chunks.flatMap(\.problems) }

    /// Reads every note of `notesCommit` (a commit on the notes ref), on a few threads once there
    /// are about `parallelFrom` notes.
    ///
    /// Reading the commit rather than the ref keeps the result tied to that one commit id, which
    /// is what ``HistoryCache`` keys on. Inflating 10,000 blobs is most of a cold `history`, so
    /// the top-level entries of the notes tree (the 256 `ab/` fan-out directories git uses for
    /// many notes, or the notes themselves) are split into ranges, one per thread, and each thread
    /// walks its range with its own repository handle (libgit2 handles are not shared between
    /// threads). Chunks are kept in tree order, the order `git notes list` prints.
    static func read(notesCommit: GitObject, parallelFrom threshold: Int = 2048) throws -> HistoryTable {
        let repository = notesCommit.repository
        var rawTree: OpaquePointer?
        try check(git_commit_tree(&rawTree, notesCommit.pointer), "git_commit_tree")
        guard let rawTree else { return HistoryTable(chunks: []) }
        let tree = GitObject(rawTree, repository: repository)
        let top = git_tree_entrycount(tree.pointer)
        let notes = estimatedNotes(tree)
        let workers = readerThreads(for: notes, parallelFrom: threshold, ranges: top)
        let chunks = (0..<workers).map { _ in Chunk() }
        let ranges = (0..<workers).map { w in (w * top / workers)..<((w + 1) * top / workers) }
        if workers == 1 {
            try walk(tree, entries: 0..<top, into: chunks[0], expectedNotes: notes)
            return HistoryTable(chunks: chunks)
        }
        let gitDir = repository.gitDir
        let treeID = ObjectID(git_tree_id(tree.pointer).pointee)
        let errors = ErrorSlots(count: workers)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            do {
                let own = try GitRepository.open(gitDir: gitDir)
                try walk(try own.lookupTree(treeID), entries: ranges[worker], into: chunks[worker], expectedNotes: notes / workers)
            } catch {
                errors.set(worker, error)
            }
        }
        try errors.rethrow()
        return HistoryTable(chunks: chunks)
    }

    /// About how many notes the tree holds: its entries, times the size of the first fan-out
    /// directory when it has them.
    private static func estimatedNotes(_ tree: GitObject) -> Int {
        let top = git_tree_entrycount(tree.pointer)
        guard top > 0, let first = git_tree_entry_byindex(tree.pointer, 0), git_tree_entry_type(first) == GIT_OBJECT_TREE,
              let sub = try? tree.repository.lookupTree(ObjectID(git_tree_entry_id(first).pointee))
        else { return top }
        return top * max(1, git_tree_entrycount(sub.pointer))
    }

    /// Reads the notes under `entries` of `tree` (recursing into fan-out directories) into `chunk`.
    private static func walk(_ tree: GitObject, entries: Range<Int>, into chunk: Chunk, expectedNotes: Int) throws {
        var parser = RecordLineParser()
        // The hex digits of the path so far; a plain buffer, not an array, because an array
        // written through `inout` checks its uniqueness on every byte (perf: 2 ms of a cold run).
        let path = UnsafeMutablePointer<UInt8>.allocate(capacity: 40)
        defer { path.deallocate() }
        chunk.entries.reserveCapacity(expectedNotes)
        try walk(tree, entries: entries, path: path, depth: 0, chunk: chunk, parser: &parser, expectedNotes: expectedNotes)
        if chunk.arena.exhausted {
            throw LedgerError.libgit2(call: "history", code: -1, message: "out of memory while reading the notes")
        }
    }

    /// A note is a blob whose path, without the slashes, is the 40 hex digits of the annotated
    /// object (git's notes layout: `abcdef...`, `ab/cdef...`, `ab/cd/ef...`); other entries are
    /// not notes and are skipped, as git skips them.
    private static func walk(
        _ tree: GitObject, entries: Range<Int>, path: UnsafeMutablePointer<UInt8>, depth: Int,
        chunk: Chunk, parser: inout RecordLineParser, expectedNotes: Int
    ) throws {
        let repository = tree.repository
        for index in entries {
            guard let entry = git_tree_entry_byindex(tree.pointer, index), let name = git_tree_entry_name(entry) else { continue }
            var length = 0
            var valid = true
            while name[length] != 0 {
                let c = UInt8(bitPattern: name[length])
                guard depth + length < 40, isHexDigit(c) else {
                    valid = false
                    break
                }
                path[depth + length] = c
                length += 1
            }
            guard valid, length > 0 else { continue }
            let id = ObjectID(git_tree_entry_id(entry).pointee)
            switch git_tree_entry_type(entry) {
            case GIT_OBJECT_BLOB where depth + length == 40:
                var annotated = git_oid()
                guard path.withMemoryRebound(to: CChar.self, capacity: 40, { git_oid_fromstrn(&annotated, $0, 40) }) == 0
                else { continue }
                let note = try repository.lookupBlob(id)
                note.withBytes { bytes in
                    if chunk.arena.count == 0 {
                        // Most notes hold one record of similar size: reserve for all at once.
                        chunk.arena.reserve(max(1, expectedNotes) * (bytes.count + 16))
                    }
                    add(note: bytes, on: ObjectID(annotated), to: chunk, parser: &parser)
                }
            case GIT_OBJECT_TREE where depth + length < 40:
                let subtree = try repository.lookupTree(id)
                try walk(subtree, entries: 0..<git_tree_entrycount(subtree.pointer), path: path, depth: depth + length,
                         chunk: chunk, parser: &parser, expectedNotes: expectedNotes)
            default:
                continue
            }
        }
    }

    /// Adds the records of one note; lines that are not records become problems.
    static func add(note bytes: UnsafeRawBufferPointer, on commit: ObjectID, to chunk: Chunk, parser: inout RecordLineParser) {
        let arena = chunk.arena
        RecordLineParser.forEachLine(bytes) { lineNumber, line in
            let base = arena.count
            if let shape = CanonicalRecordLine.shape(of: line) {
                arena.append(line)
                chunk.entries.append(Entry(
                    start: base, end: arena.count, gap: base + shape.gap,
                    time: shape.time.shifted(by: base), alias: shape.alias.shifted(by: base),
                    function: shape.function.shifted(by: base), commit: commit))
                return
            }
            switch parser.parseLine(line) {
            case let .success(record):
                var writer = JSONWriter()
                let gap = writer.object(record, commit: nil)
                writer.bytes.withUnsafeBytes { arena.append($0) }
                let end = arena.count
                let time = arena.append(record.time)
                let alias = arena.append(record.alias)
                let function = arena.append(record.function)
                chunk.entries.append(Entry(
                    start: base, end: end, gap: base + gap, time: time, alias: alias, function: function, commit: commit))
            case let .failure(problem):
                chunk.problems.append("note on \(commit.hex) line \(lineNumber): \(problem.text)")
            }
        }
    }

    /// The printed array for one record on the zero commit id (pins the cached shape in tests).
    static func pinnedShape(_ record: DeployRecord) -> [UInt8] {
        let chunk = Chunk()
        var parser = RecordLineParser()
        var line = JSONWriter()
        line.object(record, commit: nil)
        let bytes = line.bytes + [0x0A]
        bytes.withUnsafeBytes { add(note: $0, on: ObjectID(git_oid()), to: chunk, parser: &parser) }
        return HistoryTable(chunks: [chunk]).json(HistoryQuery()).copy()
    }

    /// A record's place in the output order, with the first 24 bytes of its time as integers so
    /// most comparisons never touch the arena.
    private struct SortKey {
        var time0: UInt64, time1: UInt64, time2: UInt64
        var chunk: Int32
        var index: Int32
    }

    /// The `history --json` array for `query`: newest first by record time (ties by commit id,
    /// then note order), as `Ledger.history` orders entries.
    func json(_ query: HistoryQuery, parallelFrom threshold: Int = 2048) -> ByteArena {
        var keys = selected(query)
        keys.sort { l, r in
            if l.time0 != r.time0 { return l.time0 > r.time0 }
            if l.time1 != r.time1 { return l.time1 > r.time1 }
            if l.time2 != r.time2 { return l.time2 > r.time2 }
            let le = chunks[Int(l.chunk)].entries[Int(l.index)], re = chunks[Int(r.chunk)].entries[Int(r.index)]
            let byTime = Self.compare(chunks[Int(l.chunk)].arena.bytes(le.time), chunks[Int(r.chunk)].arena.bytes(re.time))
            if byTime != 0 { return byTime > 0 }
            var lc = le.commit.raw, rc = re.commit.raw
            let byCommit = git_oid_cmp(&lc, &rc)
            if byCommit != 0 { return byCommit < 0 }
            return (l.chunk, l.index) < (r.chunk, r.index)
        }
        if let limit = query.limit, keys.count > limit { keys.removeLast(keys.count - limit) }
        return write(keys, parallelFrom: threshold)
    }

    /// The entries matching the query's alias, function and since, in note order.
    private func selected(_ query: HistoryQuery) -> [SortKey] {
        let alias = query.alias.map { Array($0.utf8) }
        let function = query.function.map { Array($0.utf8) }
        let since = query.since?.timeIntervalSince1970
        var keys: [SortKey] = []
        keys.reserveCapacity(chunks.reduce(0) { $0 + $1.entries.count })
        for (c, chunk) in chunks.enumerated() {
            let arena = chunk.arena
            for (i, entry) in chunk.entries.enumerated() {
                if let alias, !arena.bytes(entry.alias).elementsEqual(alias) { continue }
                if let function, !arena.bytes(entry.function).elementsEqual(function) { continue }
                if let since {
                    guard let seconds = RecordTime.secondsSince1970(arena.bytes(entry.time)), seconds >= since else { continue }
                }
                let time = arena.bytes(entry.time)
                keys.append(SortKey(
                    time0: Self.word(time, 0), time1: Self.word(time, 8), time2: Self.word(time, 16),
                    chunk: Int32(c), index: Int32(i)))
            }
        }
        return keys
    }

    /// Bytes `from..<from+8` as a big-endian integer, zero-padded: integer order is byte order
    /// (equal words still need the full comparison, which also settles length).
    private static func word(_ bytes: UnsafeRawBufferPointer, _ from: Int) -> UInt64 {
        var value: UInt64 = 0
        for k in from..<(from + 8) {
            value = value << 8 | UInt64(k < bytes.count ? bytes[k] : 0)
        }
        return value
    }

    /// Byte-wise comparison (for ASCII times the same order as comparing the strings).
    private static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int32 {
        let common = min(a.count, b.count)
        if common > 0, let pa = a.baseAddress, let pb = b.baseAddress {
            let c = memcmp(pa, pb, common)
            if c != 0 { return c }
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    private static let commitKey = Array(#""commit":""#.utf8)
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `[` objects with `commit` spliced in `]`, sized exactly.
    ///
    /// Every record's place in the output is known before any byte is copied, so from
    /// `parallelFrom` records on a few threads fill disjoint ranges: the copies gather records
    /// from wherever they sit in the arenas (sorted by time, read in commit-id order), and on one
    /// thread that took about 3 ms of a cold 10,000-record run.
    private func write(_ keys: [SortKey], parallelFrom threshold: Int) -> ByteArena {
        let chunks = self.chunks
        let perEntry = Self.commitKey.count + 40 + 2
        // starts[k]: where record k begins, its separating comma included.
        var starts = [Int](repeating: 0, count: keys.count + 1)
        var at = 1  // after [
        for (k, key) in keys.enumerated() {
            starts[k] = at
            let entry = chunks[Int(key.chunk)].entries[Int(key.index)]
            at += (k > 0 ? 1 : 0) + entry.end - entry.start + perEntry
        }
        starts[keys.count] = at
        let size = at + 1  // and ]
        let offsets = starts
        let output = ByteArena()
        output.append(upTo: size) { out in
            guard let base = out.baseAddress else { return 0 }
            base.storeBytes(of: 0x5B, as: UInt8.self)  // [
            (base + size - 1).storeBytes(of: 0x5D, as: UInt8.self)  // ]
            let target = OutputBytes(base: base)
            let workers = readerThreads(for: keys.count, parallelFrom: threshold)
            if workers == 1 {
                Self.fill(target, keys[...], starts: offsets, chunks: chunks)
            } else {
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    let range = (worker * keys.count / workers)..<((worker + 1) * keys.count / workers)
                    Self.fill(target, keys[range], starts: offsets, chunks: chunks)
                }
            }
            return size
        }
        return output
    }

    /// The output buffer, shared by the threads filling it (each writes only its own records).
    private struct OutputBytes: @unchecked Sendable {
        let base: UnsafeMutableRawPointer
    }

    /// Writes the records `keys` (a slice of all keys, indices kept) at their `starts`.
    private static func fill(_ target: OutputBytes, _ keys: ArraySlice<SortKey>, starts: [Int], chunks: [Chunk]) {
        let out = target.base
        for k in keys.indices {
            let key = keys[k]
            let arena = chunks[Int(key.chunk)].arena
            let entry = chunks[Int(key.chunk)].entries[Int(key.index)]
            var at = starts[k]
            func copy(_ bytes: UnsafeRawBufferPointer) {
                guard let from = bytes.baseAddress else { return }
                (out + at).copyMemory(from: from, byteCount: bytes.count)
                at += bytes.count
            }
            if k > 0 {
                out.storeBytes(of: 0x2C, toByteOffset: at, as: UInt8.self)  // ,
                at += 1
            }
            copy(arena.bytes(entry.start..<entry.gap))
            commitKey.withUnsafeBytes { copy($0) }
            var raw = entry.commit.raw
            withUnsafeBytes(of: &raw.id) { id in
                hexDigits.withUnsafeBufferPointer { hex in
                    for byte in id {
                        out.storeBytes(of: hex[Int(byte >> 4)], toByteOffset: at, as: UInt8.self)
                        out.storeBytes(of: hex[Int(byte & 0x0F)], toByteOffset: at + 1, as: UInt8.self)
                        at += 2
                    }
                }
            }
            out.storeBytes(of: 0x22, toByteOffset: at, as: UInt8.self)  // "
            out.storeBytes(of: 0x2C, toByteOffset: at + 1, as: UInt8.self)  // ,
            at += 2
            copy(arena.bytes(entry.gap..<entry.end))
        }
    }
}

/// A growable byte buffer with a stable owner, so entries can keep offsets into it and threads
/// can each fill their own.
///
/// Small buffers come from `malloc`. From ``mappedFrom`` bytes on, the buffer is its own
/// anonymous mapping, 2 MiB aligned and advised for transparent huge pages: a cold `history` of
/// 10,000 records fills about 5 MB of records and then a 5 MB printed array, and first touching
/// that 4 KiB at a time cost about 2,400 page faults, some 3 ms of a 50 ms run
/// (ci/bench-history.sh); on 2 MiB pages it is a handful. Where huge pages are off the advice is
/// ignored and the buffer behaves like a `malloc` one.
final class ByteArena: @unchecked Sendable {
    // Written only by the thread filling it, read only after that thread is done (see Chunk).
    private var base: UnsafeMutableRawPointer?
    private(set) var count = 0
    private var capacity = 0
    /// Whether `base` is a mapping (unmapped on release) rather than a `malloc` block.
    private var mapped = false
    /// Set when memory ran out and an append was dropped; the reader then fails instead of
    /// printing wrong bytes.
    private(set) var exhausted = false

    static let mappedFrom = 1 << 20
    private static let hugePage = 2 << 20

    deinit { release() }

    private func release() {
        guard let base else { return }
        if mapped { munmap(base, capacity) } else { free(base) }
    }

    func reserve(_ minimum: Int) {
        guard minimum > capacity else { return }
        if minimum < Self.mappedFrom {
            guard !mapped, let grown = realloc(base, minimum) else { return }
            base = grown
            capacity = minimum
            return
        }
        let size = (minimum + Self.hugePage - 1) / Self.hugePage * Self.hugePage
        guard let fresh = Self.mapAligned(size) else { return }
        if let base, count > 0 { fresh.copyMemory(from: base, byteCount: count) }
        release()
        base = fresh
        capacity = size
        mapped = true
    }

    /// `size` bytes (a multiple of 2 MiB) of zeroed memory on a 2 MiB boundary, advised for huge
    /// pages: mapped 2 MiB larger, then the unaligned head and tail are given back.
    private static func mapAligned(_ size: Int) -> UnsafeMutableRawPointer? {
        let span = size + hugePage
        guard let raw = mmap(nil, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), raw != MAP_FAILED
        else { return nil }
        let address = Int(bitPattern: raw)
        let aligned = (address + hugePage - 1) / hugePage * hugePage
        let head = aligned - address
        if head > 0 { munmap(raw, head) }
        let tail = span - head - size
        if tail > 0 { munmap(raw + head + size, tail) }
        let start = raw + head
        _ = madvise(start, size, MADV_HUGEPAGE)
        return start
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        guard let from = bytes.baseAddress, bytes.count > 0 else { return }
        if count + bytes.count > capacity { reserve(max(capacity * 2, count + bytes.count, 4096)) }
        guard let base, count + bytes.count <= capacity else {
            exhausted = true
            return
        }
        (base + count).copyMemory(from: from, byteCount: bytes.count)
        count += bytes.count
    }

    /// Appends a string's UTF-8 and returns where it landed.
    func append(_ text: String) -> Range<Int> {
        let start = count
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
        return start..<count
    }

    /// Lets `body` write up to `size` bytes after the current end; it returns how many it wrote.
    func append(upTo size: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) {
        reserve(count + size)
        guard let base, count + size <= capacity else {
            exhausted = true
            return
        }
        count += min(size, body(UnsafeMutableRawBufferPointer(start: base + count, count: size)))
    }

    func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// Everything appended so far (valid while the arena is alive).
    var all: UnsafeRawBufferPointer { bytes(0..<count) }

    /// A copy of everything appended so far.
    func copy() -> [UInt8] {
        withExtendedLifetime(self) { Array(all) }
    }
}

/// How many threads read (or print) `count` records: one below `threshold`, else one per core up
/// to four (more only contend on libgit2's pack locks), and never more than `ranges` pieces of work.
func readerThreads(for count: Int, parallelFrom threshold: Int, ranges: Int = .max) -> Int {
    guard count >= threshold, ranges > 1 else { return 1 }
    return max(1, min(ProcessInfo.processInfo.activeProcessorCount, 4, ranges))
}

/// One error slot per worker thread; each worker writes only its own slot.
private final class ErrorSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [(any Error)?]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ error: any Error) {
        lock.lock()
        slots[index] = error
        lock.unlock()
    }

    func rethrow() throws {
        lock.lock()
        defer { lock.unlock() }
        if let error = slots.compactMap({ $0 }).first { throw error }
    }
}

extension Range<Int> {
    fileprivate func shifted(by offset: Int) -> Range<Int> {
        (lowerBound + offset)..<(upperBound + offset)
    }
}

/// Decides whether a note line is exactly what ``JSONWriter`` prints for the record it holds
/// (minus `commit`), so it can be printed verbatim.
///
/// That means: one object, no whitespace, only known keys, each once and in the writer's (sorted)
/// order, every key the writer always prints present (`alias`, `function`, `region`, `result`,
/// `schema`, `time`, `tool`, `trigger`), no `null`, `result`/`trigger` valid, integers in
/// shortest form, strings of printable ASCII whose escapes are the writer's own (`\"`, `\\`,
/// `\b`, `\f`, `\n`, `\r`, `\t`). Anything else returns nil and takes the parsing path.
enum CanonicalRecordLine {
    /// Offsets into the line.
    struct Shape {
        var gap: Int
        var time: Range<Int>
        var alias: Range<Int>
        var function: Range<Int>
    }

    private enum Kind {
        /// A string with the writer's escapes.
        case string
        /// A string without any escape (the values queries compare and sort on).
        case plainString
        case bool
        case int
        case result
        case trigger
    }

    /// The record keys in the order ``JSONWriter/object(_:commit:)`` prints them; `commit`
    /// would sit before index ``afterCommit``.
    private static let keys: [(name: [UInt8], kind: Kind)] = ([
        ("account", .string), ("actor", .string), ("alias", .plainString), ("anyCommit", .bool),
        ("branch", .string), ("build", .string), ("buildUrl", .string), ("ci", .string),
        ("codeSha256", .string), ("dirty", .bool), ("error", .string), ("function", .plainString),
        ("overrideProtection", .bool), ("previousVersion", .string), ("promotedFrom", .string),
        ("region", .string), ("result", .result), ("schema", .int), ("time", .plainString),
        ("tool", .string), ("trigger", .trigger), ("version", .string), ("weight", .int),
    ] as [(String, Kind)]).map { (Array($0.0.utf8), $0.1) }
    private static let afterCommit = 9
    private static let aliasIndex = 2, functionIndex = 11, timeIndex = 18
    /// alias, function, region, result, schema, time, tool, trigger.
    private static let required: UInt32 = [2, 11, 15, 16, 17, 18, 19, 20].reduce(0) { $0 | (1 << $1) }
    private static let results = DeployRecord.Outcome.allCases.map { Array($0.rawValue.utf8) }
    private static let triggers = DeployRecord.Trigger.allCases.map { Array($0.rawValue.utf8) }

    static func shape(of line: UnsafeRawBufferPointer) -> Shape? {
        let n = line.count
        guard n >= 2, line[0] == 0x7B, line[n - 1] == 0x7D else { return nil }  // { }
        var i = 1
        var next = 0
        var seen: UInt32 = 0
        var gap = -1
        var time = 0..<0, alias = 0..<0, function = 0..<0
        while true {
            guard i < n, line[i] == 0x22 else { return nil }
            let keyStart = i + 1
            var j = keyStart
            while j < n, line[j] != 0x22 { j += 1 }
            guard j < n, let index = key(UnsafeRawBufferPointer(rebasing: line[keyStart..<j]), from: next) else { return nil }
            if gap < 0 && index >= afterCommit { gap = i }
            next = index + 1
            seen |= 1 << UInt32(index)
            i = j + 1
            guard i < n, line[i] == 0x3A else { return nil }  // :
            i += 1
            switch keys[index].kind {
            case .string, .plainString, .result, .trigger:
                guard let value = string(line, &i, escapes: keys[index].kind == .string) else { return nil }
                let bytes = UnsafeRawBufferPointer(rebasing: line[value])
                switch index {
                case timeIndex: time = value
                case aliasIndex: alias = value
                case functionIndex: function = value
                default: break
                }
                if keys[index].kind == .result && !results.contains(where: { $0.elementsEqual(bytes) }) { return nil }
                if keys[index].kind == .trigger && !triggers.contains(where: { $0.elementsEqual(bytes) }) { return nil }
            case .bool:
                guard literal(line, &i, "true") || literal(line, &i, "false") else { return nil }
            case .int:
                guard integer(line, &i) else { return nil }
            }
            guard i < n else { return nil }
            if line[i] == 0x2C {  // ,
                i += 1
                continue
            }
            guard line[i] == 0x7D, i == n - 1 else { return nil }
            break
        }
        guard seen & required == required, gap >= 0 else { return nil }
        return Shape(gap: gap, time: time, alias: alias, function: function)
    }

    /// The index of `name` among the keys at or after `from` (keys must come in order).
    private static func key(_ name: UnsafeRawBufferPointer, from: Int) -> Int? {
        var index = from
        while index < keys.count {
            if keys[index].name.count == name.count && keys[index].name.elementsEqual(name) { return index }
            index += 1
        }
        return nil
    }

    /// A string starting at `i`; returns the range of its content and leaves `i` after it.
    private static func string(_ line: UnsafeRawBufferPointer, _ i: inout Int, escapes: Bool) -> Range<Int>? {
        let n = line.count
        guard i < n, line[i] == 0x22 else { return nil }
        let start = i + 1
        var j = start
        while j < n {
            let b = line[j]
            if b == 0x22 { break }
            if b < 0x20 || b >= 0x80 { return nil }
            if b == 0x5C {
                guard escapes, j + 1 < n else { return nil }
                switch line[j + 1] {
                case 0x22, 0x5C, 0x62, 0x66, 0x6E, 0x72, 0x74: j += 2
                default: return nil  // \/ and \u are printed differently by the writer
                }
                continue
            }
            j += 1
        }
        guard j < n else { return nil }
        i = j + 1
        return start..<j
    }

    private static func literal(_ line: UnsafeRawBufferPointer, _ i: inout Int, _ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard line.count - i >= count else { return false }
        let base = word.utf8Start
        for k in 0..<count where line[i + k] != base[k] { return false }
        i += count
        return true
    }

    /// `0` or `-?[1-9][0-9]{0,17}`: what `String(Int)` prints (no `-0`, no leading zeros).
    private static func integer(_ line: UnsafeRawBufferPointer, _ i: inout Int) -> Bool {
        let n = line.count
        var j = i
        if j < n, line[j] == 0x2D { j += 1 }
        let digitsStart = j
        while j < n, line[j] >= 0x30, line[j] <= 0x39 { j += 1 }
        let digits = j - digitsStart
        guard digits >= 1, digits <= 18 else { return false }
        if line[digitsStart] == 0x30 && (digits > 1 || digitsStart != i) { return false }
        i = j
        return true
    }
}
