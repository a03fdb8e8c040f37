import Foundation

/// Where one field's value sits in a line: the string's content between its quotes, or the
/// literal of a number or boolean. `start < 0` when the line does not hold the field.
struct FieldRange {
    var start: Int32
    var end: Int32

    static let absent = FieldRange(start: -1, end: -1)

    var isPresent: Bool { start >= 0 }
    var range: Range<Int> { Int(start)..<Int(end) }
}

/// Reads lines in the shape ``RecordWriter`` prints, at byte level, following ``RecordSchema``.
///
/// ``shape(of:)`` decides whether a note line is exactly what the writer prints for the record it
/// holds (minus `commit`), so `history` can keep it verbatim instead of decoding and encoding it
/// again. That means: one object, no whitespace, only known keys, each once and in the writer's
/// (sorted) order, every field that is not optional present, no `null`, `result` and `trigger`
/// valid, integers in shortest form, strings of printable ASCII whose escapes are the writer's
/// own (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`), and no escape at all in the values the reader
/// filters and sorts on (time, alias, function, region). Anything else returns nil and takes
/// ``RecordParser`` and the writer.
///
/// ``fields(of:)`` finds every field's value in a line the writer printed (verbatim lines and the
/// writer's own output, which may hold `\u00XX` escapes and non-ASCII text), for the text
/// renderer.
///
/// A scanner copies the schema's tables once and keeps one scratch slot per field, so reading
/// thousands of lines allocates nothing and touches no global per line.
struct CanonicalRecordLine {
    /// Offsets into the line.
    struct Shape {
        var gap: Int
        var time: Range<Int>
        var alias: Range<Int>
        var function: Range<Int>
        var region: Range<Int>
    }

    /// The field ranges of the last line scanned, one per ``RecordSchema/fields`` position.
    private(set) var ranges: [FieldRange]
    /// Whether the last line scanned is printable ASCII without any backslash: then every
    /// string value in it (without `@`, which may start URL credentials) is its own display text.
    private(set) var lastLineIsSimple = false

    private let kinds: [RecordField.Kind]
    /// All field names back to back; `nameStarts[k]..<nameStarts[k + 1]` is field k's.
    private let names: [UInt8]
    private let nameStarts: [Int]
    private let alwaysWritten: UInt64
    private let plain: UInt64
    private let commitSlot: Int
    private let outcomes: [[UInt8]]
    private let triggers: [[UInt8]]
    private let time = RecordSchema.timeIndex, alias = RecordSchema.aliasIndex
    private let function = RecordSchema.functionIndex, region = RecordSchema.regionIndex

    init() {
        let fields = RecordSchema.fields
        ranges = Array(repeating: .absent, count: fields.count)
        kinds = fields.map(\.kind)
        names = fields.flatMap(\.utf8)
        nameStarts = fields.reduce(into: [0]) { $0.append($0[$0.count - 1] + $1.utf8.count) }
        alwaysWritten = fields.enumerated().reduce(0) { mask, item in
            item.element.presence == .optional ? mask : mask | (1 << UInt64(item.offset))
        }
        plain = [RecordSchema.timeIndex, RecordSchema.aliasIndex, RecordSchema.functionIndex, RecordSchema.regionIndex]
            .reduce(0) { $0 | (1 << UInt64($1)) }
        commitSlot = RecordSchema.commitSlot
        outcomes = DeployRecord.Outcome.allCases.map { Array($0.rawValue.utf8) }
        triggers = DeployRecord.Trigger.allCases.map { Array($0.rawValue.utf8) }
    }

    /// The shape of a verbatim line, nil when the line must be parsed and written again.
    static func shape(of line: UnsafeRawBufferPointer) -> Shape? {
        var scanner = CanonicalRecordLine()
        return scanner.shape(of: line)
    }

    mutating func shape(of line: UnsafeRawBufferPointer) -> Shape? {
        guard let gap = scan(line, strict: true) else { return nil }
        return Shape(
            gap: gap, time: ranges[time].range, alias: ranges[alias].range,
            function: ranges[function].range, region: ranges[region].range)
    }

    /// The ranges of the last line scanned, for the renderer.
    func withRanges<R>(_ body: (UnsafeBufferPointer<FieldRange>) -> R) -> R {
        ranges.withUnsafeBufferPointer(body)
    }

    /// Fills ``ranges`` for a line the writer printed; false when the line is not in that shape.
    mutating func fields(of line: UnsafeRawBufferPointer) -> Bool {
        scan(line, strict: false) != nil
    }

    /// One pass over the line; returns the commit gap, nil when the line is not in shape.
    private mutating func scan(_ line: UnsafeRawBufferPointer, strict: Bool) -> Int? {
        let n = line.count
        guard n >= 2, n < Int(Int32.max), let base = line.baseAddress, line[0] == 0x7B, line[n - 1] == 0x7D else { return nil }  // { }
        let printable = Self.isPrintableASCII(line)
        let simple = printable && memchr(base, 0x5C, n) == nil
        lastLineIsSimple = simple
        if strict && !printable { return nil }
        // The scratch array is moved out while it is filled, so the scan can read the other
        // properties without overlapping the write (and without copying the array).
        var scratch: [FieldRange] = []
        swap(&scratch, &ranges)
        defer { swap(&scratch, &ranges) }
        return scratch.withUnsafeMutableBufferPointer { ranges -> Int? in
            for k in 0..<ranges.count { ranges[k] = .absent }
            var i = 1
            var next = 0
            var seen: UInt64 = 0
            var gap = -1
            while true {
                guard i < n, line[i] == 0x22 else { return nil }
                let keyStart = i + 1
                guard let keyEnd = Self.closingQuote(line, from: keyStart),
                      let field = key(UnsafeRawBufferPointer(rebasing: line[keyStart..<keyEnd]), from: next)
                else { return nil }
                if gap < 0 && field >= commitSlot { gap = i }
                next = field + 1
                seen |= 1 << UInt64(field)
                i = keyEnd + 1
                guard i < n, line[i] == 0x3A else { return nil }  // :
                i += 1
                let valueStart = i
                switch kinds[field] {
                case .string, .outcome, .trigger:
                    let content: Range<Int>?
                    if simple {
                        guard i < n, line[i] == 0x22, let end = Self.closingQuote(line, from: i + 1) else { return nil }
                        content = (i + 1)..<end
                        i = end + 1
                    } else {
                        let escapes = strict ? (plain & (1 << UInt64(field)) == 0 && kinds[field] == .string) : true
                        content = Self.string(line, &i, strict: strict, escapes: escapes)
                    }
                    guard let content else { return nil }
                    ranges[field] = FieldRange(start: Int32(content.lowerBound), end: Int32(content.upperBound))
                    if strict {
                        let bytes = UnsafeRawBufferPointer(rebasing: line[content])
                        if kinds[field] == .outcome && !outcomes.contains(where: { $0.elementsEqual(bytes) }) { return nil }
                        if kinds[field] == .trigger && !triggers.contains(where: { $0.elementsEqual(bytes) }) { return nil }
                    }
                case .boolean:
                    guard Self.literal(line, &i, "true") || Self.literal(line, &i, "false") else { return nil }
                    ranges[field] = FieldRange(start: Int32(valueStart), end: Int32(i))
                case .integer:
                    guard Self.integer(line, &i) else { return nil }
                    ranges[field] = FieldRange(start: Int32(valueStart), end: Int32(i))
                }
                guard i < n else { return nil }
                if line[i] == 0x2C {  // ,
                    i += 1
                    continue
                }
                guard line[i] == 0x7D, i == n - 1 else { return nil }
                break
            }
            guard seen & alwaysWritten == alwaysWritten, gap >= 0 else { return nil }
            return gap
        }
    }

    /// The position of `name` among the fields at or after `from` (keys come in order).
    private func key(_ name: UnsafeRawBufferPointer, from: Int) -> Int? {
        names.withUnsafeBytes { all -> Int? in
            var index = from
            while index < nameStarts.count - 1 {
                let start = nameStarts[index], length = nameStarts[index + 1] - start
                if length == name.count && Self.same(UnsafeRawBufferPointer(rebasing: all[start..<(start + length)]), name) {
                    return index
                }
                index += 1
            }
            return nil
        }
    }

    /// Equal bytes (same length), eight at a time: field names are short, a call to memcmp
    /// costs more than comparing them.
    private static func same(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = a.count
        while i + 8 <= n {
            if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i += 8
        }
        while i < n {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    /// The first `"` at or after `from` (keys never hold escapes in the writer's shape).
    private static func closingQuote(_ line: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard from < line.count, let base = line.baseAddress, let hit = memchr(base + from, 0x22, line.count - from) else { return nil }
        return UnsafeRawPointer(hit) - base
    }

    /// Whether every byte is in 0x20...0x7E: eight at a time (a byte of 0x7F or more sets its
    /// high bit in `w` or in `w + 1`; one below 0x20 borrows in `w - 0x20`).
    static func isPrintableASCII(_ line: UnsafeRawBufferPointer) -> Bool {
        let n = line.count
        var i = 0
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        while i + 8 <= n {
            let w = line.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if (w | (w &+ ones)) & highs != 0 { return false }
            if (w &- 0x2020_2020_2020_2020) & ~w & highs != 0 { return false }
            i += 8
        }
        while i < n {
            if line[i] < 0x20 || line[i] > 0x7E { return false }
            i += 1
        }
        return true
    }

    /// A string starting at `i`; returns the range of its content and leaves `i` after it.
    ///
    /// Strict: printable ASCII, and (with `escapes`) only the writer's short escapes. Otherwise:
    /// anything up to the closing quote, backslash escapes skipped.
    private static func string(_ line: UnsafeRawBufferPointer, _ i: inout Int, strict: Bool, escapes: Bool) -> Range<Int>? {
        let n = line.count
        guard i < n, line[i] == 0x22 else { return nil }
        let start = i + 1
        var j = start
        while j < n {
            let b = line[j]
            if b == 0x22 { break }
            if strict && (b < 0x20 || b >= 0x7F) { return nil }
            if b == 0x5C {
                guard escapes, j + 1 < n else { return nil }
                if strict {
                    switch line[j + 1] {
                    case 0x22, 0x5C, 0x62, 0x66, 0x6E, 0x72, 0x74: break
                    default: return nil  // \/ and \u are printed differently by the writer
                    }
                }
                j += 2
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

    /// How many fields a line can hold.
    static var fieldCount: Int { RecordSchema.fields.count }
}
