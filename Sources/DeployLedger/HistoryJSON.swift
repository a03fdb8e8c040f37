extension LedgerEntry {
    /// The entries as one JSON array, each object holding the record's keys plus `commit`, keys
    /// sorted, slashes unescaped: byte for byte what `JSONEncoder` with `.sortedKeys` and
    /// `.withoutEscapingSlashes` prints for `[LedgerEntry]`, several times faster.
    ///
    /// This is the output of `history --json`, which has to keep up with `git log --notes` on
    /// 10,000 records (ci/bench-history.sh).
    public static func jsonArray(_ entries: [LedgerEntry]) -> String {
        String(decoding: jsonArrayBytes(entries), as: UTF8.self)
    }

    /// ``jsonArray(_:)`` as UTF-8 bytes, for writing straight to standard output without
    /// another copy of a multi-megabyte string.
    public static func jsonArrayBytes(_ entries: [LedgerEntry]) -> [UInt8] {
        var out = JSONWriter()
        out.bytes.reserveCapacity(entries.count * 512 + 2)
        out.raw("[")
        var first = true
        for entry in entries {
            if !first { out.raw(",") }
            first = false
            out.entry(entry)
        }
        out.raw("]")
        return out.bytes
    }
}

/// Appends JSON text to a byte buffer.
struct JSONWriter {
    var bytes: [UInt8] = []
    private var first = true
    /// Set while the `commit` slot was left empty and the offset after it is not known yet.
    private var commitGapPending = false
    private var commitGap = 0

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// One object; keys must be written in sorted order (they are listed sorted below).
    mutating func entry(_ entry: LedgerEntry) {
        object(entry.record, commit: entry.commit)
    }

    /// One record's object; with `commit` nil the `commit` key is left out and the returned offset
    /// (into ``bytes``) is where `"commit":"<id>",` belongs: always before a later key, because
    /// `function` is always written and sorts after `commit`.
    @discardableResult
    mutating func object(_ r: DeployRecord, commit: String?) -> Int {
        raw("{")
        first = true
        commitGapPending = false
        commitGap = bytes.count
        key("account", r.account)
        key("actor", r.actor)
        key("alias", r.alias)
        key("anyCommit", r.anyCommit)
        key("branch", r.branch)
        key("build", r.build)
        key("buildUrl", r.buildUrl)
        key("ci", r.ci)
        key("codeSha256", r.codeSha256)
        if let commit { key("commit", commit) } else { commitGapPending = true }
        key("dirty", r.dirty)
        key("error", r.error)
        key("function", r.function)
        key("overrideProtection", r.overrideProtection)
        key("previousVersion", r.previousVersion)
        key("promotedFrom", r.promotedFrom)
        key("region", r.region)
        key("result", r.result.rawValue)
        key("schema", r.schema)
        key("time", r.time)
        key("tool", r.tool)
        key("trigger", r.trigger.rawValue)
        key("version", r.version)
        key("weight", r.weight)
        raw("}")
        return commitGap
    }

    private mutating func name(_ key: StaticString) {
        if !first { raw(",") }
        first = false
        if commitGapPending {
            commitGap = bytes.count
            commitGapPending = false
        }
        raw("\"")
        raw(key)
        raw("\":")
    }

    private mutating func key(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        name(key)
        string(value)
    }

    private mutating func key(_ key: StaticString, _ value: Bool?) {
        guard let value else { return }
        name(key)
        if value { raw("true") } else { raw("false") }
    }

    private mutating func key(_ key: StaticString, _ value: Int?) {
        guard let value else { return }
        name(key)
        bytes.append(contentsOf: String(value).utf8)
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
