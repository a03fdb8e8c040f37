import Foundation
import Testing

// MARK: - The fault proxy (ci/support/fault_proxy.py)

/// One rule for the fault proxy: which requests (method and path regexes), how many, what to do.
struct FaultRule: Encodable, Sendable {
    var method = ".*"
    var path = ".*"
    var action: String
    var status: Int?
    /// nil: every matching request.
    var times: Int?
    /// "each": `times` counts per distinct method + path (every different call is hit).
    var scope: String?
    var delay: Double?
    var retryAfter: Int?

    static func status(_ code: Int, method: String = ".*", path: String = ".*", times: Int? = nil, eachCall: Bool = false) -> FaultRule {
        FaultRule(method: method, path: path, action: "status", status: code, times: times, scope: eachCall ? "each" : nil, retryAfter: code == 429 ? 1 : nil)
    }
    static func reset(method: String, path: String, times: Int? = 1) -> FaultRule {
        FaultRule(method: method, path: path, action: "reset", times: times)
    }
    /// Forward, let moto act, then close the client's connection without its answer.
    static func dropAnswer(method: String, path: String, times: Int? = 1) -> FaultRule {
        FaultRule(method: method, path: path, action: "drop", times: times)
    }
    static func delay(_ seconds: Double, method: String, path: String, times: Int? = 1) -> FaultRule {
        FaultRule(method: method, path: path, action: "delay", times: times, delay: seconds)
    }
}

/// What the proxy saw and did, one entry per request.
struct ProxyLogEntry: Decodable, Sendable {
    var method: String
    var path: String
    var action: String
    var status: Int?
    var signature: String?
}

/// The fault proxy in front of moto, for one test: its own process, rules file and log file.
/// The process exits with the test process (it watches its parent) or when this value goes away.
final class FaultProxy: @unchecked Sendable {
    let endpoint: String
    private let process: Process
    private let directory: TemporaryDirectory

    init(upstream: String, rules: [FaultRule], logSignatures: Bool = false) throws {
        directory = try TemporaryDirectory("proxy")
        let encoder = JSONEncoder()
        try encoder.encode(rules).write(to: URL(fileURLWithPath: directory.path + "/rules.json"))
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", packageRoot + "/ci/support/fault_proxy.py", upstream, "--rules", directory.path + "/rules.json", "--log", directory.path + "/log.jsonl"]
            + (logSignatures ? ["--log-signatures"] : [])
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard let line = out.fileHandleForReading.availableDataLine(timeout: 20), line.hasPrefix("ready "),
            let port = Int(line.dropFirst("ready ".count))
        else { throw RunError(message: "the fault proxy did not start") }
        endpoint = "http://127.0.0.1:\(port)"
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    /// Every request so far, in order.
    func log() throws -> [ProxyLogEntry] {
        guard let text = try? String(contentsOfFile: directory.path + "/log.jsonl", encoding: .utf8) else { return [] }
        let decoder = JSONDecoder()
        return try text.split(separator: "\n").map { try decoder.decode(ProxyLogEntry.self, from: Data($0.utf8)) }
    }

    func count(_ action: String, method: String? = nil, pathSuffix: String? = nil) throws -> Int {
        try log().filter { entry in
            entry.action == action && (method.map { entry.method == $0 } ?? true)
                && (pathSuffix.map { entry.path.components(separatedBy: "?")[0].hasSuffix($0) } ?? true)
        }.count
    }
}

// MARK: - Reading the end state straight from moto and from the ledger

/// A function as moto holds it: the alias's version and every published version's CodeSha256.
struct MotoFunction: Decodable, Sendable {
    var aliasVersion: String?
    var versions: [String: String]
    var latest: String

    /// The CodeSha256 of the version the alias runs.
    var aliasCode: String? { aliasVersion.flatMap { versions[$0] } }
}

/// Asks moto directly (boto3, not through the proxy or the tool) how a function and alias stand.
func motoFunction(_ function: String, alias: String, endpoint: String) throws -> MotoFunction {
    let script = """
        import boto3, json, sys
        endpoint, name, alias = sys.argv[1:4]
        c = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1",
                         aws_access_key_id="testing", aws_secret_access_key="testing")
        versions = {}
        for page in c.get_paginator("list_versions_by_function").paginate(FunctionName=name):
            for v in page["Versions"]:
                versions[v["Version"]] = v["CodeSha256"]
        try:
            alias_version = c.get_alias(FunctionName=name, Name=alias)["FunctionVersion"]
        except c.exceptions.ResourceNotFoundException:
            alias_version = None
        print(json.dumps({"aliasVersion": alias_version, "versions": versions, "latest": versions.get("$LATEST", "")}))
        """
    let result = try run("python3", ["-c", script, endpoint, function, alias], cwd: packageRoot, env: ProcessInfo.processInfo.environment)
    guard result.status == 0 else { throw RunError(message: "reading \(function) from moto failed: \(result.stderr)") }
    return try JSONDecoder().decode(MotoFunction.self, from: Data(result.stdout.utf8))
}

/// One line of a deploy note, the fields these tests check.
struct LedgerRecord: Decodable, Sendable {
    var function: String
    var alias: String
    var result: String
    var version: String?
    var codeSha256: String?
    var error: String?
}

/// Every record in `refs/notes/deploys` of the repository at `path`, all commits.
func ledgerRecords(in path: String, env: [String: String]) throws -> [LedgerRecord] {
    let list = try run("git", ["notes", "--ref=deploys", "list"], cwd: path, env: env)
    guard list.status == 0 else { return [] }
    var records: [LedgerRecord] = []
    for line in list.stdout.split(separator: "\n") {
        let parts = line.split(separator: " ")
        guard parts.count == 2 else { continue }
        let note = try git(["notes", "--ref=deploys", "show", String(parts[1])], cwd: path, env: env)
        for recordLine in note.split(separator: "\n") where !recordLine.isEmpty {
            records.append(try JSONDecoder().decode(LedgerRecord.self, from: Data(recordLine.utf8)))
        }
    }
    return records
}

/// A process started now and awaited later, so several can run at once.
final class LaunchedProcess: @unchecked Sendable {
    private let process = Process()
    private let stdout = LockedData(), stderr = LockedData()
    private let done = DispatchGroup()

    init(_ executable: String, _ arguments: [String], cwd: String, env: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: cwd)
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // One thread per pipe (not the global queue, whose width may be the core count).
        for (pipe, sink) in [(out, stdout), (err, stderr)] {
            done.enter()
            Thread { [done] in
                sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
                done.leave()
            }.start()
        }
    }

    func wait(timeout: TimeInterval = 180) throws -> RunResult {
        if done.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            throw RunError(message: "\(process.arguments?.joined(separator: " ") ?? "") timed out after \(timeout) s")
        }
        process.waitUntilExit()
        return RunResult(
            status: process.terminationStatus, stdout: String(decoding: stdout.get(), as: UTF8.self),
            stderr: String(decoding: stderr.get(), as: UTF8.self))
    }
}

/// A failure a user can act on: a non-zero exit below 128 (no crash) and exactly one `error:` line.
func expectCleanFailure(_ result: RunResult, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status != 0 && result.status < 128, "exit \(result.status): \(result.output)", sourceLocation: sourceLocation)
    let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
    #expect(errors.count == 1, "one error line: \(result.stderr)", sourceLocation: sourceLocation)
    #expect(!result.output.contains("Fatal error") && !result.output.contains("Stack dump"), sourceLocation: sourceLocation)
}

/// A git repository holding a function directory, a config and a commit, with the tool's
/// environment; deploys go through a fault proxy or straight to moto.
struct FaultFixture {
    let home: TemporaryDirectory
    let work: TemporaryDirectory
    let function: String
    let moto: String
    var env: [String: String]

    /// Retry settings small enough for tests: 1 s per request, a 20 s budget per call.
    static let retryEnvironment = ["LAMBDA_DEPLOY_HTTP_TIMEOUT": "1", "LAMBDA_DEPLOY_RETRY_BUDGET": "20", "LAMBDA_DEPLOY_MAX_ATTEMPTS": "6"]

    init(function existing: String? = nil, body: String = "v1") async throws {
        home = try TemporaryDirectory("home")
        work = try TemporaryDirectory("repo")
        moto = try await MotoServer.shared.endpoint()
        if let existing {
            function = existing
        } else {
            function = uniqueName("fault")
            try createFunction(function, endpoint: moto)
        }
        env = baseEnvironment(home: home.path).merging(Self.retryEnvironment) { $1 }
        env["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLETESTONLY"
        env["AWS_SECRET_ACCESS_KEY"] = "fault-test-secret-never-printed"
        env["AWS_REGION"] = "us-east-1"
        env["AWS_ENDPOINT_URL"] = moto
        try work.write("lambda-deploy.yml", "function: \(function)\ndirectory: src\nregion: us-east-1\n")
        try setCode(body)
        try git(["init", "-q", "-b", "main"], cwd: work.path, env: env)
        try commit("first")
    }

    func setCode(_ body: String) throws {
        try work.write("src/app.py", "def handler(event, context):\n    return {'statusCode': 200, 'body': '\(body)'}\n")
    }

    func commit(_ message: String) throws {
        try git(["add", "-A"], cwd: work.path, env: env)
        try git(["commit", "-q", "-m", message], cwd: work.path, env: env)
    }

    /// The CodeSha256 of the function directory as it is now (what a deploy would ship).
    func packagedCodeSha256() throws -> String {
        let result = try run(toolPath, ["package", "src", "--json", "--output", home.path + "/probe.zip"], cwd: work.path, env: env)
        guard result.status == 0, let sha = try result.json()["codeSha256"] as? String else {
            throw RunError(message: "package failed: \(result.output)")
        }
        return sha
    }

    func tool(_ arguments: [String], through proxy: FaultProxy? = nil, extraEnv: [String: String] = [:], timeout: TimeInterval = 150) throws -> RunResult {
        var environment = env.merging(extraEnv) { $1 }
        if let proxy { environment["AWS_ENDPOINT_URL"] = proxy.endpoint }
        return try run(toolPath, arguments, cwd: work.path, env: environment, timeout: timeout)
    }

    func records() throws -> [LedgerRecord] { try ledgerRecords(in: work.path, env: env) }

    func state(alias: String = "dev") throws -> MotoFunction { try motoFunction(function, alias: alias, endpoint: moto) }

    /// No record names a version whose code (in moto) differs from the record's own CodeSha256,
    /// and every record is for `expectedCode` (this fixture's deploys ship nothing else).
    func expectRecordsHoldTheirCode(expectedCode: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let state = try state()
        for record in try records() {
            if let version = record.version {
                #expect(state.versions[version] == record.codeSha256, "record claims version \(version): \(record)", sourceLocation: sourceLocation)
            }
            if let expectedCode { #expect(record.codeSha256 == expectedCode, sourceLocation: sourceLocation) }
        }
    }
}

// MARK: - Scenarios

/// AWS on its worst day: throttling, 5xx, lost answers, resets, timeouts and racing deploys,
/// with the end state checked in moto itself and in the git notes.
@Suite struct FaultInjectionTests {
    /// A deploy through the proxy that must end with the alias on a version holding our code.
    func expectDeployed(_ fixture: FaultFixture, through proxy: FaultProxy, sourceLocation: SourceLocation = #_sourceLocation) throws -> (version: String, code: String) {
        let result = try fixture.tool(["deploy", "--alias", "dev", "--json"], through: proxy)
        #expect(result.status == 0, "\(result.output)", sourceLocation: sourceLocation)
        let json = try result.json()
        #expect(json["result"] as? String == "deployed", sourceLocation: sourceLocation)
        let version = try #require(json["version"] as? String, sourceLocation: sourceLocation)
        let code = try #require(json["codeSha256"] as? String, sourceLocation: sourceLocation)
        let state = try fixture.state()
        #expect(state.aliasVersion == version, sourceLocation: sourceLocation)
        #expect(state.aliasCode == code, "the alias runs exactly the packaged code", sourceLocation: sourceLocation)
        let records = try fixture.records()
        #expect(records.count == 1, "\(records)", sourceLocation: sourceLocation)
        #expect(records.first?.result == "deployed", sourceLocation: sourceLocation)
        #expect(records.first?.version == version, sourceLocation: sourceLocation)
        #expect(records.first?.codeSha256 == code, sourceLocation: sourceLocation)
        return (version, code)
    }

    @Test func throttlingOnEveryCallIsWaitedOutHonouringRetryAfter() async throws {
        let fixture = try await FaultFixture()
        let proxy = try FaultProxy(upstream: fixture.moto, rules: [.status(429, times: 1, eachCall: true)])
        let started = Date()
        _ = try expectDeployed(fixture, through: proxy)
        let log = try proxy.log()
        let calls = Set(log.map { $0.method + " " + $0.path })
        let throttledCalls = Set(log.filter { $0.status == 429 }.map { $0.method + " " + $0.path })
        #expect(calls.count >= 5 && throttledCalls == calls, "every distinct call was throttled once: \(calls)")
        let throttled = log.filter { $0.status == 429 }.count
        // Retry-After: 1 was honoured for each throttled call (the backoff alone would be ~0.2 s).
        // The first two reads (alias and $LATEST) run concurrently, so their waits overlap: at
        // least throttled - 1 seconds in all.
        #expect(Date().timeIntervalSince(started) >= Double(throttled - 1) * 0.95)
    }

    @Test func bursts500And503OnEveryCallAreRetried() async throws {
        let fixture = try await FaultFixture()
        let proxy = try FaultProxy(
            upstream: fixture.moto, rules: [.status(500, times: 1, eachCall: true), .status(503, times: 1, eachCall: true)])
        _ = try expectDeployed(fixture, through: proxy)
        let log = try proxy.log()
        let calls = Set(log.map { $0.method + " " + $0.path })
        for status in [500, 503] {
            #expect(Set(log.filter { $0.status == status }.map { $0.method + " " + $0.path }) == calls, "every call got a \(status)")
        }
    }

    @Test func aLostPublishVersionAnswerIsRetriedSafely() async throws {
        let fixture = try await FaultFixture()
        let proxy = try FaultProxy(upstream: fixture.moto, rules: [.dropAnswer(method: "POST", path: "/versions$")])
        let (version, code) = try expectDeployed(fixture, through: proxy)
        #expect(try proxy.count("drop", method: "POST", pathSuffix: "/versions") == 1)
        // Every version published holds our code: the retry published nothing foreign.
        let state = try fixture.state()
        for (published, sha) in state.versions where published != "$LATEST" && published != "1" {
            #expect(sha == code, "version \(published)")
        }
        #expect(state.versions[version] == code)
        try fixture.expectRecordsHoldTheirCode(expectedCode: code)
    }

    @Test func aLostUpdateAliasAnswerIsRetriedSafely() async throws {
        let fixture = try await FaultFixture()
        let first = try fixture.tool(["deploy", "--alias", "dev", "--json"])
        #expect(first.status == 0, "\(first.output)")
        try fixture.setCode("v2")
        try fixture.commit("second")
        let proxy = try FaultProxy(upstream: fixture.moto, rules: [.dropAnswer(method: "PUT", path: "/aliases/dev$")])
        let result = try fixture.tool(["deploy", "--alias", "dev", "--json"], through: proxy)
        #expect(result.status == 0, "\(result.output)")
        let json = try result.json()
        let code = try #require(json["codeSha256"] as? String)
        #expect(try proxy.count("drop", method: "PUT") == 1)
        let state = try fixture.state()
        #expect(state.aliasVersion == json["version"] as? String)
        #expect(state.aliasCode == code)
        try fixture.expectRecordsHoldTheirCode()
    }

    @Test func aLostCreateAliasAnswerIsSettledByReadingTheAliasBack() async throws {
        let fixture = try await FaultFixture()
        let proxy = try FaultProxy(upstream: fixture.moto, rules: [.dropAnswer(method: "POST", path: "/aliases$")])
        _ = try expectDeployed(fixture, through: proxy)
        #expect(try proxy.count("drop", method: "POST", pathSuffix: "/aliases") == 1)
    }

    @Test func aPersistentAliasFailureStopsWithinTheBudgetAndRecordsFailed() async throws {
        let fixture = try await FaultFixture()
        let first = try fixture.tool(["deploy", "--alias", "dev", "--json"])
        #expect(first.status == 0, "\(first.output)")
        let oldVersion = try #require(try first.json()["version"] as? String)
        try fixture.setCode("v2")
        try fixture.commit("second")
        let code = try fixture.packagedCodeSha256()

        let proxy = try FaultProxy(upstream: fixture.moto, rules: [.status(500, method: "PUT", path: "/aliases/dev$")])
        let started = Date()
        let result = try fixture.tool(["deploy", "--alias", "dev"], through: proxy, extraEnv: ["LAMBDA_DEPLOY_RETRY_BUDGET": "5", "LAMBDA_DEPLOY_MAX_ATTEMPTS": "4"])
        let took = Date().timeIntervalSince(started)
        expectCleanFailure(result)
        #expect(took < 20, "bounded retries: \(took) s")
        let attempts = try proxy.count("status", method: "PUT")
        #expect((2...4).contains(attempts), "retried, at most LAMBDA_DEPLOY_MAX_ATTEMPTS times: \(attempts)")
        #expect(try fixture.state().aliasVersion == oldVersion, "the alias still runs the old version")
        let head = try fixture.records().filter { $0.codeSha256 == code }
        #expect(head.map(\.result) == ["failed"], "\(head)")
        #expect(head.first?.error?.isEmpty == false)
        try fixture.expectRecordsHoldTheirCode()
    }

    @Test func aResetAndATimeoutOnTheReadsAreRetried() async throws {
        let fixture = try await FaultFixture()
        let proxy = try FaultProxy(
            upstream: fixture.moto,
            rules: [
                .reset(method: "GET", path: "/configuration", times: 1),
                .delay(3, method: "GET", path: "/aliases/dev$", times: 1),
                .reset(method: "GET", path: "/configuration", times: 1),
            ])
        _ = try expectDeployed(fixture, through: proxy)
        #expect(try proxy.count("reset") == 2)
        #expect(try proxy.count("delay") == 1)
        // The delayed GetAlias timed out on the client's side (LAMBDA_DEPLOY_HTTP_TIMEOUT=1) and was sent again.
        #expect(try proxy.log().filter { $0.method == "GET" && $0.path.hasSuffix("/aliases/dev") }.count >= 2)
    }

    /// The two first reads run concurrently: when one fails for good, the other (still in flight)
    /// is cancelled and the deploy must end at once, not hang on the cancelled request.
    @Test func aFailedReadEndsTheDeployWhileTheOtherReadIsInFlight() async throws {
        let fixture = try await FaultFixture()
        let proxy = try FaultProxy(
            upstream: fixture.moto,
            rules: [.status(403, method: "GET", path: "/configuration")])
        // The cancellation races the GetAlias answer: before the fix, 1 run in 4 hung.
        for _ in 0..<12 {
            let started = Date()
            let result = try fixture.tool(["deploy", "--alias", "dev"], through: proxy, timeout: 15)
            expectCleanFailure(result)
            #expect(Date().timeIntervalSince(started) < 10)
        }
        #expect(try fixture.records().isEmpty, "nothing changed in AWS, nothing recorded")
    }

    /// N deploys of different code to one alias, started together straight against moto.
    @Test(arguments: [2, 4]) func racingDeploysEndCorrectlyOrFailCleanly(_ count: Int) async throws {
        let first = try await FaultFixture(body: "race-0")
        var fixtures = [first]
        for index in 1..<count { fixtures.append(try await FaultFixture(function: first.function, body: "race-\(index)")) }
        if count == 4 {
            // One race starts from an existing alias (UpdateAlias), the other creates it (CreateAlias).
            let seed = try first.tool(["deploy", "--alias", "dev"])
            #expect(seed.status == 0, "\(seed.output)")
            try first.setCode("race-0b")
            try first.commit("race")
        }
        var codes: [String] = []
        for fixture in fixtures { codes.append(try fixture.packagedCodeSha256()) }
        #expect(Set(codes).count == count)

        let launched = try fixtures.map {
            try LaunchedProcess(toolPath, ["deploy", "--alias", "dev", "--json"], cwd: $0.work.path, env: $0.env)
        }
        let results = try launched.map { try $0.wait() }
        let state = try first.state()
        var succeeded = 0
        for (index, result) in results.enumerated() {
            if result.status == 0 {
                succeeded += 1
                let json = try result.json()
                let version = try #require(json["version"] as? String)
                #expect(json["codeSha256"] as? String == codes[index])
                #expect(state.versions[version] == codes[index], "deploy \(index) reports version \(version), which holds other code")
            } else {
                expectCleanFailure(result)
            }
            // No record names a version with foreign code.
            for record in try fixtures[index].records() {
                if let version = record.version { #expect(state.versions[version] == record.codeSha256, "record \(record)") }
            }
        }
        #expect(succeeded >= 1, "\(results.map(\.output))")
        #expect(state.aliasCode.map(codes.contains) == true, "the alias runs one of the racers' code")
    }

    @Test func racingNotesPushesLoseNoRecord() async throws {
        let moto = try await MotoServer.shared.endpoint()
        let remote = try TemporaryDirectory("remote")
        let seed = try FaultFixture(functionOnly: moto)
        try git(["init", "-q", "--bare", "-b", "main", remote.path], cwd: remote.path, env: seed.env)
        try git(["remote", "add", "origin", remote.path], cwd: seed.work.path, env: seed.env)
        try git(["push", "-q", "origin", "main"], cwd: seed.work.path, env: seed.env)
        let commit = try git(["rev-parse", "HEAD"], cwd: seed.work.path, env: seed.env)

        // Four jobs on the same commit, each its own clone and function: three deploy with
        // --push-notes, the fourth deployed earlier without pushing and now runs `notes push`.
        let clones = try (0..<4).map { _ in try TemporaryDirectory("clone") }
        var functions: [String] = []
        for clone in clones {
            try git(["clone", "-q", remote.path, clone.path], cwd: clone.path, env: seed.env)
            let function = uniqueName("notes")
            try createFunction(function, endpoint: moto)
            functions.append(function)
        }
        let late = try run(toolPath, ["deploy", "--alias", "dev", "--function", functions[3]], cwd: clones[3].path, env: seed.env)
        #expect(late.status == 0, "\(late.output)")

        let launched = try clones.enumerated().map { index, clone in
            try LaunchedProcess(
                toolPath, index == 3 ? ["notes", "push"] : ["deploy", "--alias", "dev", "--function", functions[index], "--push-notes"],
                cwd: clone.path, env: seed.env)
        }
        for (index, process) in launched.enumerated() {
            let result = try process.wait()
            #expect(result.status == 0, "job \(index): \(result.output)")
        }

        let check = try TemporaryDirectory("check")
        try git(["clone", "-q", remote.path, check.path], cwd: check.path, env: seed.env)
        try git(["fetch", "-q", "origin", "refs/notes/deploys:refs/notes/deploys"], cwd: check.path, env: seed.env)
        let records = try ledgerRecords(in: check.path, env: seed.env)
        #expect(Set(records.map(\.function)) == Set(functions), "\(records)")
        #expect(records.count == 4)
        #expect(try git(["notes", "--ref=deploys", "list"], cwd: check.path, env: seed.env).contains(commit))
    }
}

extension FaultFixture {
    /// A repository with a config but no function of its own (jobs pass --function).
    init(functionOnly moto: String) throws {
        home = try TemporaryDirectory("home")
        work = try TemporaryDirectory("repo")
        self.moto = moto
        function = ""
        env = baseEnvironment(home: home.path).merging(Self.retryEnvironment) { $1 }
        env["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLETESTONLY"
        env["AWS_SECRET_ACCESS_KEY"] = "fault-test-secret-never-printed"
        env["AWS_REGION"] = "us-east-1"
        env["AWS_ENDPOINT_URL"] = moto
        try work.write("lambda-deploy.yml", "directory: src\nregion: us-east-1\n")
        try setCode("notes")
        try git(["init", "-q", "-b", "main"], cwd: work.path, env: env)
        try commit("first")
    }
}
