import Foundation
import Testing
@testable import ReleasePolicy

struct GlobCase: Sendable, CustomTestStringConvertible {
    var pattern: String
    var name: String
    var matches: Bool
    var testDescription: String { "\(pattern) ~ \(name) = \(matches)" }
}

@Suite("Glob")
struct GlobTests {
    @Test(arguments: [
        GlobCase(pattern: "main", name: "main", matches: true),
        GlobCase(pattern: "main", name: "mainline", matches: false),
        GlobCase(pattern: "*", name: "feature", matches: true),
        GlobCase(pattern: "*", name: "feature/x", matches: false),
        GlobCase(pattern: "**", name: "feature/x/y", matches: true),
        GlobCase(pattern: "**", name: "", matches: true),
        GlobCase(pattern: "release/*", name: "release/1.2", matches: true),
        GlobCase(pattern: "release/*", name: "release/1/2", matches: false),
        GlobCase(pattern: "release/*", name: "release/", matches: true),
        GlobCase(pattern: "release/**", name: "release/1/2", matches: true),
        GlobCase(pattern: "**/hotfix", name: "a/b/hotfix", matches: true),
        GlobCase(pattern: "feature-?", name: "feature-a", matches: true),
        GlobCase(pattern: "feature-?", name: "feature-ab", matches: false),
        GlobCase(pattern: "feature-?", name: "feature-/", matches: false),
        GlobCase(pattern: "v[0-9]*", name: "v1.0", matches: true),
        GlobCase(pattern: "v[0-9]*", name: "vx", matches: false),
        GlobCase(pattern: "v[!0-9]*", name: "vx", matches: true),
        GlobCase(pattern: "v[^0-9]*", name: "v1", matches: false),
        GlobCase(pattern: "[]]", name: "]", matches: true),
        GlobCase(pattern: "a[", name: "a[", matches: true),
        GlobCase(pattern: "a\\*", name: "a*", matches: true),
        GlobCase(pattern: "a\\*", name: "ab", matches: false),
        GlobCase(pattern: "fix/ü*", name: "fix/über", matches: true),
        GlobCase(pattern: "*-rc", name: "1.0-rc", matches: true),
        GlobCase(pattern: "Main", name: "main", matches: false),
    ])
    func matches(_ c: GlobCase) {
        #expect(Glob(c.pattern).matches(c.name) == c.matches)
    }

    @Test("a pathological pattern stays fast")
    func pathological() {
        let name = String(repeating: "a", count: 200)
        #expect(Glob(String(repeating: "*a", count: 30) + "b").matches(name) == false)
        #expect(Glob(String(repeating: "**a", count: 30)).matches(name) == true)
    }

    /// The pattern from issue 11 against a long name: the old memoised matcher needed tokens ×
    /// length² steps and a dictionary entry per state; a 10 KB name took minutes.
    @Test("hostile patterns against 10 KB names finish", arguments: [
        String(repeating: "*a", count: 13) + "*b",
        String(repeating: "**a", count: 13) + "**b",
        String(repeating: "*[a-z]", count: 20) + "*/",
        String(repeating: "?*", count: 40) + "b",
    ])
    func hostilePatternsFinish(_ pattern: String) throws {
        let glob = Glob(pattern)
        let names = [
            String(repeating: "a", count: 10_000),
            String(repeating: "a/", count: 5_000),
            String(repeating: "é", count: 10_000),
        ]
        let results = try withHangDetector(seconds: 60) { names.map(glob.matches) }
        #expect(results == [false, false, false])
    }

    /// Property: on small inputs the linear matcher agrees with a plain backtracking matcher over
    /// the same tokens (seeded, so a failure reproduces), and every match finishes.
    @Test("agrees with a backtracking reference", arguments: [1, 2, 3, 4] as [UInt64])
    func agreesWithReference(seed: UInt64) throws {
        var rng = GlobRandom(state: seed)
        let patternAlphabet: [String] = ["a", "b", "/", "*", "**", "?", "[a-b]", "[!a]", "\\*", "[", "é", "-"]
        let nameAlphabet: [Character] = ["a", "b", "/", "*", "é", "-", "["]
        var cases: [(String, String)] = []
        for _ in 0..<3_000 {
            let pattern = (0..<Int.random(in: 0...8, using: &rng)).map { _ in patternAlphabet.randomElement(using: &rng) ?? "" }.joined()
            let name = String((0..<Int.random(in: 0...10, using: &rng)).map { _ in nameAlphabet.randomElement(using: &rng) ?? "a" })
            cases.append((pattern, name))
        }
        let inputs = cases
        let disagreements = try withHangDetector(seconds: 120) {
            inputs.filter { pattern, name in
                let glob = Glob(pattern)
                return glob.matches(name) != referenceMatch(glob.tokens, Array(name.unicodeScalars))
            }.map { "\($0.0) ~ \($0.1)" }
        }
        #expect(disagreements.isEmpty)
    }

    @Test("literal patterns are recognised")
    func literal() {
        #expect(Glob("main").isLiteral)
        #expect(!Glob("release/*").isLiteral)
    }
}

/// The obvious recursive matcher: exponential in the worst case, so only for small inputs.
private func referenceMatch(_ tokens: [Glob.Token], _ text: [Unicode.Scalar]) -> Bool {
    func match(_ t: Int, _ i: Int) -> Bool {
        guard t < tokens.count else { return i == text.count }
        switch tokens[t] {
        case .literal(let scalar):
            return i < text.count && text[i] == scalar && match(t + 1, i + 1)
        case .anyOne:
            return i < text.count && text[i] != "/" && match(t + 1, i + 1)
        case .set(let negated, let items):
            guard i < text.count, text[i] != "/" else { return false }
            let inSet = items.contains { item in
                switch item {
                case .single(let s): return s == text[i]
                case .range(let lo, let hi): return lo <= text[i] && text[i] <= hi
                }
            }
            return inSet != negated && match(t + 1, i + 1)
        case .anyRun:
            var j = i
            while true {
                if match(t + 1, j) { return true }
                if j >= text.count || text[j] == "/" { return false }
                j += 1
            }
        case .anyRunCrossing:
            return (i...text.count).contains { match(t + 1, $0) }
        }
    }
    return match(0, 0)
}

/// Runs `body` on its own thread and fails the test if it has not returned after `seconds`: a
/// generous bound that only a hang exceeds (performance targets live in ci/bench*, not here).
private func withHangDetector<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    let box = ResultBox<T>()
    let thread = Thread {
        box.set(Result { try body() })
        done.signal()
    }
    thread.stackSize = 8 << 20
    thread.start()
    guard done.wait(timeout: .now() + seconds) == .success, let result = box.get() else {
        Issue.record("did not finish within \(seconds) s: a hang")
        throw HangDetected()
    }
    return try result.get()
}

private struct HangDetected: Error {}

private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<T, any Error>?
    func set(_ result: Result<T, any Error>) { lock.withLock { value = result } }
    func get() -> Result<T, any Error>? { lock.withLock { value } }
}

/// SplitMix64, private to this file so it cannot clash with other suites' helpers.
private struct GlobRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
