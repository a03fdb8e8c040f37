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
    /// One record: its object bytes in ``arena`` and the ranges a query filters or sorts on.
    struct Entry {
        /// The object without `commit`: `arena[start..<end]`.
        var start: Int
        var end: Int
        /// Where `"commit":"<id>",` goes (before the first key that sorts after `commit`).
        var gap: Int
        /// The unescaped values of `time`, `alias` and `function`, in `arena`.
        var time: Range<Int>
        var alias: Range<Int>
        var function: Range<Int>
        var commit: ObjectID
    }

    var arena: [UInt8] = []
    var entries: [Entry] = []
    var problems: [String] = []

    /// Reads every note of `notesCommit` (a commit on the notes ref).
    ///
    /// Iterating the commit rather than the ref keeps the result tied to that one commit id, which
    /// is what ``HistoryCache`` keys on.
    static func read(notesCommit: GitObject) throws -> HistoryTable {
        var iterator: OpaquePointer?
        try check(git_note_commit_iterator_new(&iterator, notesCommit.pointer), "git_note_commit_iterator_new")
        guard let iterator else { return HistoryTable() }
        let repository = notesCommit.repository
        let notes = GitNoteIterator(iterator, repository: repository)
        var table = HistoryTable()
        var parser = RecordLineParser()
        while let (blob, annotated) = try notes.next() {
            let note = try repository.lookupBlob(blob)
            note.withBytes { bytes in table.add(note: bytes, on: annotated, parser: &parser) }
        }
        return table
    }

    /// Adds the records of one note; lines that are not records become problems.
    mutating func add(note bytes: UnsafeRawBufferPointer, on commit: ObjectID, parser: inout RecordLineParser) {
        if arena.capacity - arena.count < bytes.count {
            arena.reserveCapacity(max(arena.count * 2, arena.count + bytes.count + 256))
        }
        RecordLineParser.forEachLine(bytes) { lineNumber, line in
            let base = arena.count
            if let shape = CanonicalRecordLine.shape(of: line) {
                arena.append(contentsOf: line)
                entries.append(Entry(
                    start: base, end: arena.count, gap: base + shape.gap,
                    time: shape.time.shifted(by: base), alias: shape.alias.shifted(by: base),
                    function: shape.function.shifted(by: base), commit: commit))
                return
            }
            switch parser.parseLine(line) {
            case let .success(record):
                var writer = JSONWriter()
                swap(&writer.bytes, &arena)
                let gap = writer.object(record, commit: nil)
                let end = writer.bytes.count
                swap(&writer.bytes, &arena)
                let time = appendValue(record.time)
                let alias = appendValue(record.alias)
                let function = appendValue(record.function)
                entries.append(Entry(
                    start: base, end: end, gap: gap, time: time, alias: alias, function: function, commit: commit))
            case let .failure(problem):
                problems.append("note on \(commit.hex) line \(lineNumber): \(problem.text)")
            }
        }
    }

    private mutating func appendValue(_ value: String) -> Range<Int> {
        let start = arena.count
        arena.append(contentsOf: value.utf8)
        return start..<arena.count
    }

    /// The `history --json` array for `query`: newest first by record time (ties by commit id,
    /// then note order), as `Ledger.history` orders entries.
    func json(_ query: HistoryQuery) -> [UInt8] {
        arena.withUnsafeBytes { arena in
            var order = selected(query, arena)
            order.sort { lhs, rhs in
                let l = entries[lhs], r = entries[rhs]
                let byTime = Self.compare(UnsafeRawBufferPointer(rebasing: arena[l.time]), UnsafeRawBufferPointer(rebasing: arena[r.time]))
                if byTime != 0 { return byTime > 0 }
                var lc = l.commit.raw, rc = r.commit.raw
                let byCommit = git_oid_cmp(&lc, &rc)
                if byCommit != 0 { return byCommit < 0 }
                return lhs < rhs
            }
            if let limit = query.limit, order.count > limit { order.removeLast(order.count - limit) }
            return write(order, arena)
        }
    }

    /// Indices of the entries matching the query's alias, function and since, in table order.
    private func selected(_ query: HistoryQuery, _ arena: UnsafeRawBufferPointer) -> [Int] {
        guard query.alias != nil || query.function != nil || query.since != nil else {
            return Array(entries.indices)
        }
        let alias = query.alias.map { Array($0.utf8) }
        let function = query.function.map { Array($0.utf8) }
        let since = query.since?.timeIntervalSince1970
        return entries.indices.filter { index in
            let entry = entries[index]
            if let alias, !arena[entry.alias].elementsEqual(alias) { return false }
            if let function, !arena[entry.function].elementsEqual(function) { return false }
            if let since {
                guard let seconds = RecordTime.secondsSince1970(UnsafeRawBufferPointer(rebasing: arena[entry.time])),
                      seconds >= since else { return false }
            }
            return true
        }
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

    /// `[` objects with `commit` spliced in `]`, sized exactly and filled with one pass of copies.
    private func write(_ order: [Int], _ arena: UnsafeRawBufferPointer) -> [UInt8] {
        let perEntry = Self.commitKey.count + 40 + 2
        var size = 2 + max(0, order.count - 1)
        for index in order { size += entries[index].end - entries[index].start + perEntry }
        return [UInt8](unsafeUninitializedCapacity: size) { out, count in
            guard let base = out.baseAddress, let source = arena.baseAddress else {
                out[0] = 0x5B
                out[1] = 0x5D
                count = 2
                return
            }
            var at = 0
            func copy(_ from: UnsafeRawPointer, _ length: Int) {
                UnsafeMutableRawPointer(base + at).copyMemory(from: from, byteCount: length)
                at += length
            }
            out[at] = 0x5B  // [
            at += 1
            var first = true
            for index in order {
                let entry = entries[index]
                if !first {
                    out[at] = 0x2C  // ,
                    at += 1
                }
                first = false
                copy(source + entry.start, entry.gap - entry.start)
                Self.commitKey.withUnsafeBytes { key in
                    if let k = key.baseAddress { copy(k, key.count) }
                }
                var raw = entry.commit.raw
                withUnsafeBytes(of: &raw.id) { id in
                    for byte in id {
                        out[at] = Self.hexDigits[Int(byte >> 4)]
                        out[at + 1] = Self.hexDigits[Int(byte & 0x0F)]
                        at += 2
                    }
                }
                out[at] = 0x22  // "
                out[at + 1] = 0x2C  // ,
                at += 2
                copy(source + entry.gap, entry.end - entry.gap)
            }
            out[at] = 0x5D  // ]
            at += 1
            count = at
        }
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
