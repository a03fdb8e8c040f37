/// A byte-level reader for record lines that avoids JSONDecoder's per-line overhead.
///
/// `history` reads every record in the repository (10,000 in the benchmark) and must keep up with
/// `git log --notes`; JSONDecoder spends most of that budget on containers and coding paths. This
/// reader handles the lines lambda-deploy writes (ASCII strings with simple escapes, integers,
/// booleans, null, unknown keys with any JSON value) and gives up (returns nil) on anything
/// unusual: `\u` escapes, non-ASCII text, exotic numbers, duplicate keys, a wrong type. A nil
/// sends the line to JSONDecoder, which stays the authority on what is valid and explains
/// problems, so this reader can only make parsing faster, never more permissive.
struct FastRecordParser {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    private init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    static func parse(_ line: UnsafeRawBufferPointer) -> DeployRecord? {
        var parser = FastRecordParser(line)
        return parser.record()
    }

    // MARK: Fields

    private enum Field: Int, CaseIterable {
        case schema, time, function, region, account, alias, version, previousVersion, codeSha256
        case result, trigger, ci, build, buildUrl, branch, actor, dirty, overrideProtection
        case anyCommit, weight, promotedFrom, tool, error
    }

    private static let fieldNames: [(name: [UInt8], field: Field)] = Field.allCases.map {
        (Array(String(describing: $0).utf8), $0)
    }

    private static func field(for key: UnsafeRawBufferPointer) -> Field? {
        for entry in fieldNames where entry.name.count == key.count {
            if entry.name.withUnsafeBytes({ $0.elementsEqual(key) }) { return entry.field }
        }
        return nil
    }

    private enum Value {
        case string(String)
        case int(Int)
        case bool(Bool)
        case null
    }

    private mutating func record() -> DeployRecord? {
        skipWhitespace()
        guard take(0x7B) else { return nil }  // {
        var values = [Value?](repeating: nil, count: Field.allCases.count)
        skipWhitespace()
        if !take(0x7D) {
            while true {
                skipWhitespace()
                guard let key = rawStringWithoutEscapes() else { return nil }
                skipWhitespace()
                guard take(0x3A) else { return nil }  // :
                skipWhitespace()
                if let field = Self.field(for: key) {
                    guard values[field.rawValue] == nil, let value = knownValue() else { return nil }
                    values[field.rawValue] = value
                } else {
                    guard skipValue(depth: 0) else { return nil }
                }
                skipWhitespace()
                if take(0x2C) { continue }  // ,
                guard take(0x7D) else { return nil }  // }
                break
            }
        }
        skipWhitespace()
        guard index == bytes.count else { return nil }
        return build(values)
    }

    private func build(_ values: [Value?]) -> DeployRecord? {
        func string(_ f: Field) -> String?? {
            switch values[f.rawValue] {
            case nil, .null?: return .some(nil)
            case let .string(s)?: return .some(s)
            default: return nil
            }
        }
        func required(_ f: Field) -> String? {
            if case let .string(s)? = values[f.rawValue] { return s }
            return nil
        }
        func bool(_ f: Field) -> Bool?? {
            switch values[f.rawValue] {
            case nil, .null?: return .some(nil)
            case let .bool(b)?: return .some(b)
            default: return nil
            }
        }
        func int(_ f: Field) -> Int?? {
            switch values[f.rawValue] {
            case nil, .null?: return .some(nil)
            case let .int(i)?: return .some(i)
            default: return nil
            }
        }
        guard let time = required(.time), let function = required(.function), let alias = required(.alias),
              let resultText = required(.result), let result = DeployRecord.Outcome(rawValue: resultText),
              let triggerText = required(.trigger), let trigger = DeployRecord.Trigger(rawValue: triggerText),
              let schema = int(.schema), let region = string(.region), let account = string(.account),
              let version = string(.version), let previousVersion = string(.previousVersion),
              let codeSha256 = string(.codeSha256), let ci = string(.ci), let build = string(.build),
              let buildUrl = string(.buildUrl), let branch = string(.branch), let actor = string(.actor),
              let dirty = bool(.dirty), let overrideProtection = bool(.overrideProtection),
              let anyCommit = bool(.anyCommit), let weight = int(.weight), let promotedFrom = string(.promotedFrom),
              let tool = string(.tool), let error = string(.error)
        else { return nil }
        return DeployRecord(
            schema: schema ?? 1, time: time, function: function, region: region ?? "", account: account,
            alias: alias, version: version, previousVersion: previousVersion, codeSha256: codeSha256,
            result: result, trigger: trigger, ci: ci, build: build, buildUrl: buildUrl, branch: branch,
            actor: actor, dirty: dirty, overrideProtection: overrideProtection, anyCommit: anyCommit,
            weight: weight, promotedFrom: promotedFrom, tool: tool ?? "", error: error)
    }

    // MARK: Values

    private mutating func knownValue() -> Value? {
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case 0x22: return string().map(Value.string)
        case 0x74: return literal("true") ? .bool(true) : nil
        case 0x66: return literal("false") ? .bool(false) : nil
        case 0x6E: return literal("null") ? .null : nil
        case 0x2D, 0x30...0x39: return integer().map(Value.int)
        default: return nil
        }
    }

    /// A JSON string of printable ASCII with the short escapes (`\" \\ \/ \b \f \n \r \t`).
    private mutating func string() -> String? {
        guard take(0x22) else { return nil }
        let start = index
        var hasEscape = false
        while index < bytes.count {
            let b = bytes[index]
            if b == 0x22 { break }
            if b < 0x20 || b >= 0x80 { return nil }
            if b == 0x5C {
                hasEscape = true
                index += 1
                guard index < bytes.count else { return nil }
                switch bytes[index] {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: break
                default: return nil
                }
            }
            index += 1
        }
        guard index < bytes.count else { return nil }
        let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
        index += 1
        if !hasEscape { return String(decoding: raw, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            var b = raw[i]
            if b == 0x5C {
                i += 1
                switch raw[i] {
                case 0x62: b = 0x08
                case 0x66: b = 0x0C
                case 0x6E: b = 0x0A
                case 0x72: b = 0x0D
                case 0x74: b = 0x09
                default: b = raw[i]
                }
            }
            out.append(b)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A key: printable ASCII without escapes (anything else goes to the slow path).
    private mutating func rawStringWithoutEscapes() -> UnsafeRawBufferPointer? {
        guard take(0x22) else { return nil }
        let start = index
        while index < bytes.count {
            let b = bytes[index]
            if b == 0x22 { break }
            if b < 0x20 || b >= 0x80 || b == 0x5C { return nil }
            index += 1
        }
        guard index < bytes.count else { return nil }
        let key = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
        index += 1
        return key
    }

    /// `-?(0|[1-9][0-9]*)` fitting in 15 digits (no fraction or exponent).
    private mutating func integer() -> Int? {
        var negative = false
        if take(0x2D) { negative = true }
        let start = index
        var value = 0
        while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
            value = value * 10 + Int(bytes[index] - 0x30)
            index += 1
            if index - start > 15 { return nil }
        }
        let digits = index - start
        guard digits > 0, !(digits > 1 && bytes[start] == 0x30) else { return nil }
        if index < bytes.count, bytes[index] == 0x2E || bytes[index] == 0x65 || bytes[index] == 0x45 { return nil }
        return negative ? -value : value
    }

    /// Skips any JSON value (an unknown key's), checking its grammar; nil-equivalent false on error.
    private mutating func skipValue(depth: Int) -> Bool {
        guard depth < 32, index < bytes.count else { return false }
        switch bytes[index] {
        case 0x22:
            return string() != nil
        case 0x74: return literal("true")
        case 0x66: return literal("false")
        case 0x6E: return literal("null")
        case 0x2D, 0x30...0x39: return integer() != nil
        case 0x5B:  // [
            index += 1
            skipWhitespace()
            if take(0x5D) { return true }
            while true {
                skipWhitespace()
                guard skipValue(depth: depth + 1) else { return false }
                skipWhitespace()
                if take(0x2C) { continue }
                return take(0x5D)
            }
        case 0x7B:  // {
            index += 1
            skipWhitespace()
            if take(0x7D) { return true }
            while true {
                skipWhitespace()
                guard string() != nil else { return false }
                skipWhitespace()
                guard take(0x3A) else { return false }
                skipWhitespace()
                guard skipValue(depth: depth + 1) else { return false }
                skipWhitespace()
                if take(0x2C) { continue }
                return take(0x7D)
            }
        default:
            return false
        }
    }

    // MARK: Bytes

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        let base = word.utf8Start
        for i in 0..<count where bytes[index + i] != base[i] { return false }
        index += count
        return true
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
