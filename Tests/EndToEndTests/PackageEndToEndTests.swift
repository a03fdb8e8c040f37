import Foundation
import Testing

/// `lambda-deploy package` as a user runs it: output, `--json`, exit codes, and the zip read back
/// by Python's zipfile.
struct PackageEndToEndTests {
    let home: TemporaryDirectory
    let work: TemporaryDirectory
    let env: [String: String]

    init() throws {
        home = try TemporaryDirectory("home")
        work = try TemporaryDirectory("pkg")
        env = baseEnvironment(home: home.path)
        try work.write("fn/app.py", "def handler(e, c):\n    return 1\n")
        try work.write("fn/bootstrap", "#!/bin/sh\necho hi\n", mode: 0o755)
        try work.write("fn/README.md", "# notes\n")
        try work.write("fn/.lambdaignore", "*.md\n")
    }

    func tool(_ arguments: [String]) throws -> RunResult {
        try run(toolPath, arguments, cwd: work.path, env: env)
    }

    @Test func writesDirNameZipAndReportsWhatAUserNeeds() throws {
        let result = try tool(["package", "fn"])
        #expect(result.status == 0, "\(result.output)")
        #expect(FileManager.default.fileExists(atPath: work.path + "/fn.zip"))
        for label in ["files:", "unzipped:", "zipped:", "CodeSha256:"] { #expect(result.stdout.contains(label)) }
    }

    @Test func jsonHasTheFieldsAndTheCodeSha256OfTheZipBytes() throws {
        let result = try tool(["package", "fn", "--output", "out/f.zip", "--json"])
        #expect(result.status == 1, "the output directory does not exist yet: \(result.output)")
        try FileManager.default.createDirectory(atPath: work.path + "/out", withIntermediateDirectories: true)
        let ok = try tool(["package", "fn", "--output", "out/f.zip", "--json"])
        #expect(ok.status == 0, "\(ok.output)")
        let json = try ok.json()
        #expect(json["files"] as? Int == 3, "app.py, bootstrap and .lambdaignore; README.md is ignored")
        #expect((json["bytes"] as? Int ?? 0) > 0)
        #expect((json["unzippedBytes"] as? Int ?? 0) > 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: work.path + "/out/f.zip"))
        let digest = try run("python3", ["-c", "import hashlib,base64,sys;print(base64.b64encode(hashlib.sha256(open(sys.argv[1],'rb').read()).digest()).decode())", work.path + "/out/f.zip"], cwd: work.path, env: ProcessInfo.processInfo.environment)
        #expect(json["codeSha256"] as? String == digest.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(json["bytes"] as? Int == data.count)
    }

    @Test func theZipKeepsTheBootstrapExecutable() throws {
        #expect(try tool(["package", "fn"]).status == 0)
        let modes = try run("python3", ["-c", "import zipfile,sys\nfor i in zipfile.ZipFile(sys.argv[1]).infolist(): print(i.filename, oct(i.external_attr >> 16))", work.path + "/fn.zip"], cwd: work.path, env: ProcessInfo.processInfo.environment)
        #expect(modes.stdout.contains("bootstrap 0o100755"))
        #expect(modes.stdout.contains("app.py 0o100644"))
        #expect(!modes.stdout.contains("README.md"))
    }

    @Test func sameTreeSameBytesAcrossRuns() throws {
        let first = try tool(["package", "fn", "--json", "--no-cache"]).json()["codeSha256"] as? String
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000)], ofItemAtPath: work.path + "/fn/app.py")
        let second = try tool(["package", "fn", "--json"]).json()["codeSha256"] as? String
        #expect(first != nil && first == second)
    }

    struct BadCase: Sendable, CustomTestStringConvertible {
        var name: String
        var arguments: [String]
        var status: Int32
        var mentions: [String]
        var testDescription: String { name }
    }

    static let badCases: [BadCase] = [
        BadCase(name: "missing directory", arguments: ["package", "nope"], status: 1, mentions: ["nope"]),
        BadCase(name: "a file, not a directory", arguments: ["package", "fn/app.py"], status: 1, mentions: ["app.py"]),
        BadCase(name: "level out of range", arguments: ["package", "fn", "--level", "13"], status: 64, mentions: ["--level"]),
        BadCase(name: "unknown flag", arguments: ["package", "fn", "--fast"], status: 64, mentions: ["--fast"]),
    ]

    @Test(arguments: badCases) func badInputIsOneLineAndNonZero(_ bad: BadCase) throws {
        let result = try tool(bad.arguments)
        #expect(result.status == bad.status, "\(result.output)")
        for word in bad.mentions { #expect(result.stderr.contains(word), "\(result.stderr)") }
        if bad.status == 1 { #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)") }
        #expect(!FileManager.default.fileExists(atPath: work.path + "/nope.zip"))
    }

    @Test func emptyAfterIgnoringIsRefused() throws {
        try work.write("empty/.lambdaignore", "*\n")
        let result = try tool(["package", "empty"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("empty"))
        #expect(!FileManager.default.fileExists(atPath: work.path + "/empty.zip"))
    }
}
