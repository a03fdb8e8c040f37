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
/// holds (minus `commit`), so `history --json` can print it verbatim instead of decoding and
/// encoding it again. That means: one object, no whitespace, only known keys, each once and in
/// the writer's (sorted) order, every field that is not optional present, no `null`, `result`
/// and `trigger` valid, integers in shortest form, strings of printable ASCII whose escapes are
/// the writer's own (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`), and no escape at all in the values
/// the reader filters and sorts on (time, alias, function, region). Anything else returns nil
/// and takes ``RecordParser`` and the writer.
///
/// ``fields(of:into:)`` finds every field's value in a line the writer printed (verbatim lines
/// and the writer's own output, which may hold `\u00XX` escapes and non-ASCII text), for the
/// text renderer.
enum CanonicalRecordLine {
    /// Offsets into the line.
    struct Shape {
        var gap: Int
        var time: Range<Int>
        var alias: Range<Int>
        var function: Range<Int>
        var region: Range<Int>
    }

    private static let fields = RecordSchema.fields
    /// Fields the writer always prints.
    private static let alwaysWritten: UInt64 = fields.enumerated().reduce(0) { mask, item in
        item.element.presence == .optional ? mask : mask | (1 << UInt64(item.offset))
    }
    /// Fields whose values the reader compares as bytes: they must hold no escape.
    private static let plain: UInt64 = [RecordSchema.timeIndex, RecordSchema.aliasIndex, RecordSchema.functionIndex, RecordSchema.regionIndex]
        .reduce(0) { $0 | (1 << UInt64($1)) }
    private static let kinds = fields.map(\.kind)
    private static let names = fields.map(\.utf8)
    private static let outcomes = DeployRecord.Outcome.allCases.map { Array($0.rawValue.utf8) }
    private static let triggers = DeployRecord.Trigger.allCases.map { Array($0.rawValue.utf8) }

    static func shape(of line: UnsafeRawBufferPointer) -> Shape? {
        var ranges = [FieldRange](repeating: .absent, count: fields.count)
        return ranges.withUnsafeMutableBufferPointer { shape(of: line, scratch: $0) }
    }

    /// ``shape(of:)`` using `scratch` (one slot per field) for the field ranges, so a reader of
    /// thousands of lines allocates nothing per line.
    static func shape(of line: UnsafeRawBufferPointer, scratch: UnsafeMutableBufferPointer<FieldRange>) -> Shape? {
        guard let gap = scan(line, strict: true, into: scratch) else { return nil }
        return Shape(
            gap: gap, time: scratch[RecordSchema.timeIndex].range, alias: scratch[RecordSchema.aliasIndex].range,
            function: scratch[RecordSchema.functionIndex].range, region: scratch[RecordSchema.regionIndex].range)
    }

    /// How many ``FieldRange`` slots ``shape(of:scratch:)`` and ``fields(of:into:)`` need.
    static var fieldCount: Int { fields.count }

    /// Fills `ranges` (one per ``RecordSchema/fields`` position) for a line the writer printed;
    /// false when the line is not in that shape.
    static func fields(of line: UnsafeRawBufferPointer, into ranges: UnsafeMutableBufferPointer<FieldRange>) -> Bool {
        scan(line, strict: false, into: ranges) != nil
    }

    /// One pass over the line; returns the commit gap, nil when the line is not in shape.
    private static func scan(_ line: UnsafeRawBufferPointer, strict: Bool, into ranges: UnsafeMutableBufferPointer<FieldRange>) -> Int? {
        let n = line.count
        guard n >= 2, n < Int(Int32.max), line[0] == 0x7B, line[n - 1] == 0x7D, ranges.count >= fields.count else { return nil }  // { }
        for k in 0..<fields.count { ranges[k] = .absent }
        var i = 1
        var next = 0
        var seen: UInt64 = 0
        var gap = -1
        while true {
            guard i < n, line[i] == 0x22 else { return nil }
            let keyStart = i + 1
            var j = keyStart
            while j < n, line[j] != 0x22 { j += 1 }
            guard j < n, let field = key(UnsafeRawBufferPointer(rebasing: line[keyStart..<j]), from: next) else { return nil }
            if gap < 0 && field >= RecordSchema.commitSlot { gap = i }
            next = field + 1
            seen |= 1 << UInt64(field)
            i = j + 1
            guard i < n, line[i] == 0x3A else { return nil }  // :
            i += 1
            let valueStart = i
            switch kinds[field] {
            case .string, .outcome, .trigger:
                let escapes = strict ? (plain & (1 << UInt64(field)) == 0 && kinds[field] == .string) : true
                guard let content = string(line, &i, strict: strict, escapes: escapes) else { return nil }
                ranges[field] = FieldRange(start: Int32(content.lowerBound), end: Int32(content.upperBound))
                if strict {
                    let bytes = UnsafeRawBufferPointer(rebasing: line[content])
                    if kinds[field] == .outcome && !outcomes.contains(where: { $0.elementsEqual(bytes) }) { return nil }
                    if kinds[field] == .trigger && !triggers.contains(where: { $0.elementsEqual(bytes) }) { return nil }
                }
            case .boolean:
                guard literal(line, &i, "true") || literal(line, &i, "false") else { return nil }
                ranges[field] = FieldRange(start: Int32(valueStart), end: Int32(i))
            case .integer:
                guard integer(line, &i) else { return nil }
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

    /// The position of `name` among the fields at or after `from` (keys come in order).
    private static func key(_ name: UnsafeRawBufferPointer, from: Int) -> Int? {
        var index = from
        while index < names.count {
            if names[index].count == name.count && names[index].elementsEqual(name) { return index }
            index += 1
        }
        return nil
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
}
