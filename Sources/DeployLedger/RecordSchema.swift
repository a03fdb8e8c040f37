import Safety

/// A stored property of ``DeployRecord``, as the schema table names it.
typealias RecordPath<Value> = any WritableKeyPath<DeployRecord, Value> & Sendable

/// One field of a deploy record: its JSON name, kind, whether a line must hold it, and the
/// property that keeps it.
struct RecordField: Sendable {
    enum Kind: String, Sendable {
        case string, integer, boolean
        /// A string naming one ``DeployRecord/Outcome``.
        case outcome
        /// A string naming one ``DeployRecord/Trigger``.
        case trigger
    }

    enum Presence: String, Sendable {
        /// A line without it is not a record.
        case required
        /// Read as ``DeployRecord/blank``'s value when absent; always written.
        case defaulted
        /// Absent (or `null`) means nil; written only when set.
        case optional
    }

    /// The property behind the field; the key path's type fixes the kind.
    enum Access: Sendable {
        case string(RecordPath<String>)
        case optionalString(RecordPath<String?>)
        case integer(RecordPath<Int>)
        case optionalInteger(RecordPath<Int?>)
        case optionalBoolean(RecordPath<Bool?>)
        case outcome(RecordPath<DeployRecord.Outcome>)
        case trigger(RecordPath<DeployRecord.Trigger>)
    }

    let name: String
    let presence: Presence
    let access: Access
    /// The name's UTF-8, for byte-level matching.
    let utf8: [UInt8]

    private init(_ name: String, _ presence: Presence, _ access: Access) {
        self.name = name
        self.presence = presence
        self.access = access
        utf8 = Array(name.utf8)
    }

    var kind: Kind {
        switch access {
        case .string, .optionalString: return .string
        case .integer, .optionalInteger: return .integer
        case .optionalBoolean: return .boolean
        case .outcome: return .outcome
        case .trigger: return .trigger
        }
    }

    static func required(_ name: String, _ path: RecordPath<String>) -> RecordField {
        RecordField(name, .required, .string(path))
    }

    static func required(_ name: String, _ path: RecordPath<DeployRecord.Outcome>) -> RecordField {
        RecordField(name, .required, .outcome(path))
    }

    static func required(_ name: String, _ path: RecordPath<DeployRecord.Trigger>) -> RecordField {
        RecordField(name, .required, .trigger(path))
    }

    static func defaulted(_ name: String, _ path: RecordPath<String>) -> RecordField {
        RecordField(name, .defaulted, .string(path))
    }

    static func defaulted(_ name: String, _ path: RecordPath<Int>) -> RecordField {
        RecordField(name, .defaulted, .integer(path))
    }

    static func optional(_ name: String, _ path: RecordPath<String?>) -> RecordField {
        RecordField(name, .optional, .optionalString(path))
    }

    static func optional(_ name: String, _ path: RecordPath<Int?>) -> RecordField {
        RecordField(name, .optional, .optionalInteger(path))
    }

    static func optional(_ name: String, _ path: RecordPath<Bool?>) -> RecordField {
        RecordField(name, .optional, .optionalBoolean(path))
    }
}

/// The record format: one table of fields that drives decoding (``RecordParser`` and
/// `Decodable`), encoding (``RecordWriter`` and `Encodable`), the canonical-line check
/// (``CanonicalRecordLine``) and the history cache's format version (``fingerprint``).
///
/// Adding a field is one row here (and its property on ``DeployRecord``); everything else
/// follows, and cached `history` output of the old format is no longer used.
enum RecordSchema {
    /// The fields in the order a reader thinks of them; see ``fields`` for the written order.
    static let table: [RecordField] = [
        .defaulted("schema", \.schema),
        .required("time", \.time),
        .required("function", \.function),
        .defaulted("region", \.region),
        .optional("account", \.account),
        .required("alias", \.alias),
        .optional("version", \.version),
        .optional("previousVersion", \.previousVersion),
        .optional("codeSha256", \.codeSha256),
        .required("result", \.result),
        .required("trigger", \.trigger),
        .optional("ci", \.ci),
        .optional("build", \.build),
        .optional("job", \.job),
        .optional("attempt", \.attempt),
        .optional("buildUrl", \.buildUrl),
        .optional("branch", \.branch),
        .optional("actor", \.actor),
        .optional("dirty", \.dirty),
        .optional("overrideProtection", \.overrideProtection),
        .optional("anyCommit", \.anyCommit),
        .optional("allowOlder", \.allowOlder),
        .optional("skipCheck", \.skipCheck),
        .optional("lintDisabled", \.lintDisabled),
        .optional("weight", \.weight),
        .optional("promotedFrom", \.promotedFrom),
        .optional("supersededByCommit", \.supersededByCommit),
        .optional("supersededByVersion", \.supersededByVersion),
        .defaulted("tool", \.tool),
        .optional("error", \.error),
    ]

    /// The fields sorted by name, bytewise: the order lines are written in (JSONEncoder's
    /// `.sortedKeys` order for these names, which differ at no letter case).
    static let fields: [RecordField] = table.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }

    /// Where `commit` goes among ``fields`` in `history --json` objects (before this index).
    static let commitSlot: Int = fields.firstIndex { !$0.utf8.lexicographicallyPrecedes(Array("commit".utf8)) } ?? fields.count

    /// Position in ``fields`` by name.
    static let index: [String: Int] = Dictionary(uniqueKeysWithValues: fields.enumerated().map { ($1.name, $0) })

    /// The positions the reader indexes rows by (filters and sorting), fixed at start-up.
    static let timeIndex = position("time")
    static let aliasIndex = position("alias")
    static let functionIndex = position("function")
    static let regionIndex = position("region")

    private static func position(_ name: String) -> Int {
        index[name] ?? -1
    }

    /// A 64-bit FNV-1a hash of the table (names, kinds, presence, order): changes whenever a
    /// field is added, removed, renamed or changes kind.
    static let fingerprint: UInt64 = fingerprint(of: fields)

    static func fingerprint(of fields: [RecordField]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for field in fields {
            for byte in Array("\(field.name):\(field.kind.rawValue):\(field.presence.rawValue)\n".utf8) {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
        }
        return hash
    }
}

// MARK: Codable, from the table

/// A key of a record's JSON object.
private struct RecordKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension DeployRecord: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: RecordKey.self)
        var record = DeployRecord.blank
        for field in RecordSchema.table {
            let key = RecordKey(field.name)
            let required = field.presence == .required
            switch field.access {
            case let .string(path):
                if required { record[keyPath: path] = try c.decode(String.self, forKey: key) }
                else if let value = try c.decodeIfPresent(String.self, forKey: key) { record[keyPath: path] = value }
            case let .integer(path):
                if let value = try c.decodeIfPresent(Int.self, forKey: key) { record[keyPath: path] = value }
            case let .outcome(path):
                record[keyPath: path] = try c.decode(Outcome.self, forKey: key)
            case let .trigger(path):
                record[keyPath: path] = try c.decode(Trigger.self, forKey: key)
            case let .optionalString(path):
                record[keyPath: path] = try c.decodeIfPresent(String.self, forKey: key)
            case let .optionalInteger(path):
                record[keyPath: path] = try c.decodeIfPresent(Int.self, forKey: key)
            case let .optionalBoolean(path):
                record[keyPath: path] = try c.decodeIfPresent(Bool.self, forKey: key)
            }
        }
        self = record
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: RecordKey.self)
        for field in RecordSchema.fields {
            let key = RecordKey(field.name)
            switch field.access {
            case let .string(path): try c.encode(self[keyPath: path], forKey: key)
            case let .integer(path): try c.encode(self[keyPath: path], forKey: key)
            case let .outcome(path): try c.encode(self[keyPath: path], forKey: key)
            case let .trigger(path): try c.encode(self[keyPath: path], forKey: key)
            case let .optionalString(path): try c.encodeIfPresent(self[keyPath: path], forKey: key)
            case let .optionalInteger(path): try c.encodeIfPresent(self[keyPath: path], forKey: key)
            case let .optionalBoolean(path): try c.encodeIfPresent(self[keyPath: path], forKey: key)
            }
        }
    }
}

extension DeployRecord {
    /// The record with the userinfo (`user:password@`) of every URL in its string fields masked
    /// as `***@`: what the ledger's readers hand out, whatever an older writer stored.
    public func maskingUserinfo() -> DeployRecord {
        var copy = self
        for field in RecordSchema.table {
            switch field.access {
            case let .string(path):
                copy[keyPath: path] = URLText.maskingUserinfo(copy[keyPath: path])
            case let .optionalString(path):
                if let value = copy[keyPath: path] { copy[keyPath: path] = URLText.maskingUserinfo(value) }
            default:
                continue
            }
        }
        return copy
    }
}

// MARK: Writing

/// Writes records as JSON text into a byte buffer: the one writer of record lines (notes) and of
/// `history --json` objects (the same keys plus `commit`).
///
/// Keys come in ``RecordSchema/fields`` order (sorted), nil optionals are left out, slashes and
/// non-ASCII text are written as they are, and every control character is escaped, so a written
/// line never holds a raw newline or CR.
struct RecordWriter {
    var bytes: [UInt8] = []

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// One record's object; with `commit` nil the `commit` key is left out and the returned offset
    /// (into ``bytes``) is where `"commit":"<id>",` belongs: always between two keys, because
    /// `alias` (required) sorts before `commit` and `function` (required) after it.
    @discardableResult
    mutating func object(_ record: DeployRecord, commit: String?) -> Int {
        raw("{")
        var first = true
        var gap = -1
        for (index, field) in RecordSchema.fields.enumerated() {
            if index == RecordSchema.commitSlot, let commit {
                key("commit", first: &first)
                string(commit)
            }
            let start = bytes.count
            switch field.access {
            case let .string(path):
                key(field.utf8, first: &first)
                string(record[keyPath: path])
            case let .integer(path):
                key(field.utf8, first: &first)
                bytes.append(contentsOf: String(record[keyPath: path]).utf8)
            case let .outcome(path):
                key(field.utf8, first: &first)
                string(record[keyPath: path].rawValue)
            case let .trigger(path):
                key(field.utf8, first: &first)
                string(record[keyPath: path].rawValue)
            case let .optionalString(path):
                guard let value = record[keyPath: path] else { continue }
                key(field.utf8, first: &first)
                string(value)
            case let .optionalInteger(path):
                guard let value = record[keyPath: path] else { continue }
                key(field.utf8, first: &first)
                bytes.append(contentsOf: String(value).utf8)
            case let .optionalBoolean(path):
                guard let value = record[keyPath: path] else { continue }
                key(field.utf8, first: &first)
                if value { raw("true") } else { raw("false") }
            }
            if gap < 0 && commit == nil && index >= RecordSchema.commitSlot {
                // The key just written follows `commit`: the gap is where its name starts.
                gap = bytes[start] == 0x2C ? start + 1 : start
            }
        }
        raw("}")
        return gap
    }

    private mutating func key(_ name: StaticString, first: inout Bool) {
        if !first { bytes.append(0x2C) }
        first = false
        bytes.append(0x22)
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [0x22, 0x3A])
    }

    private mutating func key(_ name: [UInt8], first: inout Bool) {
        if !first { bytes.append(0x2C) }
        first = false
        bytes.append(0x22)
        bytes.append(contentsOf: name)
        bytes.append(contentsOf: [0x22, 0x3A])
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// A JSON string as JSONEncoder writes it: short escapes where JSON has them, `\u00XX` for
    /// other control characters, everything else (including `/` and non-ASCII) as is.
    mutating func string(_ value: String) {
        bytes.append(0x22)
        var utf8 = value
        utf8.withUTF8 { buffer in
            var runStart = 0
            for i in 0..<buffer.count {
                let b = buffer[i]
                guard b < 0x20 || b == 0x22 || b == 0x5C else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<i]))
                runStart = i + 1
                switch b {
                case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
                case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
                case 0x08: bytes.append(contentsOf: [0x5C, 0x62])
                case 0x0C: bytes.append(contentsOf: [0x5C, 0x66])
                case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
                case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
                default:
                    bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, Self.hex[Int(b >> 4)], Self.hex[Int(b & 0xF)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<buffer.count]))
        }
        bytes.append(0x22)
    }
}
