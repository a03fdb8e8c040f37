import Safety

/// A JSON value as the check before traffic needs it: an event to invoke a new version with, the
/// subset its answer must contain, and that answer read back (RFC 8259).
///
/// Parsing is bounded in nesting depth and size, so an event file, a config value or a
/// function's answer can never make the tool recurse without limit. Objects keep their members in
/// the order written, so the event sent is the event in the file.
public enum JSONValue: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    /// The number as written (validated against JSON's grammar); compared numerically.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([Member])

    public struct Member: Sendable, Equatable, Hashable {
        public var key: String
        public var value: JSONValue
        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// How deeply a value may nest (parsing and conversion refuse deeper ones).
    public static let maxDepth = 64

    /// The outcome of parsing JSON text from outside.
    public enum Parsed: Sendable, Equatable {
        case value(JSONValue)
        /// Not JSON, with why (one line, positions in bytes).
        case invalid(reason: String)
    }

    /// The compact JSON text of this value (no insignificant whitespace, members in order).
    public var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .number(let text): out += text
        case .string(let text): JSONText.appendQuoted(text, to: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                JSONText.appendQuoted(member.key, to: &out)
                out += ":"
                member.value.write(to: &out)
            }
            out += "}"
        }
    }

    /// Whether this value contains `expected`: objects have at least its members (each
    /// containing the expected value), arrays have the same length with each element containing
    /// the expected one, numbers are equal as numbers, everything else is equal.
    public func contains(_ expected: JSONValue) -> Bool {
        switch (self, expected) {
        case let (.object(members), .object(wanted)):
            return wanted.allSatisfy { want in
                members.first(where: { $0.key == want.key }).map { $0.value.contains(want.value) } ?? false
            }
        case let (.array(items), .array(wanted)):
            return items.count == wanted.count && zip(items, wanted).allSatisfy { $0.contains($1) }
        case let (.number(a), .number(b)):
            if a == b { return true }
            guard let x = Double(a), let y = Double(b) else { return false }
            return x == y
        default:
            return self == expected
        }
    }

    // MARK: Parsing

    /// Parses `text` as one JSON value, refusing nesting deeper than `maxDepth` and text longer
    /// than `maxBytes`.
    public static func parse(_ text: String, maxDepth: Int = JSONValue.maxDepth, maxBytes: Int = 6 << 20) -> Parsed {
        let bytes = Array(text.utf8)
        guard bytes.count <= maxBytes else {
            return .invalid(reason: "it is \(bytes.count) bytes, over the \(maxBytes)-byte limit")
        }
        var parser = Parser(bytes: bytes, maxDepth: maxDepth)
        do throws(Parser.Failure) {
            parser.skipWhitespace()
            let value = try parser.value(depth: 1)
            parser.skipWhitespace()
            guard parser.index == bytes.count else { throw Parser.Failure(reason: "unexpected text after the value", at: parser.index) }
            return .value(value)
        } catch {
            return .invalid(reason: "\(error.reason) at byte \(error.at)")
        }
    }

    /// A recursive-descent reader whose recursion is bounded by `maxDepth`.
    private struct Parser {
        struct Failure: Error {
            var reason: String
            var at: Int
        }

        let bytes: [UInt8]
        let maxDepth: Int
        var index = 0

        mutating func skipWhitespace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        func fail(_ reason: String) -> Failure { Failure(reason: reason, at: index) }

        mutating func value(depth: Int) throws(Failure) -> JSONValue {
            guard index < bytes.count else { throw fail("the text ends where a value should be") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default: return .number(try number())
            }
        }

        mutating func literal(_ word: String) throws(Failure) {
            let expected = Array(word.utf8)
            guard index + expected.count <= bytes.count, Array(bytes[index..<(index + expected.count)]) == expected else {
                throw fail("expected \(word)")
            }
            index += expected.count
        }

        /// Enters a container at its opening bracket; true when it closes right away (empty).
        mutating func open(closedBy close: Unicode.Scalar, depth: Int) throws(Failure) -> Bool {
            guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth) levels") }
            index += 1
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: close) else { return false }
            index += 1
            return true
        }

        /// After an element of a container: true past its closing bracket, false past a comma.
        mutating func closes(_ container: String, closedBy close: Unicode.Scalar) throws(Failure) -> Bool {
            skipWhitespace()
            guard index < bytes.count else { throw fail("the \(container) is not closed") }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
                return false
            case UInt8(ascii: close):
                index += 1
                return true
            default:
                throw fail("expected ',' or '\(close)'")
            }
        }

        mutating func object(depth: Int) throws(Failure) -> JSONValue {
            var members: [Member] = []
            if try open(closedBy: "}", depth: depth) { return .object(members) }
            repeat {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a member name in quotes") }
                let key = try string()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':' after a member name") }
                index += 1
                skipWhitespace()
                members.append(Member(key: key, value: try value(depth: depth + 1)))
            } while try !closes("object", closedBy: "}")
            return .object(members)
        }

        mutating func array(depth: Int) throws(Failure) -> JSONValue {
            var items: [JSONValue] = []
            if try open(closedBy: "]", depth: depth) { return .array(items) }
            repeat {
                skipWhitespace()
                items.append(try value(depth: depth + 1))
            } while try !closes("array", closedBy: "]")
            return .array(items)
        }

        mutating func number() throws(Failure) -> String {
            let start = index
            func digits(_ parser: inout Parser) -> Int {
                let from = parser.index
                while parser.index < parser.bytes.count, parser.bytes[parser.index] >= 0x30, parser.bytes[parser.index] <= 0x39 {
                    parser.index += 1
                }
                return parser.index - from
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 else { throw fail("expected a value") }
            if bytes[index] == 0x30 {
                index += 1
            } else {
                _ = digits(&self)
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits(&self) > 0 else { throw fail("expected digits after '.'") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits(&self) > 0 else { throw fail("expected digits in the exponent") }
            }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        mutating func string() throws(Failure) -> String {
            index += 1
            var scalars = String.UnicodeScalarView()
            var run = index
            func flush(_ parser: Parser, _ scalars: inout String.UnicodeScalarView, upTo end: Int) {
                scalars.append(contentsOf: String(decoding: parser.bytes[run..<end], as: UTF8.self).unicodeScalars)
            }
            while true {
                guard index < bytes.count else { throw fail("the string is not closed") }
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    flush(self, &scalars, upTo: index)
                    index += 1
                    return String(scalars)
                }
                if byte < 0x20 { throw fail("a control character inside a string must be escaped") }
                guard byte == UInt8(ascii: "\\") else {
                    index += 1
                    continue
                }
                flush(self, &scalars, upTo: index)
                index += 1
                guard index < bytes.count else { throw fail("the string is not closed") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                        else { throw fail("a lone surrogate in \\u escapes") }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("a lone surrogate in \\u escapes") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(code) {
                        throw fail("a lone surrogate in \\u escapes")
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw fail("an invalid \\u escape") }
                    scalars.append(scalar)
                default:
                    throw fail("an invalid escape in a string")
                }
                run = index
            }
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard index + 4 <= bytes.count else { throw fail("a short \\u escape") }
            guard let value = JSONText.hex4(bytes, at: &index) else { throw fail("a \\u escape needs four hex digits") }
            return value
        }
    }
}
