import Foundation
import Testing
@testable import Packaging

/// The ignore-rule matcher against hostile patterns (issue 11: `*a*a*a*a*a*a*a*a*a*a*a*a*a*b` in a
/// .lambdaignore hung packaging) and against a plain backtracking reference on small inputs.
@Suite struct PathGlobTests {
    @Test(arguments: [
        String(repeating: "*a", count: 13) + "*b",
        String(repeating: "**/a", count: 13) + "/**/b",
        "**/" + String(repeating: "*a", count: 20) + "b",
        String(repeating: "?*", count: 40) + "b",
        String(repeating: "*[a-z]", count: 20) + "*/",
    ])
    func hostilePatternAgainst10KBNamesFinishes(_ pattern: String) throws {
        let rules = IgnoreRules(patterns: [pattern, "/" + pattern])
        let names = [
            String(repeating: "a", count: 10_000),
            String(repeating: "a/", count: 5_000) + "c",
            String(repeating: "é", count: 5_000),
        ]
        // `matches` is the walker's decision for one path (it never re-tests parents).
        let results = try withHangDetector(seconds: 60) {
            names.map { rules.matches(Array($0.utf8)[...], isDirectory: false) }
        }
        #expect(results == [false, false, false])
    }

    @Test func hostilePatternInALambdaignoreFileFinishes() throws {
        try withTemporaryDirectory { tmp in
            let tree = TreeBuilder(root: tmp + "/fn")
            try tree.file(".lambdaignore", String(repeating: "*a", count: 13) + "*b\n")
            try tree.file(String(repeating: "a", count: 250), "x")
            try tree.file("handler.py", "x")
            let result = try withHangDetector(seconds: 60) { try packageTree(tmp + "/fn", to: tmp + "/out.zip") }
            #expect(result.files == 3)
        }
    }

    /// Property: on short patterns and names over a small alphabet (where backtracking is cheap),
    /// the linear matcher decides exactly as the backtracking matcher it replaced.
    @Test(arguments: [11, 12, 13, 14] as [UInt64])
    func agreesWithBacktrackingReference(seed: UInt64) throws {
        var rng = SeededGenerator(state: seed)
        let patternPieces: [[UInt8]] = ["a", "b", "/", "*", "**", "**/", "/**", "?", "[ab]", "[!a]", "[a-]", "[]a]", "[", "\\*", "\\", "é"].map { Array($0.utf8) } + [[0xC3], [0xE2, 0x82]]
        let namePieces: [[UInt8]] = ["a", "b", "/", "*", "[", "-", "é", "€"].map { Array($0.utf8) } + [[0xC3], [0xFF]]
        var cases: [([UInt8], [UInt8])] = []
        for _ in 0..<4_000 {
            let pattern = (0..<Int.random(in: 1...7, using: &rng)).flatMap { _ in patternPieces[Int.random(in: 0..<patternPieces.count, using: &rng)] }
            let name = (0..<Int.random(in: 0...9, using: &rng)).flatMap { _ in namePieces[Int.random(in: 0..<namePieces.count, using: &rng)] }
            cases.append((pattern, name))
        }
        let inputs = cases
        let disagreements = try withHangDetector(seconds: 120) {
            inputs.filter { pattern, name in
                PathGlob(pattern).matches(name[...]) != BacktrackingGlob.match(pattern, 0, name, 0)
            }.map { "\(String(decoding: $0.0, as: UTF8.self)) ~ \(String(decoding: $0.1, as: UTF8.self))" }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(10))")
    }
}

/// The recursive wildmatch this project used before (exponential on hostile patterns), kept as
/// the reference for the semantics the linear matcher must keep.
private enum BacktrackingGlob {
    static let star = UInt8(ascii: "*")
    static let slash = UInt8(ascii: "/")

    static func match(_ p: [UInt8], _ startP: Int, _ s: [UInt8], _ startS: Int) -> Bool {
        var pi = startP
        var si = startS
        while pi < p.count {
            switch p[pi] {
            case star:
                var end = pi + 1
                while end < p.count && p[end] == star { end += 1 }
                let isDoubleStar = end - pi >= 2 && (pi == 0 || p[pi - 1] == slash) && (end == p.count || p[end] == slash)
                if isDoubleStar {
                    if end == p.count { return true }
                    var k = si
                    while true {
                        if match(p, end + 1, s, k) { return true }
                        guard k < s.count, let next = s[k...].firstIndex(of: slash) else { return false }
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
                si += s[si] >= 0xF0 ? 4 : s[si] >= 0xE0 ? 3 : s[si] >= 0xC0 ? 2 : 1
                pi += 1
            case UInt8(ascii: "["):
                guard let (matched, next) = matchClass(p, pi, s, si) else {
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

    static func matchClass(_ p: [UInt8], _ open: Int, _ s: [UInt8], _ si: Int) -> (Bool, Int)? {
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
                if let byte, c <= byte && byte <= p[i + 2] { found = true }
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
}
