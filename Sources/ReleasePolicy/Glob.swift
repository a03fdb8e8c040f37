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
    private let tokens: [Token]

    private enum Token: Sendable, Equatable, Hashable {
        case literal(Unicode.Scalar)
        case anyRun          // *
        case anyRunCrossing  // **
        case anyOne          // ?
        case set(negated: Bool, items: [SetItem])
    }

    private enum SetItem: Sendable, Equatable, Hashable {
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
    public func matches(_ name: String) -> Bool {
        let text = Array(name.unicodeScalars)
        // Iterative matcher with memo over (token index, text index): linear-ish and no recursion
        // depth problems on long names.
        var memo = [Int: Bool]()
        func match(_ t: Int, _ i: Int) -> Bool {
            let key = t &* (text.count + 1) &+ i
            if let known = memo[key] { return known }
            let result: Bool
            if t == tokens.count {
                result = i == text.count
            } else {
                switch tokens[t] {
                case .literal(let scalar):
                    result = i < text.count && text[i] == scalar && match(t + 1, i + 1)
                case .anyOne:
                    result = i < text.count && text[i] != "/" && match(t + 1, i + 1)
                case .set(let negated, let items):
                    if i < text.count, text[i] != "/" {
                        let inSet = items.contains { item in
                            switch item {
                            case .single(let s): return s == text[i]
                            case .range(let lo, let hi): return lo <= text[i] && text[i] <= hi
                            }
                        }
                        result = inSet != negated && match(t + 1, i + 1)
                    } else {
                        result = false
                    }
                case .anyRun:
                    var j = i
                    var found = match(t + 1, j)
                    while !found, j < text.count, text[j] != "/" {
                        j += 1
                        found = match(t + 1, j)
                    }
                    result = found
                case .anyRunCrossing:
                    var j = i
                    var found = match(t + 1, j)
                    while !found, j < text.count {
                        j += 1
                        found = match(t + 1, j)
                    }
                    result = found
                }
            }
            memo[key] = result
            return result
        }
        return match(0, 0)
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
