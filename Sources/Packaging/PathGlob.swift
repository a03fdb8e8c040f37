/// A compiled gitignore pattern (wildmatch with `WM_PATHNAME`), matched on UTF-8 bytes in time
/// linear in the path's length.
///
/// Semantics: `*` matches any run of bytes but `/`; `?` matches one character (a UTF-8 sequence,
/// judged by its lead byte) but `/`; `[...]` matches one byte from a set (`!`/`^` negates, `a-z`
/// ranges, `\` escapes, a leading `]` is literal, no closing `]` makes the `[` literal) and never
/// `/`; `\x` is a literal `x`. Two or more stars that fill a whole path component are special: a
/// leading or middle `**/` matches zero or more directories, a trailing `/**` (or a pattern that
/// is only stars) matches everything; elsewhere they act as one `*`.
///
/// Matching keeps the set of path offsets each pattern token can be reached at (a Thompson-style
/// simulation) instead of backtracking, so `*a*a*a*a*a*a*a*a*a*a*a*a*a*b` against a long name
/// costs tokens × bytes, not an exponential search.
struct PathGlob: Sendable, Equatable {
    enum Token: Sendable, Equatable {
        case byte(UInt8)
        /// `?`: one UTF-8 sequence, not `/`.
        case character
        /// `[...]`: membership of each byte (bit set over 0...255); `/` is never a member.
        case set(ByteSet)
        /// `*`: any run of bytes without `/`.
        case star
        /// `**/`: zero or more whole directories (the slash after the stars is part of the token).
        case directories
        /// Trailing `/**`, or a pattern of only stars: anything from here on, including nothing.
        case everything
    }

    struct ByteSet: Sendable, Equatable {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

        static func == (a: ByteSet, b: ByteSet) -> Bool { a.words == b.words }

        func contains(_ byte: UInt8) -> Bool {
            let bit = UInt64(1) << UInt64(byte & 63)
            switch byte >> 6 {
            case 0: return words.0 & bit != 0
            case 1: return words.1 & bit != 0
            case 2: return words.2 & bit != 0
            default: return words.3 & bit != 0
            }
        }

        mutating func insert(_ byte: UInt8) {
            let bit = UInt64(1) << UInt64(byte & 63)
            switch byte >> 6 {
            case 0: words.0 |= bit
            case 1: words.1 |= bit
            case 2: words.2 |= bit
            default: words.3 |= bit
            }
        }
    }

    let tokens: [Token]
    /// The pattern has no wildcard: a byte comparison decides.
    private let literal: [UInt8]?

    init(_ pattern: [UInt8]) {
        tokens = Self.compile(pattern)
        var bytes: [UInt8] = []
        for token in tokens {
            guard case .byte(let b) = token else {
                literal = nil
                return
            }
            bytes.append(b)
        }
        literal = bytes
    }

    static func == (a: PathGlob, b: PathGlob) -> Bool { a.tokens == b.tokens }

    func matches(_ subject: ArraySlice<UInt8>) -> Bool {
        if let literal { return subject.elementsEqual(literal) }
        let slash = Self.slash
        let n = subject.count
        return withUnsafeTemporaryAllocation(of: Bool.self, capacity: 2 * (n + 1)) { buffer in
            guard let base = buffer.baseAddress else { return false }
            var current = base
            var next = base + (n + 1)
            current.initialize(repeating: false, count: n + 1)
            current[0] = true
            return subject.withContiguousStorageIfAvailable { s -> Bool in
                for token in tokens {
                    // Some offset is always reachable here (a dead set returns early below).
                    if case .everything = token { return true }
                    next.initialize(repeating: false, count: n + 1)
                    var alive = false
                    switch token {
                    case .byte(let c):
                        for i in 0..<n where current[i] && s[i] == c {
                            next[i + 1] = true
                            alive = true
                        }
                    case .character:
                        for i in 0..<n where current[i] && s[i] != slash {
                            // A lead byte that claims more bytes than remain cannot match.
                            let j = i + utf8Length(s[i])
                            if j <= n {
                                next[j] = true
                                alive = true
                            }
                        }
                    case .set(let members):
                        for i in 0..<n where current[i] && members.contains(s[i]) {
                            next[i + 1] = true
                            alive = true
                        }
                    case .star:
                        var active = false
                        for j in 0...n {
                            if current[j] { active = true }
                            if active {
                                next[j] = true
                                alive = true
                            }
                            if j < n && s[j] == slash { active = false }
                        }
                    case .directories:
                        var active = false
                        for j in 0...n {
                            if current[j] {
                                active = true
                                next[j] = true
                                alive = true
                            }
                            if active && j < n && s[j] == slash { next[j + 1] = true }
                        }
                    case .everything:
                        break
                    }
                    guard alive else { return false }
                    swap(&current, &next)
                }
                return current[n]
            } ?? false
        }
    }

    private static let slash = UInt8(ascii: "/")

    /// Turns the pattern into tokens, reading it exactly as wildmatch does (see the type's comment).
    private static func compile(_ p: [UInt8]) -> [Token] {
        var tokens: [Token] = []
        var pi = 0
        while pi < p.count {
            switch p[pi] {
            case UInt8(ascii: "*"):
                var end = pi + 1
                while end < p.count && p[end] == UInt8(ascii: "*") { end += 1 }
                let wholeComponent = end - pi >= 2 && (pi == 0 || p[pi - 1] == slash) && (end == p.count || p[end] == slash)
                if wholeComponent && end == p.count {
                    tokens.append(.everything)
                    return tokens
                }
                if wholeComponent {
                    tokens.append(.directories)
                    pi = end + 1
                } else {
                    tokens.append(.star)
                    pi = end
                }
            case UInt8(ascii: "?"):
                tokens.append(.character)
                pi += 1
            case UInt8(ascii: "["):
                if let (set, next) = compileSet(p, pi) {
                    tokens.append(.set(set))
                    pi = next
                } else {
                    tokens.append(.byte(p[pi]))
                    pi += 1
                }
            case UInt8(ascii: "\\") where pi + 1 < p.count:
                tokens.append(.byte(p[pi + 1]))
                pi += 2
            default:
                tokens.append(.byte(p[pi]))
                pi += 1
            }
        }
        return tokens
    }

    /// The bytes `[...]` at `open` matches; nil when the class has no closing bracket.
    private static func compileSet(_ p: [UInt8], _ open: Int) -> (ByteSet, Int)? {
        var i = open + 1
        var negate = false
        if i < p.count && (p[i] == UInt8(ascii: "!") || p[i] == UInt8(ascii: "^")) {
            negate = true
            i += 1
        }
        var listed = ByteSet()
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
                if c <= high {
                    for byte in c...high { listed.insert(byte) }
                }
                i += 3
            } else {
                listed.insert(c)
                i += 1
            }
        }
        guard i < p.count else { return nil }
        var members = ByteSet()
        for byte in UInt8.min...UInt8.max where byte != slash && listed.contains(byte) != negate {
            members.insert(byte)
        }
        return (members, i + 1)
    }
}

/// How many bytes the UTF-8 sequence starting with `lead` claims (1 for ASCII and stray bytes).
private func utf8Length(_ lead: UInt8) -> Int {
    switch lead {
    case 0xF0...: return 4
    case 0xE0...: return 3
    case 0xC0...: return 2
    default: return 1
    }
}
