/// A small glob matcher for branch and tag names, with the semantics of GitHub Actions' branch
/// filters (which most users already know):
///
/// - `*` matches any run of characters except `/` (`release/*` matches `release/1.2`, not
///   `release/1/hotfix`);
/// - `**` matches any run of characters including `/` (`**` matches every branch);
/// - `?` matches one character except `/`;
/// - `[abc]`, `[a-z]`, `[!a-z]` / `[^a-z]` match one character from (or not from) a set;
/// - `\` makes the next character literal.
///
/// Matching is on Unicode scalars and case-sensitive, like git ref names. An unterminated `[` is
/// taken literally rather than rejected, so a config can never make matching throw.
public struct Glob: Sendable, Equatable, Hashable, CustomStringConvertible {
    public let pattern: String
    /// Internal so tests can run a reference matcher over the same tokens.
    let tokens: [Token]

    enum Token: Sendable, Equatable, Hashable {
        case literal(Unicode.Scalar)
        case anyRun          // *
        case anyRunCrossing  // **
        case anyOne          // ?
        case set(negated: Bool, items: [SetItem])
    }

    enum SetItem: Sendable, Equatable, Hashable {
        case single(Unicode.Scalar)
        case range(Unicode.Scalar, Unicode.Scalar)
    }

    public init(_ pattern: String) {
        self.pattern = pattern
        self.tokens = Self.tokenize(Array(pattern.unicodeScalars))
    }

    public var description: String { pattern }

    /// Whether the pattern has any wildcard at all (an exact name wins over globs).
    public var isLiteral: Bool {
        tokens.allSatisfy { if case .literal = $0 { return true } else { return false } }
    }

    /// Whether `name` matches the whole pattern.
    ///
    /// Keeps the set of positions in `name` each token can be reached at (a Thompson-style
    /// simulation) instead of backtracking: time is tokens × characters, so no pattern from a
    /// config can make matching hang on a long ref name.
    public func matches(_ name: String) -> Bool {
        let text = Array(name.unicodeScalars)
        let n = text.count
        var current = [Bool](repeating: false, count: n + 1)
        var next = current
        current[0] = true
        for token in tokens {
            for j in 0...n { next[j] = false }
            var alive = false
            switch token {
            case .literal(let scalar):
                for i in 0..<n where current[i] && text[i] == scalar {
                    next[i + 1] = true
                    alive = true
                }
            case .anyOne:
                for i in 0..<n where current[i] && text[i] != "/" {
                    next[i + 1] = true
                    alive = true
                }
            case .set(let negated, let items):
                for i in 0..<n where current[i] && text[i] != "/" {
                    let inSet = items.contains { item in
                        switch item {
                        case .single(let s): return s == text[i]
                        case .range(let lo, let hi): return lo <= text[i] && text[i] <= hi
                        }
                    }
                    if inSet != negated {
                        next[i + 1] = true
                        alive = true
                    }
                }
            case .anyRun, .anyRunCrossing:
                // From a reachable position, every later one up to the next `/` (or the end, when crossing).
                let crossing = token == .anyRunCrossing
                var active = false
                for j in 0...n {
                    if current[j] { active = true }
                    if active {
                        next[j] = true
                        alive = true
                    }
                    if !crossing && j < n && text[j] == "/" { active = false }
                }
            }
            guard alive else { return false }
            swap(&current, &next)
        }
        return current[n]
    }

    private static func tokenize(_ s: [Unicode.Scalar]) -> [Token] {
        var tokens: [Token] = []
        var i = 0
        while i < s.count {
            let c = s[i]
            switch c {
            case "\\":
                if i + 1 < s.count {
                    tokens.append(.literal(s[i + 1]))
                    i += 2
                } else {
                    tokens.append(.literal(c))
                    i += 1
                }
            case "*":
                if i + 1 < s.count, s[i + 1] == "*" {
                    var j = i
                    while j < s.count, s[j] == "*" { j += 1 }
                    tokens.append(.anyRunCrossing)
                    i = j
                } else {
                    tokens.append(.anyRun)
                    i += 1
                }
            case "?":
                tokens.append(.anyOne)
                i += 1
            case "[":
                if let (token, next) = parseSet(s, from: i) {
                    tokens.append(token)
                    i = next
                } else {
                    tokens.append(.literal(c))
                    i += 1
                }
            default:
                tokens.append(.literal(c))
                i += 1
            }
        }
        return tokens
    }

    /// Parses `[...]` starting at `start` (the `[`); nil when there is no closing `]`.
    private static func parseSet(_ s: [Unicode.Scalar], from start: Int) -> (Token, Int)? {
        var i = start + 1
        var negated = false
        if i < s.count, s[i] == "!" || s[i] == "^" {
            negated = true
            i += 1
        }
        var items: [SetItem] = []
        var first = true
        while i < s.count {
            var c = s[i]
            if c == "]", !first {
                return (.set(negated: negated, items: items), i + 1)
            }
            first = false
            if c == "\\", i + 1 < s.count {
                i += 1
                c = s[i]
            }
            if i + 2 < s.count, s[i + 1] == "-", s[i + 2] != "]" {
                let hi = s[i + 2]
                items.append(.range(min(c, hi), max(c, hi)))
                i += 3
            } else {
                items.append(.single(c))
                i += 1
            }
        }
        return nil
    }
}
