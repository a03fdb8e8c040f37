/// Text from outside made safe to show on a terminal or in a log: one value, one line, no
/// control sequences.
///
/// Record fields, branch names, CI variables and server messages can carry ESC sequences (which
/// clear screens or set window titles), carriage returns (which overwrite what was printed) and
/// newlines (which forge a whole extra line, e.g. a fake `deployed` record). Human output passes
/// every outside value through ``escaped(_:)``; JSON output escapes them by JSON's own rules.
public enum DisplayText {
    /// `value` with every control character (C0, DEL, C1), and every Unicode bidirectional
    /// override, written as a visible escape: `\n`, `\r`, `\t`, `\e`, else `\u{XX}`.
    public static func escaped(_ value: String) -> String {
        guard value.unicodeScalars.contains(where: needsEscape) else { return value }
        var out = String.UnicodeScalarView()
        for scalar in value.unicodeScalars {
            guard needsEscape(scalar) else {
                out.append(scalar)
                continue
            }
            let text: String
            switch scalar {
            case "\n": text = "\\n"
            case "\r": text = "\\r"
            case "\t": text = "\\t"
            case "\u{1B}": text = "\\e"
            default: text = "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
            out.append(contentsOf: text.unicodeScalars)
        }
        return String(out)
    }

    /// Whether `scalar` must not reach a terminal raw.
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) { return true }
        // Bidirectional overrides and isolates reorder what a reader sees ("Trojan Source").
        return (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v) || v == 0x200E || v == 0x200F
    }

    /// `value` escaped and cut to `limit` characters with an ellipsis, for error messages that
    /// quote something long (a server message, a pasted value).
    public static func excerpt(_ value: String, limit: Int = 200) -> String {
        let shown = escaped(value)
        guard shown.count > limit else { return shown }
        return String(shown.prefix(limit)) + "..."
    }
}

/// URLs from outside with their credentials masked.
public enum URLText {
    /// Every `scheme://userinfo@` in `text` becomes `scheme://***@`: a clone, build or proxy
    /// URL can carry `user:password@` or a token as the user, and none of it may be printed or
    /// recorded. Text without `://` comes back unchanged.
    public static func maskingUserinfo(_ text: String) -> String {
        guard text.utf8.count >= 4, text.contains("://") else { return text }
        let bytes = Array(text.utf8)
        return String(decoding: maskingUserinfo(bytes), as: UTF8.self)
    }

    /// The byte-level form of ``maskingUserinfo(_:)-(String)``, for large outputs.
    public static func maskingUserinfo(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var copied = 0
        var index = 0
        let count = bytes.count
        while index + 2 < count {
            guard bytes[index] == 0x3A, bytes[index + 1] == 0x2F, bytes[index + 2] == 0x2F else {  // "://"
                index += 1
                continue
            }
            let authorityStart = index + 3
            var end = authorityStart
            var at = -1
            while end < count {
                let byte = bytes[end]
                // The authority ends at a path, query or fragment, or where the URL itself ends.
                if byte == 0x2F || byte == 0x3F || byte == 0x23 || byte <= 0x20 || byte == 0x22 || byte == 0x27
                    || byte == 0x3C || byte == 0x3E || byte == 0x5C || byte == 0x60 || byte == 0x7F
                {
                    break
                }
                if byte == 0x40 { at = end }
                end += 1
            }
            if at >= authorityStart {
                if out.isEmpty { out.reserveCapacity(count) }
                out.append(contentsOf: bytes[copied..<authorityStart])
                out.append(contentsOf: [0x2A, 0x2A, 0x2A])  // ***
                copied = at
            }
            index = max(end, index + 3)
        }
        if copied == 0 { return bytes }
        out.append(contentsOf: bytes[copied...])
        return out
    }
}

extension String {
    fileprivate func contains(_ needle: String) -> Bool {
        let hay = Array(utf8), pattern = Array(needle.utf8)
        guard !pattern.isEmpty, hay.count >= pattern.count else { return pattern.isEmpty }
        outer: for start in 0...(hay.count - pattern.count) {
            for offset in 0..<pattern.count where hay[start + offset] != pattern[offset] { continue outer }
            return true
        }
        return false
    }
}
