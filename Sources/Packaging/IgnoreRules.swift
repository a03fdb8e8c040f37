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
        var glob: PathGlob
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
        for rule in rules.reversed() {
            if rule.directoryOnly && !isDirectory { continue }
            let subject = rule.anchored ? path : base
            if rule.glob.matches(subject) { return !rule.negated }
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
        return Rule(pattern: line, glob: PathGlob(line), negated: negated, directoryOnly: directoryOnly, anchored: anchored)
    }
}

