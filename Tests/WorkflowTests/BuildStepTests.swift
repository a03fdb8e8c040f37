import DeployLedger
import Foundation
import ReleasePolicy
import Testing
@testable import Workflow

/// A function directory with a counter file beside it (outside it), so a test can tell whether
/// the build command ran, and a cache directory; all removed at the end.
final class BuildSandbox: @unchecked Sendable {
    let root: String
    var function: String { root + "/fn" }
    var cache: String { root + "/cache/builds" }
    var counter: String { root + "/runs" }

    init() throws {
        let base = NSTemporaryDirectory() + "build-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: base + "/fn", withIntermediateDirectories: true)
        root = URL(fileURLWithPath: base).resolvingSymlinksInPath().path
        try write("app.py", "def handler(e, c):\n    return 1\n")
        try write("requirements.txt", "tinylib==1.0\n")
    }

    deinit {
        _ = try? BuildTree.remove(root)
    }

    func write(_ relative: String, _ text: String, mode: Int = 0o644) throws {
        let path = function + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    /// How many times a command that appends to the counter ran.
    var runs: Int { read(counter)?.split(separator: "\n").count ?? 0 }

    /// A command that counts its runs and copies the sources into the output.
    var countingCommand: String { "echo run >> '\(counter)' && cp app.py requirements.txt build/" }

    func build(_ command: String? = nil, output: String = "build", inputs: [String] = [], cache: Bool = true, epoch: Int64 = 1_700_000_000) -> FunctionBuild {
        FunctionBuild(
            function: "pr", directory: function, step: BuildStep(command: command ?? countingCommand, output: output, inputs: inputs),
            environment: ["PATH": "/usr/bin:/bin", "KEPT": "passed through"], sourceDateEpoch: epoch, cacheDirectory: cache ? self.cache : nil)
    }

    /// The output tree as (path, kind, mode) plus each file's bytes: what packaging would see.
    func snapshot(_ directory: String) throws -> [String] {
        try BuildTree.walk(directory).map { entry in
            var line = "\(entry.displayPath) \(String(entry.mode, radix: 8))"
            switch entry.kind {
            case .file: line += " file " + (read(directory + "/" + entry.displayPath) ?? "?")
            case .symlink(let target): line += " -> " + String(decoding: target, as: UTF8.self)
            case .directory: line += " dir"
            case .special: line += " special"
            }
            return line
        }
    }

    func cacheEntries() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []).sorted()
    }
}

/// Lines written by a reporter that folds sections, as in a CI log.
func capturingReporter(sections: Bool = false) -> (Reporter, CapturedLines) {
    let lines = CapturedLines()
    let folds = sections ? Reporter.Sections(begin: { lines.append("::group::\($0)") }, end: { lines.append("::endgroup::") }) : nil
    return (Reporter(sections: folds, warn: { lines.append("warning: " + $0) }, write: { lines.append($0) }), lines)
}

/// The build step (issue 17): the command's process and environment, its output, the digest of
/// its inputs and the cache of finished builds.
@Suite struct BuildProcessTests {
    func run(_ command: String, in directory: String = NSTemporaryDirectory(), environment: [String: String] = ["PATH": "/usr/bin:/bin"]) throws -> (BuildProcess.Outcome, [String]) {
        var lines: [String] = []
        let outcome = try BuildProcess(function: "pr", command: command, directory: directory, environment: environment, interrupted: { nil }).run { lines.append($0) }
        return (outcome, lines)
    }

    @Test func theCommandRunsInTheFunctionDirectoryWithTheRepeatableSettings() throws {
        let sandbox = try BuildSandbox()
        let (reporter, lines) = capturingReporter()
        let command = #"echo "epoch=$SOURCE_DATE_EPOCH bytecode=$PYTHONDONTWRITEBYTECODE umask=$(umask) kept=$KEPT dir=$(pwd)"; read x; echo "stdin=$?"; touch build/made; ls -l build/made | cut -c1-10"#
        let outcome = try sandbox.build(command).run(reporter: reporter)
        #expect(!outcome.reused)
        let streamed = lines.lines.filter { $0.hasPrefix("[build pr] ") }
        #expect(streamed == [
            "[build pr] epoch=1700000000 bytecode=1 umask=0022 kept=passed through dir=\(sandbox.function)",
            "[build pr] stdin=1",
            "[build pr] -rw-r--r--",
        ])
    }

    @Test func theCommandTextReachesTheShellAsWritten() throws {
        let command = """
            printf '%s|' "$0" "$#" 'it'"'"'s' "a\\\\b" '$HOME' ; echo
            echo "second line: $1"
            """
        let (outcome, lines) = try run(command)
        #expect(outcome.exit == .exited(0))
        #expect(lines == [#"/bin/sh|0|it's|a\b|$HOME|"#, "second line: "])
    }

    @Test func stdoutAndStderrComeOneLineAtATimeInOrder() throws {
        let (outcome, lines) = try run("echo one; echo two >&2; printf 'three\\r\\nfour'")
        #expect(outcome.exit.succeeded)
        #expect(lines == ["one", "two", "three", "four"])
    }

    @Test(arguments: [("exit 3", BuildExit.exited(3), "exit status 3"), ("kill -9 $$", .signalled(9), "killed by signal 9 (SIGKILL)")])
    func aFailureSaysHowTheCommandEnded(_ command: String, _ expected: BuildExit, _ text: String) throws {
        let (outcome, _) = try run(command)
        #expect(outcome.exit == expected)
        #expect(outcome.exit.description == text)
    }

    @Test func onlyTheTailIsKeptAndALongLineComesInBoundedPieces() throws {
        let (outcome, lines) = try run("seq 1 100; head -c 10000 /dev/zero | tr '\\0' x; echo; echo last")
        #expect(outcome.tail.count == BuildProcess.tailLines)
        #expect(outcome.tail.last == "last")
        #expect(lines.count == 100 + 3 + 1)
        #expect(lines[100...102].map(\.utf8.count) == [4096, 4096, 1808])
        #expect(lines.allSatisfy { $0.utf8.count <= BuildProcess.maxLineBytes })
    }

    @Test func aLineIsCutBetweenCharactersNeverInsideOne() {
        var splitter = LineSplitter(limit: 10)
        var lines: [String] = []
        // "é" is two bytes: 4096-style cuts at 10 would split the fifth one.
        let text = Array(String(repeating: "é", count: 12).utf8) + [10]
        text.withUnsafeBytes { splitter.feed($0) { lines.append($0) } }
        #expect(lines.joined() == String(repeating: "é", count: 12))
        #expect(!lines.joined().contains("\u{FFFD}"))
        #expect(lines.allSatisfy { $0.utf8.count <= 10 })
    }

    /// A process the command left running in its group ends with it: it would otherwise go on
    /// writing into the output while it is packaged (and hold the output pipe open).
    @Test func somethingLeftRunningInTheBackgroundEndsWithTheBuild() throws {
        let sandbox = try BuildSandbox()
        let pidFile = sandbox.root + "/sleep.pid"
        let started = ContinuousClock.now
        let (outcome, lines) = try run("sleep 30 & echo $! > '\(pidFile)'; echo done", in: sandbox.function)
        #expect(outcome.exit.succeeded)
        #expect(lines == ["done"])
        #expect(ContinuousClock.now - started < .seconds(10))
        let pid = try #require(sandbox.read(pidFile).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        #expect(isGone(pid), "the background sleep \(pid) still runs")
    }

    /// A stop request (SIGINT, a hook's deadline) kills the command's whole process group, and
    /// the build fails as interrupted.
    @Test func aStopRequestKillsTheProcessGroup() throws {
        let sandbox = try BuildSandbox()
        let pidFile = sandbox.root + "/sleep.pid"
        let seen = CapturedLines()
        let process = BuildProcess(
            function: "pr", command: "sleep 60 & echo $! > '\(pidFile)'; echo started; wait", directory: sandbox.function,
            environment: ["PATH": "/usr/bin:/bin"], interrupted: { seen.lines.contains("started") ? .signal(SIGINT) : nil })
        let started = ContinuousClock.now
        #expect(throws: WorkflowError.interrupted(.signal(SIGINT))) { try process.run { seen.append($0) } }
        #expect(ContinuousClock.now - started < .seconds(10))
        let pid = try #require(sandbox.read(pidFile).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        #expect(isGone(pid), "the build's background sleep \(pid) still runs")
    }
}

/// Whether `pid` has ended (a zombie nobody reaped counts as ended).
func isGone(_ pid: Int32) -> Bool {
    for _ in 0..<50 {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        let state = stat.split(separator: ")").last?.split(separator: " ").first
        if state == "Z" || state == "X" { return true }
        usleep(100_000)
    }
    return false
}

@Suite struct BuildStepTests {
    @Test func theOutputIsEmptiedFirstThenAnUnchangedBuildIsReused() throws {
        let sandbox = try BuildSandbox()
        try sandbox.write("build/stale.txt", "from an old build")
        let (reporter, lines) = capturingReporter()
        let first = try sandbox.build().run(reporter: reporter)
        #expect(sandbox.runs == 1)
        #expect(!first.reused)
        #expect(first.output == sandbox.function + "/build")
        let built = try sandbox.snapshot(first.output)
        #expect(built.map { $0.split(separator: " ")[0] } == ["app.py", "requirements.txt"])

        let second = try sandbox.build().run(reporter: reporter)
        #expect(sandbox.runs == 1, "the command did not run again")
        #expect(second.reused)
        #expect(second.digest == first.digest)
        #expect(try sandbox.snapshot(second.output) == built)
        #expect(lines.lines.contains { $0.hasPrefix("built pr in ") })
        #expect(lines.lines.contains { $0.hasPrefix("build of pr reused: its inputs are unchanged") })
        #expect(!sandbox.cacheEntries().contains { $0.hasPrefix(".tmp") }, "no temporary entry is left")
    }

    struct Change: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var rebuilds: Bool
        var apply: @Sendable (BuildSandbox) throws -> FunctionBuild
    }

    static let changes: [Change] = [
        Change(testDescription: "an input's content", rebuilds: true) { try $0.write("requirements.txt", "tinylib==2.0\n"); return $0.build(inputs: ["requirements.txt", "*.py"]) },
        Change(testDescription: "a new input file", rebuilds: true) { try $0.write("util.py", "x = 1\n"); return $0.build(inputs: ["requirements.txt", "*.py"]) },
        Change(testDescription: "an input made executable", rebuilds: true) { try $0.write("app.py", "def handler(e, c):\n    return 1\n", mode: 0o755); return $0.build(inputs: ["requirements.txt", "*.py"]) },
        Change(testDescription: "an input replaced by a symlink", rebuilds: true) {
            try FileManager.default.moveItem(atPath: $0.function + "/requirements.txt", toPath: $0.function + "/req.txt")
            try FileManager.default.createSymbolicLink(atPath: $0.function + "/requirements.txt", withDestinationPath: "req.txt")
            return $0.build(inputs: ["requirements.txt", "*.py"])
        },
        Change(testDescription: "the command text", rebuilds: true) { $0.build($0.countingCommand + " ", inputs: ["requirements.txt", "*.py"]) },
        Change(testDescription: "the output folder", rebuilds: true) {
            $0.build("echo run >> '\($0.counter)' && cp app.py out/", output: "out", inputs: ["requirements.txt", "*.py"])
        },
        Change(testDescription: "the tool's version", rebuilds: true) { var build = $0.build(inputs: ["requirements.txt", "*.py"]); build.toolVersion += "-next"; return build },
        Change(testDescription: "a file no input pattern takes", rebuilds: false) { try $0.write("README.md", "notes\n"); return $0.build(inputs: ["requirements.txt", "*.py"]) },
        Change(testDescription: "a file under a folder `*` stops at", rebuilds: false) { try $0.write("tests/test_app.py", "pass\n"); return $0.build(inputs: ["requirements.txt", "*.py"]) },
        Change(testDescription: "the commit's time", rebuilds: false) { $0.build(inputs: ["requirements.txt", "*.py"], epoch: 1_800_000_000) },
    ]

    @Test(arguments: changes)
    func whatRebuilds(_ change: Change) throws {
        let sandbox = try BuildSandbox()
        _ = try sandbox.build(inputs: ["requirements.txt", "*.py"]).run(reporter: .silent)
        #expect(sandbox.runs == 1)
        let outcome = try change.apply(sandbox).run(reporter: .silent)
        #expect(sandbox.runs == (change.rebuilds ? 2 : 1))
        #expect(outcome.reused == !change.rebuilds)
    }

    @Test func withoutInputsEveryFileButTheOutputAndGitIsAnInput() throws {
        let sandbox = try BuildSandbox()
        _ = try sandbox.build().run(reporter: .silent)
        try sandbox.write("build/extra", "written into the output by hand")
        try sandbox.write(".git/HEAD", "ref: refs/heads/other\n")
        _ = try sandbox.build().run(reporter: .silent)
        #expect(sandbox.runs == 1, "neither the output nor .git is an input")
        try sandbox.write("docs/notes.md", "new\n")
        _ = try sandbox.build().run(reporter: .silent)
        #expect(sandbox.runs == 2)
    }

    /// Each file is its path's length, the path, and its content's SHA-256: moving bytes between
    /// a name and a content, or a file into a folder, gives another digest.
    @Test func differentTreesNeverHashTheSame() throws {
        func digest(_ files: [(String, String)], links: [(String, String)] = []) throws -> String {
            let sandbox = try BuildSandbox()
            try FileManager.default.removeItem(atPath: sandbox.function)
            try FileManager.default.createDirectory(atPath: sandbox.function, withIntermediateDirectories: true)
            for (path, text) in files { try sandbox.write(path, text) }
            for (path, target) in links { try FileManager.default.createSymbolicLink(atPath: sandbox.function + "/" + path, withDestinationPath: target) }
            return try BuildDigest.compute(step: BuildStep(command: "true", output: "build"), directory: sandbox.function, function: "pr", toolVersion: "1").value
        }
        let trees: [[(String, String)]] = [[("a", "bc")], [("ab", "c")], [("a/b", "c")], [("a", "b"), ("c", "")], [("a", "bc"), ("d", "")], []]
        let digests = try trees.map { try digest($0) }
        #expect(Set(digests).count == trees.count)
        #expect(try digest([("a", "x")]) == digest([("a", "x")]))
        #expect(try digest([("x", "a")]) != digest([], links: [("x", "a")]), "a file and a symlink whose target is its content differ")
    }

    @Test(arguments: [
        (["src/*"], "src/a.py", true), (["src/*"], "src/x/a.py", false), (["src/**"], "src/x/a.py", true),
        (["src"], "src/x/a.py", true), (["src/"], "src/a.py", true), (["./requirements.txt"], "requirements.txt", true),
        (["*.py"], "lib/a.py", false), (["**/*.py"], "lib/a.py", true), (["."], "any/thing", true), ([], "any/thing", true),
        (["requirements.txt"], "requirements.txt.bak", false),
    ])
    func inputPatternsAreGlobsOverRelativePaths(_ patterns: [String], _ path: String, _ taken: Bool) {
        #expect((InputPatterns(patterns).match(path) != nil) == taken)
    }

    @Test func aPatternThatMatchesNothingIsReported() throws {
        let sandbox = try BuildSandbox()
        let (reporter, lines) = capturingReporter()
        _ = try sandbox.build(inputs: ["requirments.txt", "*.py"]).run(reporter: reporter)
        #expect(lines.lines.filter { $0.hasPrefix("warning: ") } == [
            "warning: build.inputs pattern 'requirments.txt' of pr matches no file, so no change to what it meant would rebuild: fix the pattern in lambda-deploy.yml",
        ])
    }

    /// The cache keeps modes, symlinks and folders (empty and read-only ones too), so a reused
    /// output is the built one.
    @Test func aReusedOutputIsTheBuiltOne() throws {
        let sandbox = try BuildSandbox()
        let command = """
            echo run >> '\(sandbox.counter)'
            cd build && printf '#!/bin/sh\\n' > bootstrap && chmod 755 bootstrap && ln -s bootstrap link && mkdir -p empty lib/ro \
              && echo x > lib/ro/data && chmod 555 lib/ro && chmod 600 lib/ro/data && ln -s ../../outside lib/dangling
            """
        let first = try sandbox.build(command).run(reporter: .silent)
        let built = try sandbox.snapshot(first.output)
        #expect(built.contains("bootstrap 755 file #!/bin/sh\n"))
        #expect(built.contains("lib/ro 555 dir"))
        let second = try sandbox.build(command).run(reporter: .silent)
        #expect(second.reused)
        #expect(try sandbox.snapshot(second.output) == built)
        #expect(sandbox.runs == 1)
    }

    struct Damage: Sendable, CustomTestStringConvertible {
        var testDescription: String
        /// Called with the entry's folder.
        var apply: @Sendable (String) throws -> Void
    }

    static let damages: [Damage] = [
        Damage(testDescription: "a file's content") { try Data("tampered".utf8).write(to: URL(fileURLWithPath: $0 + "/tree/app.py")) },
        Damage(testDescription: "a file added") { try Data("extra".utf8).write(to: URL(fileURLWithPath: $0 + "/tree/extra.py")) },
        Damage(testDescription: "a file removed") { try FileManager.default.removeItem(atPath: $0 + "/tree/app.py") },
        Damage(testDescription: "a mode changed") { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: $0 + "/tree/app.py") },
        Damage(testDescription: "a file turned symlink") {
            try FileManager.default.removeItem(atPath: $0 + "/tree/app.py")
            try FileManager.default.createSymbolicLink(atPath: $0 + "/tree/app.py", withDestinationPath: "requirements.txt")
        },
        Damage(testDescription: "the manifest cut short") {
            let path = $0 + "/manifest.json"
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        },
        Damage(testDescription: "the manifest missing") { try FileManager.default.removeItem(atPath: $0 + "/manifest.json") },
        Damage(testDescription: "a manifest path leaving the tree") {
            // A consistent-looking entry whose manifest would write beside the output.
            let path = $0 + "/manifest.json"
            let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "\"app.py\"", with: "\"..\\/escaped.py\"")
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        },
        Damage(testDescription: "the entry replaced by a file") {
            try FileManager.default.removeItem(atPath: $0)
            try Data().write(to: URL(fileURLWithPath: $0))
        },
    ]

    @Test(arguments: damages)
    func aDamagedCacheEntryIsBuiltAgainNeverUsed(_ damage: Damage) throws {
        let sandbox = try BuildSandbox()
        let first = try sandbox.build().run(reporter: .silent)
        let built = try sandbox.snapshot(first.output)
        try damage.apply(sandbox.cache + "/" + first.digest)
        let (reporter, lines) = capturingReporter()
        let second = try sandbox.build().run(reporter: reporter)
        #expect(sandbox.runs == 2, "built again")
        #expect(!second.reused)
        #expect(try sandbox.snapshot(second.output) == built)
        #expect(!FileManager.default.fileExists(atPath: sandbox.function + "/escaped.py"))
        #expect(lines.lines.contains { $0.hasPrefix("warning: the cached build of pr (sha256 \(first.digest.prefix(12))) does not match its manifest") }, "\(lines.lines)")
        // The rebuilt entry is whole again.
        let third = try sandbox.build().run(reporter: .silent)
        #expect(third.reused)
        #expect(sandbox.runs == 2)
    }

    @Test func theCacheKeepsTheNewestFewBuildsOfAFunction() throws {
        let sandbox = try BuildSandbox()
        var other = sandbox.build()
        other.function = "billing"
        _ = try other.run(reporter: .silent)
        var digests: [String] = []
        for index in 0..<(BuildCache.keepPerFunction + 2) {
            digests.append(try sandbox.build(sandbox.countingCommand + " # \(index)").run(reporter: .silent).digest)
            // Last use is kept to the second: make each build visibly newer.
            let date = Date(timeIntervalSinceNow: Double(index - 100))
            try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: sandbox.cache + "/" + digests[index])
        }
        let kept = Set(sandbox.cacheEntries())
        #expect(kept.isSuperset(of: digests.suffix(BuildCache.keepPerFunction)))
        #expect(kept.isDisjoint(with: digests.prefix(2)))
        #expect(kept.count == BuildCache.keepPerFunction + 1, "billing's build is not pruned with pr's")
    }

    @Test func withoutACacheEveryBuildRuns() throws {
        let sandbox = try BuildSandbox()
        for _ in 0..<2 { _ = try sandbox.build(cache: false).run(reporter: .silent) }
        #expect(sandbox.runs == 2)
        #expect(sandbox.cacheEntries().isEmpty)
    }

    @Test func aFailingBuildNamesTheFunctionAndStatusAndCILogsShowTheTailAgain() throws {
        let sandbox = try BuildSandbox()
        let (reporter, lines) = capturingReporter(sections: true)
        #expect(throws: WorkflowError.buildFailed(function: "pr", status: "exit status 3")) {
            try sandbox.build("seq 1 30; echo broken >&2; exit 3").run(reporter: reporter)
        }
        let after = lines.lines.drop { $0 != "::endgroup::" }.dropFirst()
        #expect(Array(after) == ["[build pr] last 20 lines:"] + (12...30).map { "[build pr] \($0)" } + ["[build pr] broken"])
        #expect(sandbox.cacheEntries().isEmpty, "a failed build is not cached")
        let message = WorkflowError.buildFailed(function: "pr", status: "exit status 3").errorDescription ?? ""
        #expect(!message.contains("\n"))
        #expect(message.contains("the build of pr failed (exit status 3"))
    }

    @Test func aFailedBuildIsNotReusedByTheNextRun() throws {
        let sandbox = try BuildSandbox()
        let flaky = "echo run >> '\(sandbox.counter)'; test -f '\(sandbox.root)/ok' && cp app.py build/"
        #expect(throws: WorkflowError.self) { try sandbox.build(flaky).run(reporter: .silent) }
        try Data().write(to: URL(fileURLWithPath: sandbox.root + "/ok"))
        let outcome = try sandbox.build(flaky).run(reporter: .silent)
        #expect(!outcome.reused)
        #expect(sandbox.runs == 2)
    }

    struct UnsafeOutput: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var output: String
        var prepare: @Sendable (BuildSandbox) throws -> Void
        var reason: String
    }

    static let unsafeOutputs: [UnsafeOutput] = [
        UnsafeOutput(testDescription: "a symlink out of the directory", output: "build", prepare: {
            try FileManager.default.createDirectory(atPath: $0.root + "/elsewhere", withIntermediateDirectories: true)
            try Data("keep me".utf8).write(to: URL(fileURLWithPath: $0.root + "/elsewhere/precious"))
            try FileManager.default.createSymbolicLink(atPath: $0.function + "/build", withDestinationPath: "../elsewhere")
        }, reason: "goes through the symlink build"),
        UnsafeOutput(testDescription: "a folder above it is a symlink", output: "dist/lambda", prepare: {
            try FileManager.default.createDirectory(atPath: $0.root + "/elsewhere/lambda", withIntermediateDirectories: true)
            try Data("keep me".utf8).write(to: URL(fileURLWithPath: $0.root + "/elsewhere/lambda/precious"))
            try FileManager.default.createSymbolicLink(atPath: $0.function + "/dist", withDestinationPath: $0.root + "/elsewhere")
        }, reason: "goes through the symlink dist"),
        UnsafeOutput(testDescription: "a file", output: "app.py/build", prepare: { _ in }, reason: "is not a folder (app.py is a file)"),
        UnsafeOutput(testDescription: "a path that climbs out", output: "../outside", prepare: { _ in }, reason: "is not a relative path inside the function directory"),
    ]

    @Test(arguments: unsafeOutputs)
    func anOutputOutsideTheDirectoryIsRefusedAndNothingIsEmptied(_ unsafe: UnsafeOutput) throws {
        let sandbox = try BuildSandbox()
        try unsafe.prepare(sandbox)
        #expect(throws: WorkflowError.buildOutputUnsafe(function: "pr", output: unsafe.output, reason: unsafe.reason)) {
            try sandbox.build(output: unsafe.output).run(reporter: .silent)
        }
        #expect(sandbox.runs == 0)
        if FileManager.default.fileExists(atPath: sandbox.root + "/elsewhere") {
            let precious = try FileManager.default.subpathsOfDirectory(atPath: sandbox.root + "/elsewhere")
            #expect(precious.contains { $0.hasSuffix("precious") }, "the folder behind the symlink was not emptied")
        }
    }

    @Test func aCommandThatSwapsItsOutputForASymlinkIsRefused() throws {
        let sandbox = try BuildSandbox()
        #expect(throws: WorkflowError.buildOutputUnsafe(function: "pr", output: "build", reason: "goes through the symlink build")) {
            try sandbox.build("rmdir build && ln -s /etc build").run(reporter: .silent)
        }
        #expect(sandbox.cacheEntries().isEmpty)
    }

    @Test func noBuildTakesTheOutputAsItIsAndNeedsIt() throws {
        let sandbox = try BuildSandbox()
        #expect(throws: WorkflowError.buildOutputMissing(function: "pr", output: "build")) { try sandbox.build().existingOutput() }
        try sandbox.write("build/by-hand.txt", "x")
        #expect(try sandbox.build().existingOutput() == sandbox.function + "/build")
        #expect(sandbox.runs == 0)
    }

    @Test func sourceDateEpochIsTheCommitTimeOrTheZipEpochWithoutOne() throws {
        let repository = try TestRepository(config: "function: pr\ndirectory: src\nbuild: {command: 'true', output: build}\n")
        let expected = try repository.git(["log", "-1", "--format=%ct"])
        let project = try repository.project()
        let git = try #require(try GitRepository.discover(from: repository.path))
        #expect(try String(git.commitTime("HEAD")) == expected)
        let head = try repository.git(["rev-parse", "HEAD"])
        #expect(project.functionBuild(function: "pr", directory: repository.path + "/src", commit: head)?.sourceDateEpoch == Int64(expected))
        #expect(project.functionBuild(function: "pr", directory: repository.path + "/src", commit: nil)?.sourceDateEpoch == Int64(expected))

        let outside = try BuildSandbox()
        try Data("function: pr\ndirectory: fn\nbuild: {command: 'true', output: build}\n".utf8).write(to: URL(fileURLWithPath: outside.root + "/lambda-deploy.yml"))
        let loose = try Project(environment: RunEnvironment(variables: ["HOME": outside.root], currentDirectory: outside.root), function: .one(nil))
        #expect(loose.functionBuild(function: "pr", directory: outside.function, commit: nil)?.sourceDateEpoch == FunctionBuild.sourceDateEpochFallback)
        #expect(loose.functionBuild(function: "pr", directory: outside.function, commit: nil)?.cacheDirectory == outside.root + "/.cache/lambda-deploy/builds")
    }

    @Test func anOutputGitDoesNotIgnoreIsWarnedAbout() throws {
        let repository = try TestRepository(config: "function: pr\ndirectory: src\nbuild: {command: 'cp app.py build/', output: build}\n")
        let (reporter, lines) = capturingReporter()
        let output = try repository.project().packagedDirectory(function: "pr", directory: repository.path + "/src", commit: nil, reporter: reporter)
        #expect(output == URL(fileURLWithPath: repository.path + "/src/build").resolvingSymlinksInPath().path)
        #expect(lines.lines.filter { $0.hasPrefix("warning:") } == [
            "warning: the build output src/build of pr is not git-ignored, so deploys would be recorded as dirty: add `src/build/` to .gitignore",
        ])

        try Data("build/\n".utf8).write(to: URL(fileURLWithPath: repository.path + "/src/.gitignore"))
        let (quiet, none) = capturingReporter()
        _ = try repository.project().packagedDirectory(function: "pr", directory: repository.path + "/src", commit: nil, reporter: quiet)
        #expect(none.lines.filter { $0.hasPrefix("warning:") }.isEmpty, "\(none.lines)")
    }
}
