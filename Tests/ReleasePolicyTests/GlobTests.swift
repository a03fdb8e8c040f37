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

    @Test("literal patterns are recognised")
    func literal() {
        #expect(Glob("main").isLiteral)
        #expect(!Glob("release/*").isLiteral)
    }
}
