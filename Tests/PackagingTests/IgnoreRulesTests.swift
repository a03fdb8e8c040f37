import Testing
@testable import Packaging

struct IgnoreCase: Sendable, CustomTestStringConvertible {
    var patterns: [String]
    var path: String
    var isDirectory = false
    var ignored: Bool
    var testDescription: String { "\(patterns) \(path)\(isDirectory ? "/" : "") -> \(ignored ? "ignored" : "kept")" }
}

@Suite struct IgnoreRulesTests {
    static let cases: [IgnoreCase] = [
        // Comments, blanks, escapes
        IgnoreCase(patterns: ["# comment", ""], path: "# comment", ignored: false),
        IgnoreCase(patterns: ["\\#literal"], path: "#literal", ignored: true),
        IgnoreCase(patterns: ["\\!important"], path: "!important", ignored: true),
        IgnoreCase(patterns: ["trailing   "], path: "trailing", ignored: true),
        // Unanchored names match at any depth
        IgnoreCase(patterns: ["*.pyc"], path: "a/b/c.pyc", ignored: true),
        IgnoreCase(patterns: ["*.pyc"], path: "c.py", ignored: false),
        IgnoreCase(patterns: ["tests"], path: "pkg/tests", isDirectory: true, ignored: true),
        IgnoreCase(patterns: ["tests"], path: "pkg/tests/test_x.py", ignored: true),
        // `*` and `?` do not cross `/`
        IgnoreCase(patterns: ["docs/*.md"], path: "docs/a.md", ignored: true),
        IgnoreCase(patterns: ["docs/*.md"], path: "docs/sub/a.md", ignored: false),
        IgnoreCase(patterns: ["a?c"], path: "a/c", ignored: false),
        IgnoreCase(patterns: ["a?c"], path: "abc", ignored: true),
        IgnoreCase(patterns: ["caf?.txt"], path: "café.txt", ignored: true),
        // Anchoring
        IgnoreCase(patterns: ["/build"], path: "build", isDirectory: true, ignored: true),
        IgnoreCase(patterns: ["/build"], path: "src/build", isDirectory: true, ignored: false),
        IgnoreCase(patterns: ["src/build"], path: "x/src/build", isDirectory: true, ignored: false),
        // Trailing slash: directories only
        IgnoreCase(patterns: ["cache/"], path: "cache", ignored: false),
        IgnoreCase(patterns: ["cache/"], path: "a/cache", isDirectory: true, ignored: true),
        IgnoreCase(patterns: ["cache/"], path: "a/cache/x", ignored: true),
        // `**`
        IgnoreCase(patterns: ["**/fixtures"], path: "fixtures", isDirectory: true, ignored: true),
        IgnoreCase(patterns: ["**/fixtures"], path: "a/b/fixtures", isDirectory: true, ignored: true),
        IgnoreCase(patterns: ["docs/**"], path: "docs/a/b.txt", ignored: true),
        IgnoreCase(patterns: ["docs/**"], path: "docs", isDirectory: true, ignored: false),
        IgnoreCase(patterns: ["a/**/z"], path: "a/z", ignored: true),
        IgnoreCase(patterns: ["a/**/z"], path: "a/b/c/z", ignored: true),
        IgnoreCase(patterns: ["a/**/z"], path: "b/a/z", ignored: false),
        IgnoreCase(patterns: ["**/*.so"], path: "numpy/core/_x.so", ignored: true),
        // Character classes
        IgnoreCase(patterns: ["*.py[co]"], path: "m.pyc", ignored: true),
        IgnoreCase(patterns: ["*.py[co]"], path: "m.py", ignored: false),
        IgnoreCase(patterns: ["[!a]*"], path: "abc", ignored: false),
        IgnoreCase(patterns: ["[a-c]x"], path: "bx", ignored: true),
        // Negation: last match wins; a parent's exclusion cannot be undone
        IgnoreCase(patterns: ["*.txt", "!keep.txt"], path: "keep.txt", ignored: false),
        IgnoreCase(patterns: ["!keep.txt", "*.txt"], path: "keep.txt", ignored: true),
        IgnoreCase(patterns: ["logs/", "!logs/keep.txt"], path: "logs/keep.txt", ignored: true),
        IgnoreCase(patterns: ["logs/*", "!logs/keep.txt"], path: "logs/keep.txt", ignored: false),
    ]

    @Test(arguments: cases)
    func gitignoreSemantics(_ c: IgnoreCase) {
        #expect(IgnoreRules(patterns: c.patterns).isIgnored(c.path, isDirectory: c.isDirectory) == c.ignored)
    }

    @Test func lambdaignoreExcludesAndGitignoreDoesNotApply() throws {
        try withTemporaryDirectory { tmp in
            let tree = TreeBuilder(root: tmp + "/fn")
            try tree.file("handler.py", "x")
            try tree.file("node_modules/dep/index.js", "x")
            try tree.file("tests/test_handler.py", "x")
            try tree.file("notes.md", "x")
            try tree.file("README.md", "x")
            try tree.file(".git/config", "x")
            try tree.file("sub/.git", "gitdir: ../.git/modules/sub")
            try tree.file("sub/keep.py", "x")
            try tree.file(".gitignore", "node_modules/\n")
            try tree.file(".lambdaignore", "# dev only\ntests/\n*.md\n!README.md\n")
            _ = try packageTree(tmp + "/fn", to: tmp + "/fn.zip") { $0.excludes = ["sub/keep.py"] }
            let names = try readWithPython(tmp + "/fn.zip").map(\.name)
            #expect(names == [".gitignore", ".lambdaignore", "README.md", "handler.py", "node_modules/dep/index.js"])
        }
    }

    /// `package DIR --output DIR/x.zip` used to skip the zip while walking; now it is refused
    /// (HostileInputTests), so rules about the output never matter. A cache inside the tree is
    /// still skipped (DeterminismTests.cacheInsideTheDirectoryIsNotPackaged).
    @Test func ignoredSymlinkNeedsNoValidTarget() throws {
        try withTemporaryDirectory { tmp in
            let tree = TreeBuilder(root: tmp + "/fn")
            try tree.file("handler.py", "x")
            try tree.symlink("dev-link", to: "/etc/passwd")
            try tree.file(".lambdaignore", "dev-link\n")
            _ = try packageTree(tmp + "/fn", to: tmp + "/fn.zip")
            #expect(try readWithPython(tmp + "/fn.zip").map(\.name) == [".lambdaignore", "handler.py"])
        }
    }

    /// Links inside the package that resolve through other packaged links and directories are kept.
    @Test func symlinkChainsInsideThePackageAreKept() throws {
        try withTemporaryDirectory { tmp in
            let tree = TreeBuilder(root: tmp + "/fn")
            try tree.file("lib/v2/tool.js", "x")
            try tree.symlink("lib/current", to: "v2")
            try tree.symlink("bin/tool", to: "../lib/current/tool.js")
            try tree.symlink("tool", to: "bin/tool")
            try tree.symlink("here", to: ".")
            _ = try packageTree(tmp + "/fn", to: tmp + "/fn.zip")
            #expect(try readWithPython(tmp + "/fn.zip").map(\.name) == ["bin/tool", "here", "lib/current", "lib/v2/tool.js", "tool"])
        }
    }
}
