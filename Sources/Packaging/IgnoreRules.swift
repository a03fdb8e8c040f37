/// `.lambdaignore` rules: gitignore syntax, evaluated against paths relative to the function directory.
///
/// Follows https://git-scm.com/docs/gitignore: blank lines and `#` comments are skipped, `!` re-includes,
/// a trailing `/` matches directories only, a pattern with a `/` at its start or middle is anchored at
/// the root (otherwise it matches a name at any depth), `*`/`?`/`[...]` do not cross `/`, and `**`
/// as a whole path component matches any number of directories. The last matching rule wins, and a
/// file inside an ignored directory stays ignored (git cannot re-include it either).
public struct IgnoreRules: Sendable, Equatable {
    struct Rule: Sendable, Equatable {
        var pattern: [UInt8]
        var negated: Bool
        var directoryOnly: Bool
        var anchored: Bool
    }

    var rules: [Rule]

    /// Parses gitignore-style lines (the lines of a `.lambdaignore` file, or `--exclude` values).
    public init(patterns: [String]) {
        rules = patterns.compactMap(IgnoreRules.parse)
    }

    public var isEmpty: Bool { rules.isEmpty }

    /// Appends rules that come later and therefore take precedence (`--exclude` after `.lambdaignore`).
    public func adding(_ other: IgnoreRules) -> IgnoreRules {
        var copy = self
        copy.rules += other.rules
        return copy
    }

    /// Whether `relativePath` (with `/` separators) is left out, including because a parent directory is.
    public func isIgnored(_ relativePath: String, isDirectory: Bool) -> Bool {
        let bytes = Array(relativePath.utf8)
        var index = 0
        while let slash = bytes[index...].firstIndex(of: UInt8(ascii: "/")) {
            if matches(bytes[..<slash], isDirectory: true) { return true }
            index = slash + 1
        }
        return matches(bytes[...], isDirectory: isDirectory)
    }

    /// The decision for this path alone (the walker never descends into an ignored directory).
    func matches(_ path: ArraySlice<UInt8>, isDirectory: Bool) -> Bool {
        guard !rules.isEmpty else { return false }
        let base: ArraySlice<UInt8>
        if let slash = path.lastIndex(of: UInt8(ascii: "/")) {
            base = path[(slash + 1)...]
        } else {
            base = path
        }
        let full = Array(path)
        let name = Array(base)
        for rule in rules.reversed() {
            if rule.directoryOnly && !isDirectory { continue }
            let subject = rule.anchored ? full : name
            if Glob.match(pattern: rule.pattern, subject) { return !rule.negated }
        }
        return false
    }

    static func parse(_ rawLine: String) -> Rule? {
        var line = Array(rawLine.utf8)
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        // Trailing spaces are dropped unless escaped with a backslash.
        while line.last == UInt8(ascii: " ") {
            if line.count >= 2 && line[line.count - 2] == UInt8(ascii: "\\") { break }
            line.removeLast()
        }
        guard let first = line.first, first != UInt8(ascii: "#") else { return nil }
        var negated = false
        if first == UInt8(ascii: "!") {
            negated = true
            line.removeFirst()
        }
        var directoryOnly = false
        while line.last == UInt8(ascii: "/") {
            directoryOnly = true
            line.removeLast()
        }
        guard !line.isEmpty else { return nil }
        var anchored = line.contains(UInt8(ascii: "/"))
        if line.first == UInt8(ascii: "/") {
            line.removeFirst()
            anchored = true
        }
        guard !line.isEmpty else { return nil }
        return Rule(pattern: line, negated: negated, directoryOnly: directoryOnly, anchored: anchored)
    }
}

/// Glob matching with gitignore's (wildmatch `WM_PATHNAME`) meaning, on UTF-8 bytes.
enum Glob {
    private static let star = UInt8(ascii: "*")
    private static let slash = UInt8(ascii: "/")

    static func match(pattern: [UInt8], _ subject: [UInt8]) -> Bool {
        match(pattern, 0, subject, 0)
    }

    private static func match(_ p: [UInt8], _ startP: Int, _ s: [UInt8], _ startS: Int) -> Bool {
        var pi = startP
        var si = startS
        while pi < p.count {
            switch p[pi] {
            case star:
                var end = pi + 1
                while end < p.count && p[end] == star { end += 1 }
                let isDoubleStar = end - pi >= 2 && (pi == 0 || p[pi - 1] == slash) && (end == p.count || p[end] == slash)
                if isDoubleStar {
                    // Trailing `/**`: everything below. Otherwise `**/`: zero or more leading directories.
                    if end == p.count { return true }
                    var k = si
                    while true {
                        if match(p, end + 1, s, k) { return true }
                        guard let next = s[k...].firstIndex(of: slash) else { return false }
                        k = next + 1
                    }
                }
                var k = si
                while true {
                    if match(p, end, s, k) { return true }
                    if k >= s.count || s[k] == slash { return false }
                    k += 1
                }
            case UInt8(ascii: "?"):
                guard si < s.count, s[si] != slash else { return false }
                si += utf8Length(s[si])
                pi += 1
            case UInt8(ascii: "["):
                guard let (matched, next) = matchClass(p, pi, s, si) else {
                    // No closing bracket: a literal `[`.
                    guard si < s.count, s[si] == p[pi] else { return false }
                    pi += 1
                    si += 1
                    continue
                }
                guard matched else { return false }
                pi = next
                si += 1
            case UInt8(ascii: "\\") where pi + 1 < p.count:
                guard si < s.count, s[si] == p[pi + 1] else { return false }
                pi += 2
                si += 1
            default:
                guard si < s.count, s[si] == p[pi] else { return false }
                pi += 1
                si += 1
            }
        }
        return si == s.count
    }

    /// Matches one byte against `[...]`; nil when the class has no closing bracket.
    private static func matchClass(_ p: [UInt8], _ open: Int, _ s: [UInt8], _ si: Int) -> (Bool, Int)? {
        var i = open + 1
        var negate = false
        if i < p.count && (p[i] == UInt8(ascii: "!") || p[i] == UInt8(ascii: "^")) {
            negate = true
            i += 1
        }
        let byte: UInt8? = si < s.count && s[si] != slash ? s[si] : nil
        var found = false
        var first = true
        while i < p.count {
            var c = p[i]
            if c == UInt8(ascii: "]") && !first { break }
            first = false
            if c == UInt8(ascii: "\\") && i + 1 < p.count {
                i += 1
                c = p[i]
            }
            if i + 2 < p.count && p[i + 1] == UInt8(ascii: "-") && p[i + 2] != UInt8(ascii: "]") {
                let high = p[i + 2]
                if let byte, c <= byte && byte <= high { found = true }
                i += 3
            } else {
                if let byte, byte == c { found = true }
                i += 1
            }
        }
        guard i < p.count else { return nil }
        guard byte != nil else { return (false, i + 1) }
        return (found != negate, i + 1)
    }

    private static func utf8Length(_ lead: UInt8) -> Int {
        switch lead {
        case 0xF0...: return 4
        case 0xE0...: return 3
        case 0xC0...: return 2
        default: return 1
        }
    }
}
