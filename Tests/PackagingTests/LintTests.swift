import Foundation
import Testing
@testable import Packaging

struct LintCase: Sendable, CustomTestStringConvertible {
    var testDescription: String
    var entries: [PackageEntry]
    var settings: LintOptions
    /// (lint, severity, path) of every finding, in order.
    var expected: [(String, LintFinding.Severity, String)]
    /// Words the first finding's line must hold (the file, the fix).
    var mentions: [String] = []
}

private func file(_ name: String, _ size: Int64 = 10, executable: Bool = false, text: String? = nil) -> PackageEntry {
    PackageEntry(name: name, mode: executable ? 0o100755 : 0o100644, size: size, inspected: text.map { Array($0.utf8) })
}

private func link(_ name: String, to target: String) -> PackageEntry {
    PackageEntry(name: name, mode: 0o120777, size: Int64(target.utf8.count), linkTarget: target)
}

private func python(_ handler: String) -> LintOptions { LintOptions(handler: handler, runtime: "python3.12") }
private func node(_ handler: String) -> LintOptions { LintOptions(handler: handler, runtime: "nodejs20.x") }

@Suite struct LintTests {
    static let cases: [LintCase] = [
        // MARK: handler
        LintCase(testDescription: "python handler at the root", entries: [file("app.py")], settings: python("app.handler"), expected: []),
        LintCase(testDescription: "python handler in a folder (src/app.handler)", entries: [file("src/app.py")], settings: python("src/app.handler"), expected: []),
        LintCase(testDescription: "python dotted module", entries: [file("pkg/api/main.py")], settings: python("pkg.api.main.handler"), expected: []),
        LintCase(testDescription: "python package module", entries: [file("app/__init__.py")], settings: python("app.handler"), expected: []),
        LintCase(
            testDescription: "python compiled extension module",
            entries: [file("fast.cpython-312-x86_64-linux-gnu.so")], settings: python("fast.handler"), expected: []),
        LintCase(
            testDescription: "python: the parent folder was zipped, app.py is under src/",
            entries: [file("src/app.py"), file("src/util.py")], settings: python("app.handler"),
            expected: [("handler", .error, "src/app.py")],
            mentions: ["app.py", "src/app.py", "package src/ instead", "src/app.handler", "[lint handler]"]),
        LintCase(
            testDescription: "the shallowest misplaced file is named, not a dependency's",
            entries: [file("node_modules/lodash/index.js"), file("pkg/deep/index.js"), file("pkg/index.js")], settings: node("index.handler"),
            expected: [("handler", .error, "pkg/index.js")], mentions: ["package pkg/ instead"]),
        LintCase(
            testDescription: "only a dependency has a file of that name: plain missing",
            entries: [file("node_modules/lodash/index.js"), file("app.js")], settings: node("index.handler"),
            expected: [("handler", .error, "index.js")], mentions: ["no such file"]),
        LintCase(
            testDescription: "python handler file missing",
            entries: [file("main.py")], settings: python("app.handler"),
            expected: [("handler", .error, "app.py")], mentions: ["app.py", "no such file"]),
        LintCase(
            testDescription: "python handler without a function",
            entries: [file("app.py")], settings: python("app"),
            expected: [("handler", .error, "")], mentions: ["FILE.FUNCTION"]),
        LintCase(testDescription: "node .js", entries: [file("index.js")], settings: node("index.handler"), expected: []),
        LintCase(testDescription: "node .mjs", entries: [file("index.mjs")], settings: node("index.handler"), expected: []),
        LintCase(testDescription: "node .cjs in a folder", entries: [file("dist/app.cjs")], settings: node("dist/app.handler"), expected: []),
        LintCase(testDescription: "node nested export name", entries: [file("app.js")], settings: node("app.handlers.get"), expected: []),
        LintCase(
            testDescription: "node: the parent folder was zipped",
            entries: [file("dist/index.mjs")], settings: node("index.handler"),
            expected: [("handler", .error, "dist/index.mjs")], mentions: ["dist/index.mjs", "package dist/ instead"]),
        LintCase(
            testDescription: "ruby handler present", entries: [file("lambda_function.rb")],
            settings: LintOptions(handler: "lambda_function.LambdaFunction::Handler.process", runtime: "ruby3.3"), expected: []),
        LintCase(
            testDescription: "ruby handler missing", entries: [file("function.rb")],
            settings: LintOptions(handler: "lambda_function.lambda_handler", runtime: "ruby3.3"),
            expected: [("handler", .error, "lambda_function.rb")], mentions: ["lambda_function.rb"]),
        LintCase(
            testDescription: "provided runtime with an executable bootstrap",
            entries: [file("bootstrap", executable: true)], settings: LintOptions(runtime: "provided.al2023"), expected: []),
        LintCase(
            testDescription: "provided runtime with bootstrap linked to an executable",
            entries: [link("bootstrap", to: "bin/server"), file("bin/server", executable: true)],
            settings: LintOptions(runtime: "provided.al2"), expected: []),
        LintCase(
            testDescription: "provided runtime, bootstrap not executable",
            entries: [file("bootstrap")], settings: LintOptions(runtime: "provided.al2023"),
            expected: [("handler", .error, "bootstrap")], mentions: ["chmod +x", "644"]),
        LintCase(
            testDescription: "provided runtime, bootstrap in a subfolder",
            entries: [file("target/lambda/bootstrap", executable: true)], settings: LintOptions(runtime: "provided.al2023"),
            expected: [("handler", .error, "target/lambda/bootstrap")], mentions: ["package target/lambda/ instead"]),
        LintCase(
            testDescription: "provided runtime, no bootstrap at all",
            entries: [file("main.go")], settings: LintOptions(runtime: "provided.al2023"),
            expected: [("handler", .error, "bootstrap")], mentions: ["executable named bootstrap"]),
        LintCase(
            testDescription: "java and dotnet are not checked", entries: [file("lib/app.jar")],
            settings: LintOptions(handler: "example.Handler::handleRequest", runtime: "java21"), expected: []),
        LintCase(testDescription: "no runtime given: no handler check", entries: [file("x.txt")], settings: LintOptions(handler: "app.handler"), expected: []),
        LintCase(
            testDescription: "handler lint disabled", entries: [file("main.py")],
            settings: LintOptions(handler: "app.handler", runtime: "python3.12", disabled: ["handler"]), expected: []),
        // MARK: secrets
        LintCase(
            testDescription: "every kind of secret, each named",
            entries: [
                file(".env"), file("config/.env.production"), file("certs/server.pem", text: "-----BEGIN RSA PRIVATE KEY-----\nMII\n"),
                file("deploy/id_rsa"), file("keys/id_ed25519_ci"), file(".aws/credentials"), file(".npmrc", text: "//registry.npmjs.org/:_authToken=npm_x\n"),
                file("infra/terraform.tfstate"), file("infra/terraform.tfstate.backup"),
            ],
            settings: LintOptions(),
            expected: [
                ("secret-files", .error, ".env"), ("secret-files", .error, "config/.env.production"), ("secret-files", .error, "certs/server.pem"),
                ("secret-files", .error, "deploy/id_rsa"), ("secret-files", .error, "keys/id_ed25519_ci"), ("secret-files", .error, ".aws/credentials"),
                ("secret-files", .error, ".npmrc"), ("secret-files", .error, "infra/terraform.tfstate"), ("secret-files", .error, "infra/terraform.tfstate.backup"),
            ],
            mentions: [".env looks like a secret", ".lambdaignore", "lint.allow", "[lint secret-files]"]),
        LintCase(
            testDescription: "look-alikes that are not secrets",
            entries: [
                file(".env.example"), file(".env.sample"), file("certifi/cacert.pem", text: "-----BEGIN CERTIFICATE-----\nMII\n"),
                file("keys/id_rsa.pub"), file(".npmrc", text: "registry=https://registry.npmjs.org/\n"), file("environment.py"), file("aws/credentials.py"),
            ],
            settings: LintOptions(), expected: []),
        LintCase(
            testDescription: "an allowed secret ships", entries: [file(".env"), file("config/.env.test")],
            settings: LintOptions(allowed: [".env"]), expected: [("secret-files", .error, "config/.env.test")]),
        LintCase(
            testDescription: "a folder on the allow list covers its files", entries: [file("fixtures/keys/id_rsa"), file("id_rsa")],
            settings: LintOptions(allowed: ["fixtures"]), expected: [("secret-files", .error, "id_rsa")]),
        LintCase(
            testDescription: "secrets lint disabled", entries: [file(".env")],
            settings: LintOptions(disabled: ["secret-files"]), expected: []),
        LintCase(
            testDescription: "a name with control characters is shown escaped",
            entries: [file("evil\u{1B}[2J/.env")], settings: LintOptions(),
            expected: [("secret-files", .error, "evil\u{1B}[2J/.env")], mentions: ["evil\\e[2J/.env"]),
        // MARK: warnings
        LintCase(
            testDescription: "an oversized entry", entries: [file("model.bin", 60_000_000), file("small.bin", 1_000_000)],
            settings: LintOptions(), expected: [("large-entries", .warning, "model.bin")], mentions: ["model.bin is 60.0 MB"]),
        LintCase(
            testDescription: "dev-only folders, one line per kind",
            entries: [
                file("app.py"), file("__pycache__/app.cpython-312.pyc"), file("lib/__pycache__/x.pyc"), file("lib/__pycache__/y.pyc"),
                file(".pytest_cache/v/cache/nodeids"), file("node_modules/.cache/babel/x.json"), file("tests/test_app.py"),
            ],
            settings: LintOptions(),
            expected: [("dev-files", .warning, "__pycache__"), ("dev-files", .warning, ".pytest_cache"), ("dev-files", .warning, "node_modules/.cache")],
            mentions: ["2 folders hold 3 files", "add __pycache__/ to .lambdaignore"]),
        LintCase(
            testDescription: "tests/ is flagged only with a build step",
            entries: [file("app.py"), file("tests/test_app.py"), file("pkg/tests/test_x.py")],
            settings: LintOptions(hasBuildStep: true), expected: [("dev-files", .warning, "tests")], mentions: ["tests/ holds 1 file"]),
        LintCase(
            testDescription: "warnings disabled", entries: [file("model.bin", 60_000_000), file("__pycache__/a.pyc")],
            settings: LintOptions(disabled: ["large-entries", "dev-files"]), expected: []),
        LintCase(
            testDescription: "errors come before warnings",
            entries: [file("src/app.py"), file("model.bin", 90_000_000), file(".env")], settings: python("app.handler"),
            expected: [("handler", .error, "src/app.py"), ("secret-files", .error, ".env"), ("large-entries", .warning, "model.bin")]),
    ]

    @Test(arguments: cases)
    func findings(_ c: LintCase) {
        let findings = PackageLint.check(c.entries, c.settings)
        #expect(findings.map(\.lint) == c.expected.map(\.0))
        #expect(findings.map(\.severity) == c.expected.map(\.1))
        #expect(findings.map(\.path) == c.expected.map(\.2))
        for finding in findings {
            #expect(!finding.line.contains("\n") && !finding.line.contains("\u{1B}"), "\(finding.line)")
            #expect(finding.line.hasSuffix("[lint \(finding.lint)]"))
        }
        for word in c.mentions { #expect(findings.first?.line.contains(word) == true, "\(findings.first?.line ?? "no finding") lacks \(word)") }
    }

    @Test func namesAreStableAndUnknownOnesAreReported() {
        #expect(PackageLint.Name.allCases.map(\.rawValue) == ["handler", "secret-files", "large-entries", "dev-files"])
        #expect(PackageLint.unknownNames(["secret-files", "secret", "handler", "--all"]) == ["secret", "--all"])
    }

    /// Through the packager: a secret refuses the package before the zip lands; warnings come back.
    @Test func packagerRunsLintBeforeTheZipIsWritten() throws {
        try withTemporaryDirectory { tmp in
            let tree = TreeBuilder(root: tmp + "/fn")
            try tree.file("app.py", "def handler(e, c): pass\n")
            try tree.file(".npmrc", "//registry.npmjs.org/:_authToken=npm_abcdef\n")
            try tree.file("__pycache__/app.cpython-312.pyc", "x")
            let error = #expect(throws: PackagingError.self) {
                try packageTree(tmp + "/fn", to: tmp + "/out.zip") { $0.lint = python("app.handler") }
            }
            #expect(error == .lintRefused([LintFinding(
                lint: .secretFiles, severity: .error, path: ".npmrc",
                message: ".npmrc looks like a secret (an npm registry token (_authToken)); remove it or add it to .lambdaignore, or list it in lint.allow if it must ship")]))
            #expect(!FileManager.default.fileExists(atPath: tmp + "/out.zip"))

            let result = try packageTree(tmp + "/fn", to: tmp + "/out.zip") { $0.lint = LintOptions(handler: "app.handler", runtime: "python3.12", allowed: [".npmrc"]) }
            #expect(result.lint.map(\.lint) == ["dev-files"])
            #expect(result.entries.map(\.name) == [".npmrc", "__pycache__/app.cpython-312.pyc", "app.py"])
            #expect(result.entries.allSatisfy { $0.inspected == nil }, "inspected bytes stay inside the packager")

            // The zip for the classic mistake: packaging the folder above the code.
            try TreeBuilder(root: tmp + "/proj").file("src/app.py", "x")
            let misplaced = #expect(throws: PackagingError.self) {
                try packageTree(tmp + "/proj", to: tmp + "/proj.zip") { $0.lint = python("app.handler") }
            }
            #expect(misplaced?.errorDescription?.contains("package src/ instead") == true)
        }
    }

    /// An .npmrc big enough to be cached still gets its content read: a cache hit has no bytes.
    @Test func largeNpmrcIsInspectedEvenWithAWarmCache() throws {
        try withTemporaryDirectory { tmp in
            let tree = TreeBuilder(root: tmp + "/fn")
            try tree.file("index.js", "x")
            try tree.file(".npmrc", String(repeating: "# comment line\n", count: 600) + "//r/:_authToken=abc\n")
            try ageTree(tmp + "/fn")
            for _ in 0..<2 {
                #expect(throws: PackagingError.self) {
                    try packageTree(tmp + "/fn", to: tmp + "/out.zip") {
                        $0.cacheDirectory = tmp + "/cache"
                        $0.lint = LintOptions()
                    }
                }
            }
        }
    }
}
