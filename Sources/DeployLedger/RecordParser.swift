import Safety

/// A line that is not a valid record, with a short reason (one line, printable).
struct RecordLineProblem: Error, Equatable {
    var text: String
}

/// Reads one note line into a ``DeployRecord``, following ``RecordSchema``: the ledger's only
/// record parser.
///
/// A line is one JSON object (RFC 8259: any whitespace, any escape, any valid UTF-8). Known keys
/// must hold their kind (a string, an integer, a boolean, a valid `result` or `trigger`; `null`
/// means absent), each at most once: a duplicated field is reported, because two readers could
/// take different copies. Unknown keys may hold any JSON value and are ignored, so newer
/// writers can add fields. Bounded: a line over ``maximumLineLength`` bytes or nested deeper
/// than ``maximumDepth`` is a problem, never a crash or a long parse.
struct RecordParser {
    static let maximumLineLength = 1 << 20
    static let maximumDepth = 64

    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    private init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// A field's value as read; checked against the field's kind afterwards.
    private enum Value {
        case string(String)
        case integer(Int)
        case boolean(Bool)
        case null
        /// Valid JSON of another shape (a fraction, an array, an object, a huge number).
        case other
    }

    private struct NotJSON: Error {}

    static func parse(_ line: UnsafeRawBufferPointer) -> Result<DeployRecord, RecordLineProblem> {
        guard line.count <= maximumLineLength else {
            return .failure(RecordLineProblem(text: "a line longer than \(maximumLineLength) bytes: \(excerpt(line))"))
        }
        var parser = RecordParser(line)
        var values = [Value?](repeating: nil, count: RecordSchema.fields.count)
        var duplicate: String?
        do {
            try parser.object(into: &values, duplicate: &duplicate)
        } catch {
            return .failure(RecordLineProblem(text: "not a JSON record: \(excerpt(line))"))
        }
        if let duplicate {
            return .failure(RecordLineProblem(text: "\"\(duplicate)\" appears twice in \(excerpt(line))"))
        }
        return build(values).mapError { RecordLineProblem(text: "\($0.text) in \(excerpt(line))") }
    }

    /// The record from the values, checking each field's kind in table order.
    private static func build(_ values: [Value?]) -> Result<DeployRecord, RecordLineProblem> {
        var record = DeployRecord.blank
        for field in RecordSchema.table {
            guard let position = RecordSchema.index[field.name] else { continue }
            let value = values[position]
            let bad = RecordLineProblem(text: "bad \"\(field.name)\"")
            if value == nil, field.presence == .required {
                return .failure(RecordLineProblem(text: "missing \"\(field.name)\""))
            }
            switch (field.access, value) {
            case (_, nil):
                continue
            case (.optionalString, .null?), (.optionalInteger, .null?), (.optionalBoolean, .null?):
                continue
            case let (.string(path), .string(text)?): record[keyPath: path] = text
            case let (.optionalString(path), .string(text)?): record[keyPath: path] = text
            case let (.integer(path), .integer(number)?): record[keyPath: path] = number
            case let (.optionalInteger(path), .integer(number)?): record[keyPath: path] = number
            case let (.optionalBoolean(path), .boolean(flag)?): record[keyPath: path] = flag
            case let (.outcome(path), .string(text)?):
                guard let outcome = DeployRecord.Outcome(rawValue: text) else { return .failure(bad) }
                record[keyPath: path] = outcome
            case let (.trigger(path), .string(text)?):
                guard let trigger = DeployRecord.Trigger(rawValue: text) else { return .failure(bad) }
                record[keyPath: path] = trigger
            default:
                return .failure(bad)
            }
        }
        return .success(record)
    }

    /// The text of a JSON string's content (the bytes between its quotes); nil when it is not
    /// valid JSON string content.
    static func unescape(_ content: UnsafeRawBufferPointer) -> String? {
        var quoted: [UInt8] = [0x22]
        quoted.reserveCapacity(content.count + 2)
        quoted.append(contentsOf: content)
        quoted.append(0x22)
        return quoted.withUnsafeBytes { bytes -> String? in
            var parser = RecordParser(bytes)
            do {
                let text = try parser.string()
                return parser.index == bytes.count ? text : nil
            } catch {
                return nil
            }
        }
    }

    /// The start of a bad line, escaped and short, so a problem report stays one line.
    static func excerpt(_ line: UnsafeRawBufferPointer) -> String {
        "'" + DisplayText.excerpt(String(decoding: line.prefix(240), as: UTF8.self), limit: 60) + "'"
    }

    // MARK: Grammar

    private mutating func object(into values: inout [Value?], duplicate: inout String?) throws {
        skipWhitespace()
        try expect(0x7B)  // {
        skipWhitespace()
        if take(0x7D) {
            try end()
            return
        }
        while true {
            skipWhitespace()
            let key = try string()
            skipWhitespace()
            try expect(0x3A)  // :
            skipWhitespace()
            if let position = RecordSchema.index[key] {
                let value = try knownValue()
                if values[position] != nil, duplicate == nil { duplicate = key }
                values[position] = value
            } else {
                try skipValue(depth: 1)
            }
            skipWhitespace()
            if take(0x2C) { continue }  // ,
            try expect(0x7D)  // }
            break
        }
        try end()
    }

    private mutating func end() throws {
        skipWhitespace()
        guard index == bytes.count else { throw NotJSON() }
    }

    private mutating func knownValue() throws -> Value {
        guard index < bytes.count else { throw NotJSON() }
        switch bytes[index] {
        case 0x22: return .string(try string())
        case 0x74: try literal("true"); return .boolean(true)
        case 0x66: try literal("false"); return .boolean(false)
        case 0x6E: try literal("null"); return .null
        case 0x2D, 0x30...0x39: return try number().map(Value.integer) ?? .other
        case 0x5B, 0x7B:
            try skipValue(depth: 1)
            return .other
        default: throw NotJSON()
        }
    }

    /// Any JSON value, checked and dropped (an unknown key's).
    private mutating func skipValue(depth: Int) throws {
        guard depth <= Self.maximumDepth, index < bytes.count else { throw NotJSON() }
        switch bytes[index] {
        case 0x22: _ = try string()
        case 0x74: try literal("true")
        case 0x66: try literal("false")
        case 0x6E: try literal("null")
        case 0x2D, 0x30...0x39: _ = try number()
        case 0x5B, 0x7B:  // [ or {: elements up to the closing bracket; an object's are "key": value
            let isObject = bytes[index] == 0x7B
            let close: UInt8 = isObject ? 0x7D : 0x5D
            index += 1
            skipWhitespace()
            if take(close) { return }
            while true {
                skipWhitespace()
                if isObject {
                    _ = try string()
                    skipWhitespace()
                    try expect(0x3A)
                    skipWhitespace()
                }
                try skipValue(depth: depth + 1)
                skipWhitespace()
                if take(0x2C) { continue }
                try expect(close)
                return
            }
        default:
            throw NotJSON()
        }
    }

    /// A JSON number; its value when it is an integer that fits in `Int`, nil for any other
    /// number (a fraction, an exponent, too many digits).
    private mutating func number() throws -> Int? {
        let negative = take(0x2D)
        let digitsStart = index
        var value = 0
        var overflow = false
        while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (plus, o2) = times.addingReportingOverflow(Int(bytes[index] - 0x30))
            overflow = overflow || o1 || o2
            value = plus
            index += 1
        }
        let digits = index - digitsStart
        guard digits > 0, !(digits > 1 && bytes[digitsStart] == 0x30) else { throw NotJSON() }
        var integral = !overflow
        if take(0x2E) {  // .
            integral = false
            try digitsRun()
        }
        if index < bytes.count, bytes[index] == 0x65 || bytes[index] == 0x45 {  // e E
            index += 1
            integral = false
            if index < bytes.count, bytes[index] == 0x2B || bytes[index] == 0x2D { index += 1 }
            try digitsRun()
        }
        return integral ? (negative ? -value : value) : nil
    }

    private mutating func digitsRun() throws {
        let start = index
        while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
        guard index > start else { throw NotJSON() }
    }

    /// A JSON string: every escape, UTF-8 checked; raw control characters are not JSON.
    private mutating func string() throws -> String {
        try expect(0x22)
        let start = index
        // The common case: printable ASCII without escapes, taken as one run.
        while index < bytes.count {
            let b = bytes[index]
            if b == 0x22 {
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if b < 0x20 || b >= 0x80 || b == 0x5C { break }
            index += 1
        }
        var out = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let b = bytes[index]
            switch b {
            case 0x22:
                index += 1
                guard let text = String(validating: out, as: UTF8.self) else { throw NotJSON() }
                return text
            case 0x00..<0x20:
                throw NotJSON()
            case 0x5C:
                index += 1
                guard index < bytes.count else { throw NotJSON() }
                let escape = bytes[index]
                index += 1
                switch escape {
                case 0x22, 0x5C, 0x2F: out.append(escape)
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0C)
                case 0x6E: out.append(0x0A)
                case 0x72: out.append(0x0D)
                case 0x74: out.append(0x09)
                case 0x75: appendUTF8(try unicodeEscape(), to: &out)
                default: throw NotJSON()
                }
            default:
                out.append(b)
                index += 1
            }
        }
        throw NotJSON()
    }

    /// The scalar of a `\uXXXX` escape (after `\u`), joining a surrogate pair; a lone surrogate
    /// is not text.
    private mutating func unicodeEscape() throws -> Unicode.Scalar {
        let high = try hex4()
        if (0xDC00...0xDFFF).contains(high) { throw NotJSON() }
        guard (0xD800...0xDBFF).contains(high) else {
            guard let scalar = Unicode.Scalar(high) else { throw NotJSON() }
            return scalar
        }
        guard index + 1 < bytes.count, bytes[index] == 0x5C, bytes[index + 1] == 0x75 else { throw NotJSON() }
        index += 2
        let low = try hex4()
        guard (0xDC00...0xDFFF).contains(low),
              let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        else { throw NotJSON() }
        return scalar
    }

    private mutating func hex4() throws -> UInt32 {
        guard let value = JSONText.hex4(bytes, at: &index) else { throw NotJSON() }
        return value
    }

    private func appendUTF8(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
        UTF8.encode(scalar) { out.append($0) }
    }

    // MARK: Bytes

    private mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw NotJSON() }
        let base = word.utf8Start
        for i in 0..<count where bytes[index + i] != base[i] { throw NotJSON() }
        index += count
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard take(byte) else { throw NotJSON() }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }
}
