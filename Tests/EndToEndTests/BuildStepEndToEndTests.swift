import Foundation
import Testing

/// A git workspace whose function has a `build:`, with the output git-ignored (as a real
/// project has it) and a counter file outside the function directory that the command appends
/// to, so a test can tell whether it ran.
final class BuildWorkspace: @unchecked Sendable {
    let space: GitWorkspace
    let counter: String

    init(command: String, inputs: String = "[app.py]", emulator: LambdaEmulator? = nil) async throws {
        space = try await GitWorkspace(config: Self.config(command, inputs: inputs), createFunctionInMoto: emulator == nil)
        if let emulator { try emulator.createFunction(space.function) }
        counter = space.root.path + "/runs"
        try space.write(".gitignore", "src/build/\n")
        try space.git(["add", "-A"])
        try space.git(["commit", "-q", "-m", "ignore the build output"])
    }

    static func config(_ command: String, inputs: String) -> String {
        "build:\n  command: \(command)\n  output: build\n  inputs: \(inputs)\n"
    }

    /// The tool, with `COUNTER` naming the counter file (the environment reaches the command).
    func tool(_ arguments: [String], cwd: String? = nil, extraEnv: [String: String] = [:]) throws -> RunResult {
        try space.tool(arguments, cwd: cwd, extraEnv: ["COUNTER": counter].merging(extraEnv) { $1 })
    }

    var runs: Int { (try? String(contentsOfFile: counter, encoding: .utf8))?.split(separator: "\n").count ?? 0 }

    /// Rewrites the config's `build:` and commits it.
    func setBuild(_ command: String, inputs: String = "[app.py]") throws {
        try space.write("lambda-deploy.yml", "function: \(space.function)\ndirectory: src\nregion: us-east-1\n" + Self.config(command, inputs: inputs))
        try space.git(["commit", "-q", "-am", "build: \(command)"])
    }
}

/// Names in a zip, read by Python's zipfile.
func zipNames(_ path: String) throws -> [String] {
    let listed = try run("python3", ["-c", "import sys, zipfile\nfor n in zipfile.ZipFile(sys.argv[1]).namelist(): print(n)", path], cwd: NSTemporaryDirectory(), env: ProcessInfo.processInfo.environment)
    guard listed.status == 0 else { throw RunError(message: "zipfile could not read \(path): \(listed.stderr)") }
    return listed.stdout.split(separator: "\n").map(String.init)
}

/// The build step (issue 17) as a user runs it: `package` and `deploy` build first and zip the
/// build's output, reuse an unchanged build, and stop before any AWS call when it fails.
@Suite struct BuildStepEndToEndTests {
    static let copying = #"echo run >> "$COUNTER" && cp app.py build/ && echo "$SOURCE_DATE_EPOCH" > build/epoch.txt"#

    @Test func packageZipsTheBuildOutputOnlyWithTheCommitsTime() async throws {
        let build = try await BuildWorkspace(command: "'\(Self.copying)'")
        try build.space.write("src/README.md", "not shipped: the build does not copy it\n")
        let result = try build.tool(["package", "src", "--output", build.space.root.path + "/built.zip", "--json"])
        #expect(result.status == 0, "\(result.output)")
        #expect(build.runs == 1)
        #expect(result.stderr.contains("[build \(build.space.function)] ") || result.stderr.contains("built \(build.space.function) in"), "\(result.stderr)")
        #expect(try zipNames(build.space.root.path + "/built.zip") == ["app.py", "epoch.txt"])
        let commitTime = try build.space.git(["log", "-1", "--format=%ct"])
        #expect(build.space.read("src/build/epoch.txt") == commitTime + "\n")

        // The same bytes as a zip of the output folder alone, made without any config or build.
        let plain = try run(toolPath, ["package", build.space.work + "/src/build", "--output", build.space.root.path + "/plain.zip", "--json"], cwd: build.space.root.path, env: build.space.env)
        #expect(plain.status == 0, "\(plain.output)")
        let codeSha256 = try #require(try result.json()["codeSha256"] as? String)
        #expect(try plain.json()["codeSha256"] as? String == codeSha256)

        // --no-build zips the output as it stands: same bytes, the command does not run.
        let unbuilt = try build.tool(["package", "src", "--output", build.space.root.path + "/again.zip", "--json", "--no-build"])
        #expect(unbuilt.status == 0, "\(unbuilt.output)")
        #expect(try unbuilt.json()["codeSha256"] as? String == codeSha256)
        #expect(build.runs == 1)
    }

    /// The command inherits the environment, AWS keys included; if it prints them, the output
    /// edge masks them.
    @Test func aBuildThatPrintsTheSecretKeyShowsItMasked() async throws {
        let build = try await BuildWorkspace(command: #"'echo "key=$AWS_SECRET_ACCESS_KEY token=$AWS_SESSION_TOKEN"; cp app.py build/'"#)
        let result = try build.tool(["package", "src", "--output", build.space.root.path + "/f.zip"], extraEnv: ["AWS_SESSION_TOKEN": "session-token-never-printed"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("[build \(build.space.function)] key=<redacted> token=<redacted>"), "\(result.stderr)")
        #expect(!result.output.contains("test-secret-value-never-printed"))
        #expect(!result.output.contains("session-token-never-printed"))
    }

    @Test func aSecondDeployWithUnchangedInputsReusesTheBuild() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0))
        let build = try await BuildWorkspace(command: "'\(Self.copying)'", emulator: emulator)
        let first = try build.tool(["deploy", "--alias", "dev", "--json"], extraEnv: emulator.environment)
        #expect(first.status == 0, "\(first.output)")
        #expect(try first.json()["result"] as? String == "deployed")
        #expect(build.runs == 1)
        #expect(!first.stderr.contains("warning"), "the output is git-ignored: \(first.stderr)")

        let second = try build.tool(["deploy", "--alias", "dev", "--json"], extraEnv: emulator.environment)
        #expect(second.status == 0, "\(second.output)")
        #expect(build.runs == 1, "the command did not run again")
        #expect(second.stderr.contains("build of \(build.space.function) reused: its inputs are unchanged"), "\(second.stderr)")
        #expect(try second.json()["result"] as? String == "unchanged", "the reused output is the same package")
        let record = try #require(try build.space.noteRecords(try build.space.head()).last)
        #expect(record["dirty"] as? Bool == false, "the git-ignored output does not make the tree dirty")
    }

    @Test func aChangedInputOrCommandBuildsAgainAndOtherFilesDoNot() async throws {
        let build = try await BuildWorkspace(command: "'\(Self.copying)'")
        func package() throws -> String? {
            let result = try build.tool(["package", "src", "--output", build.space.root.path + "/f.zip", "--json"])
            #expect(result.status == 0, "\(result.output)")
            return try result.json()["codeSha256"] as? String
        }
        let first = try package()
        #expect(build.runs == 1)
        try build.space.write("src/notes.md", "not an input\n")
        #expect(try package() == first)
        #expect(build.runs == 1)
        try build.space.commitChange("v2")
        let changed = try package()
        #expect(build.runs == 2, "app.py is an input")
        #expect(changed != first)
        try build.setBuild("'\(Self.copying) && echo v2 > build/extra.txt'")
        #expect(try package() != changed)
        #expect(build.runs == 3, "the command text is an input")
    }

    @Test func aCorruptedCacheEntryIsBuiltAgainNotPackaged() async throws {
        let build = try await BuildWorkspace(command: "'\(Self.copying)'")
        let zip = build.space.root.path + "/f.zip"
        let first = try build.tool(["package", "src", "--output", zip, "--json"])
        let codeSha256 = try #require(try first.json()["codeSha256"] as? String)
        let builds = build.space.home.path + "/cache/builds"
        let entry = try #require(try FileManager.default.contentsOfDirectory(atPath: builds).first { !$0.hasPrefix(".") })
        try Data("def handler(e, c):\n    return 'tampered'\n".utf8).write(to: URL(fileURLWithPath: builds + "/" + entry + "/tree/app.py"))

        let second = try build.tool(["package", "src", "--output", zip, "--json"])
        #expect(second.status == 0, "\(second.output)")
        #expect(build.runs == 2, "built again")
        #expect(second.stderr.contains("does not match its manifest"), "\(second.stderr)")
        #expect(try second.json()["codeSha256"] as? String == codeSha256)
        #expect(!(build.space.read("src/build/app.py") ?? "").contains("tampered"))
    }

    @Test func aFailingBuildIsOneErrorLineAfterItsTailAndNoAWSCall() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0))
        let command = #"'seq 1 40; echo "ModuleNotFoundError: no module named tinylib" >&2; exit 2'"#
        let build = try await BuildWorkspace(command: command, emulator: emulator)
        try await emulator.resetStats()
        let result = try build.tool(["deploy", "--alias", "dev"], extraEnv: emulator.environment)
        #expect(result.status == 1, "\(result.output)")
        let errors = result.stderrLines.filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1, "\(result.stderr)")
        #expect(errors.first?.contains("the build of \(build.space.function) failed (exit status 2") == true, "\(result.stderr)")
        let lines = result.stderrLines.map(String.init)
        let errorIndex = try #require(lines.firstIndex { $0.hasPrefix("error:") })
        #expect(lines[errorIndex - 1] == "[build \(build.space.function)] ModuleNotFoundError: no module named tinylib", "the tail comes right before the error")
        #expect(lines.contains("[build \(build.space.function)] 40"))
        #expect(try await emulator.stats().requests == 0)
        #expect(try build.space.noteRecords(try build.space.head()).isEmpty, "nothing deployed, nothing recorded")

        let json = try build.tool(["deploy", "--alias", "dev", "--json"], extraEnv: emulator.environment)
        #expect(json.status == 1)
        #expect((try json.json()["error"] as? String)?.contains("exit status 2") == true, "\(json.stdout)")
        #expect(try await emulator.stats().requests == 0)
    }

    @Test func anOutputOutsideTheFunctionDirectoryIsRefusedBeforeAnyAWSCall() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0))
        let build = try await BuildWorkspace(command: "'\(Self.copying)'", emulator: emulator)
        let elsewhere = build.space.root.path + "/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: elsewhere + "/precious"))
        try FileManager.default.createSymbolicLink(atPath: build.space.work + "/src/build", withDestinationPath: elsewhere)
        try await emulator.resetStats()

        let linked = try build.tool(["deploy", "--alias", "dev"], extraEnv: emulator.environment)
        #expect(linked.status == 1, "\(linked.output)")
        #expect(linked.stderrLines.count == 1, "\(linked.stderr)")
        #expect(linked.stderr.contains("goes through the symlink build"), "\(linked.stderr)")
        #expect(FileManager.default.fileExists(atPath: elsewhere + "/precious"), "the folder behind the symlink is not emptied")
        #expect(build.runs == 0)

        try build.space.write("lambda-deploy.yml", (build.space.read("lambda-deploy.yml") ?? "").replacingOccurrences(of: "output: build", with: "output: ../out"))
        let climbing = try build.tool(["deploy", "--alias", "dev"], extraEnv: emulator.environment)
        #expect(climbing.status == 1, "\(climbing.output)")
        #expect(climbing.stderr.contains("build.output"), "\(climbing.stderr)")
        #expect(build.runs == 0)
        #expect(try await emulator.stats().requests == 0)
    }

    /// SIGINT while the build runs: the build's process group is killed, the tool exits 130
    /// at once, and AWS was never called.
    @Test func sigintDuringABuildKillsItAndNothingIsDeployed() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0))
        let pidFile = NSTemporaryDirectory() + "build-sleep-\(UUID().uuidString.prefix(8)).pid"
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        let build = try await BuildWorkspace(command: #"'sleep 120 & echo $! > "$PIDFILE"; echo started; wait'"#, emulator: emulator)
        try await emulator.resetStats()

        // Started with SIGINT at its default and unblocked, as from a shell (the test runner's
        // children inherit it blocked).
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import os, signal, sys; s = {signal.SIGINT, signal.SIGTERM}; [signal.signal(n, signal.SIG_DFL) for n in s]; signal.pthread_sigmask(signal.SIG_UNBLOCK, s); os.execv(sys.argv[1], sys.argv[1:])",
            toolPath, "deploy", "--alias", "dev",
        ]
        process.currentDirectoryURL = URL(fileURLWithPath: build.space.work)
        process.environment = build.space.env.merging(emulator.environment) { $1 }.merging(["COUNTER": build.counter, "PIDFILE": pidFile]) { $1 }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let seen = err.fileHandleForReading.text(until: "] started\n", timeout: 60)
        #expect(seen.contains("[build \(build.space.function)] started"), "\(seen)")
        let signalled = Date()
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(Date().timeIntervalSince(signalled) < 10, "the tool stops at once, not after the grace period")
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 130)
        let pid = try #require(Int32((try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        #expect(processIsGone(pid), "the build's sleep \(pid) was killed with its group")
        #expect(try await emulator.stats().requests == 0)
        #expect(try build.space.noteRecords(try build.space.head()).isEmpty)
    }

    // MARK: Determinism: the same commit built twice is the same package

    /// Clones the workspace's HEAD into a new folder (another path, as another CI machine has)
    /// and packages it there with a cache of its own, so the build really runs.
    static func packageInFreshClone(_ build: BuildWorkspace, label: String) throws -> (codeSha256: String, names: [String]) {
        let clone = build.space.root.path + "/clone-" + label
        try git(["clone", "-q", build.space.work, clone], cwd: build.space.root.path, env: build.space.env)
        let home = build.space.root.path + "/home-" + label
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let zip = build.space.root.path + "/\(label).zip"
        let result = try build.tool(["package", "src", "--output", zip, "--json"], cwd: clone, extraEnv: ["HOME": home, "LAMBDA_DEPLOY_CACHE_DIR": home + "/cache"])
        guard result.status == 0 else { throw RunError(message: "package in \(label) failed: \(result.output)") }
        guard let codeSha256 = try result.json()["codeSha256"] as? String else { throw RunError(message: "no codeSha256: \(result.stdout)") }
        return (codeSha256, try zipNames(zip))
    }

    /// A pure-Python dependency installed by pip from a local wheel (built here by `pip wheel`
    /// from a tiny project with an in-tree PEP 517 backend: no network, no `wheel` package).
    ///
    /// What differs between two pip installs is the bytecode pip compiles after installing:
    /// `pip install -t` installs into a random `/tmp/pip-target-XXXX` first, and each `.pyc`
    /// records that path (PYTHONDONTWRITEBYTECODE does not stop pip's own compile step; with
    /// SOURCE_DATE_EPOCH set the .pyc are hash-based, but the path remains). `--no-compile` is
    /// the fix; RECORD, INSTALLER, REQUESTED and WHEEL are the same every time, and with
    /// `--find-links` pip writes no `direct_url.json`.
    @Test func aPipBuildFromLocalWheelsGivesTheSameCodeSha256Twice() async throws {
        let command = "'python3 -m pip install --disable-pip-version-check --no-compile --no-index --find-links wheels -r requirements.txt -t build && cp app.py build/'"
        let build = try await BuildWorkspace(command: command, inputs: "[app.py, requirements.txt, wheels]")
        let project = build.space.root.path + "/tinylib-project"
        for (path, text) in PythonFixture.files {
            try build.space.write(path, text, in: project)
        }
        let wheel = try run("python3", ["-m", "pip", "wheel", "--disable-pip-version-check", "--no-index", "--no-deps", "-w", build.space.work + "/src/wheels", project], cwd: build.space.root.path, env: build.space.env)
        try #require(wheel.status == 0, "pip wheel failed: \(wheel.output)")
        try build.space.write("src/requirements.txt", "tinylib==1.0\n")
        try build.space.git(["add", "-A"])
        try build.space.git(["commit", "-q", "-m", "tinylib from a local wheel"])

        let first = try Self.packageInFreshClone(build, label: "a")
        let second = try Self.packageInFreshClone(build, label: "b")
        #expect(first.codeSha256 == second.codeSha256)
        #expect(first.names.contains("tinylib/__init__.py"))
        #expect(first.names.contains("tinylib-1.0.dist-info/RECORD"))
        #expect(!first.names.contains { $0.hasSuffix(".pyc") || $0.contains("direct_url.json") }, "\(first.names)")
    }

    static let npmAvailable = ["node", "npm"].allSatisfy { tool in
        (try? run(tool, ["--version"], cwd: NSTemporaryDirectory(), env: ProcessInfo.processInfo.environment).status) == 0
    }

    /// A Node function whose dependency is a local tarball (`npm pack` of a tiny package,
    /// referenced as `file:`), installed with `npm ci --omit=dev`: no registry, no network.
    /// Nothing differed between two installs in different folders (npm writes the lock's
    /// relative `resolved` into node_modules/.package-lock.json, no absolute path).
    @Test(.enabled(if: npmAvailable, "node and npm are not installed"))
    func anNpmBuildFromALocalTarballGivesTheSameCodeSha256Twice() async throws {
        let command = "'npm ci --omit=dev --offline --no-audit --no-fund --no-update-notifier && cp -R package.json index.js node_modules build/'"
        let build = try await BuildWorkspace(command: command, inputs: "[package.json, package-lock.json, index.js, vendor]")
        let dependency = build.space.root.path + "/tinydep"
        try build.space.write("package.json", #"{"name": "tinydep", "version": "1.0.0", "main": "index.js"}"#, in: dependency)
        try build.space.write("index.js", "module.exports = (name) => 'hello ' + name;\n", in: dependency)
        try FileManager.default.createDirectory(atPath: build.space.work + "/src/vendor", withIntermediateDirectories: true)
        let packed = try run("npm", ["pack", "--pack-destination", build.space.work + "/src/vendor"], cwd: dependency, env: build.space.env)
        try #require(packed.status == 0, "npm pack failed: \(packed.output)")
        try build.space.write("src/package.json", #"{"name": "fn", "version": "1.0.0", "private": true, "dependencies": {"tinydep": "file:vendor/tinydep-1.0.0.tgz"}}"#)
        try build.space.write("src/index.js", "const greet = require('tinydep');\nexports.handler = async () => greet('lambda');\n")
        let locked = try run("npm", ["install", "--package-lock-only", "--offline", "--no-audit", "--no-fund"], cwd: build.space.work + "/src", env: build.space.env)
        try #require(locked.status == 0, "npm install --package-lock-only failed: \(locked.output)")
        try build.space.write(".gitignore", "src/build/\nsrc/node_modules/\n")
        try build.space.git(["add", "-A"])
        try build.space.git(["commit", "-q", "-m", "tinydep from a local tarball"])

        let first = try Self.packageInFreshClone(build, label: "a")
        let second = try Self.packageInFreshClone(build, label: "b")
        #expect(first.codeSha256 == second.codeSha256)
        #expect(first.names.contains("node_modules/tinydep/index.js"), "\(first.names)")
        #expect(first.names.contains("index.js"))
    }
}

extension FileHandle {
    /// What was read until `marker` appeared (or the handle ended, or `timeout` passed): every
    /// chunk kept, however the writes were split.
    func text(until marker: String, timeout: TimeInterval) -> String {
        let box = LockedData()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            var collected = Data()
            while !String(decoding: collected, as: UTF8.self).contains(marker) {
                let chunk = self.availableData
                if chunk.isEmpty { break }
                collected.append(chunk)
                box.set(collected)
            }
            done.signal()
        }
        _ = done.wait(timeout: .now() + timeout)
        return String(decoding: box.get(), as: UTF8.self)
    }
}

/// Whether `pid` has ended (a zombie nobody reaped counts as ended).
func processIsGone(_ pid: Int32) -> Bool {
    for _ in 0..<50 {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        let state = stat.split(separator: ")").last?.split(separator: " ").first
        if state == "Z" || state == "X" { return true }
        usleep(100_000)
    }
    return false
}

/// A tiny Python project whose in-tree PEP 517 backend writes its wheel with the standard
/// library, so `pip wheel` needs neither the network nor the `wheel` package.
enum PythonFixture {
    static let files: [(String, String)] = [
        ("pyproject.toml", """
            [build-system]
            requires = []
            build-backend = "backend"
            backend-path = ["."]

            """),
        ("tinylib/__init__.py", """
            def greet(name):
                return "hello " + name

            """),
        ("backend.py", #"""
            """A PEP 517 backend in a few lines of the standard library: a wheel of tinylib."""
            import base64, hashlib, os, zipfile

            NAME, VERSION = "tinylib", "1.0"
            DIST = f"{NAME}-{VERSION}.dist-info"

            def _record(path, data):
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                return f"{path},sha256={digest},{len(data)}"

            def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
                files = {}
                for name in sorted(os.listdir(NAME)):
                    if name.endswith(".py"):
                        with open(os.path.join(NAME, name), "rb") as f:
                            files[f"{NAME}/{name}"] = f.read()
                files[f"{DIST}/METADATA"] = f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n".encode()
                files[f"{DIST}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                record = [_record(p, d) for p, d in files.items()] + [f"{DIST}/RECORD,,"]
                files[f"{DIST}/RECORD"] = ("\n".join(record) + "\n").encode()
                filename = f"{NAME}-{VERSION}-py3-none-any.whl"
                with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as wheel:
                    for path, data in files.items():
                        wheel.writestr(zipfile.ZipInfo(path, (1980, 1, 1, 0, 0, 0)), data)
                return filename

            """#),
    ]
}
