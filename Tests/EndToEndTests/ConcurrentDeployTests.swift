import Foundation
import Testing

/// Several `lambda-deploy deploy --alias dev` of one function at once, each from a clone of one
/// repository, against moto and against the strict Lambda emulation (2 s update window, 409s,
/// 412s): every job exits 0, ends `deployed` or `superseded`, the alias runs one of them (the
/// newest, when the commits are ordered), every deployed version holds its job's code, and no
/// record is lost on the remote.
@Suite(.serialized) struct ConcurrentDeployTests {
    /// Where the tool talks to (moto, or the emulator's proxy) and where the ground truth is read.
    struct Lambda: Sendable {
        var environment: [String: String]
        var groundTruth: String
    }

    static func moto(_ function: String) async throws -> Lambda {
        let endpoint = try await MotoServer.shared.endpoint()
        try createFunction(function, endpoint: endpoint)
        return Lambda(
            environment: ["AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"],
            groundTruth: endpoint)
    }

    static func emulated(_ emulator: LambdaEmulator, _ function: String) throws -> Lambda {
        try emulator.createFunction(function)
        return Lambda(environment: emulator.environment, groundTruth: emulator.motoEndpoint)
    }

    /// A bare remote with the function's config, and clones of it for the jobs.
    final class Repository: @unchecked Sendable {
        let root: TemporaryDirectory
        let function: String
        let env: [String: String]
        var remote: String { root.path + "/remote.git" }
        var seed: String { root.path + "/seed" }

        init(function: String, lambda: Lambda) throws {
            root = try TemporaryDirectory("races")
            self.function = function
            env = baseEnvironment(home: root.path + "/home").merging(lambda.environment) { $1 }
            try git(["init", "-q", "--bare", "-b", "main", remote])
            try git(["clone", "-q", remote, seed])
            try write("src/app.py", Self.handler("seed"), in: seed)
            try write("lambda-deploy.yml", "function: \(function)\ndirectory: src\nregion: us-east-1\n", in: seed)
            try git(["add", "-A"], cwd: seed)
            try git(["commit", "-q", "-m", "seed"], cwd: seed)
            try git(["push", "-q", "origin", "main"], cwd: seed)
        }

        static func handler(_ body: String) -> String { "def handler(event, context):\n    return '\(body)'\n" }

        func write(_ relative: String, _ contents: String, in directory: String) throws {
            let path = directory + "/" + relative
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        }

        @discardableResult
        func git(_ arguments: [String], cwd: String? = nil) throws -> String {
            try EndToEndTests.git(arguments, cwd: cwd ?? root.path, env: env)
        }

        /// `count` clones, each with a commit of its own on top of the seed (siblings: none is
        /// newer than another). Returns (clone, commit).
        func siblings(_ count: Int) throws -> [(clone: String, commit: String)] {
            try (1...count).map { index in
                let clone = root.path + "/job\(index)"
                try git(["clone", "-q", remote, clone])
                try write("src/app.py", Self.handler("job \(index)"), in: clone)
                try git(["commit", "-q", "-am", "job \(index)"], cwd: clone)
                try git(["push", "-q", "origin", "HEAD:refs/heads/job\(index)"], cwd: clone)
                return (clone, try git(["rev-parse", "HEAD"], cwd: clone))
            }
        }

        /// c1 < c2 < ... on main, each tagged `t<i>` and pushed.
        func history(_ count: Int) throws -> [String] {
            try (1...count).map { index in
                try write("src/app.py", Self.handler("c\(index)"), in: seed)
                try git(["commit", "-q", "-am", "c\(index)"], cwd: seed)
                try git(["tag", "t\(index)"], cwd: seed)
                try git(["push", "-q", "origin", "main", "t\(index)"], cwd: seed)
                return try git(["rev-parse", "HEAD"], cwd: seed)
            }
        }

        /// A full clone with main at tag `t<index>` (every commit of the history is there).
        func fullClone(at index: Int) throws -> String {
            let clone = root.path + "/full\(index)"
            try git(["clone", "-q", remote, clone])
            try git(["reset", "-q", "--hard", "t\(index)"], cwd: clone)
            return clone
        }

        /// A depth-1 clone of tag `t<index>`, as CI checks out: no other commit is there.
        func shallowClone(at index: Int) throws -> String {
            let clone = root.path + "/shallow\(index)"
            try git(["clone", "-q", "--depth", "1", "--branch", "t\(index)", "file://" + remote, clone])
            return clone
        }

        /// The records on `commit` in the remote's refs/notes/deploys.
        func remoteRecords(_ commit: String) throws -> [[String: Any]] {
            let shown = try run("git", ["--git-dir", remote, "notes", "--ref=deploys", "show", commit], cwd: root.path, env: env)
            guard shown.status == 0 else { return [] }
            return shown.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
    }

    struct Job: Sendable {
        var clone: String
        var commit: String
        /// Seconds after the first job starts.
        var delay: Double = 0
        var extraEnv: [String: String] = [:]
    }

    struct Finished: @unchecked Sendable {
        var job: Job
        var result: RunResult
        var json: [String: Any]
        var outcome: String? { json["result"] as? String }
        var version: String? { json["version"] as? String }
        var codeSha256: String? { json["codeSha256"] as? String }
    }

    /// Starts every job on a thread of its own (after its delay) and waits for all of them.
    static func runAll(_ jobs: [Job], repository: Repository, arguments: [String] = []) throws -> [Finished] {
        let results = LockedResults(count: jobs.count)
        let group = DispatchGroup()
        let start = Date()
        for (index, job) in jobs.enumerated() {
            group.enter()
            let env = repository.env.merging(["LAMBDA_DEPLOY_CACHE_DIR": job.clone + "-cache"].merging(job.extraEnv) { $1 }) { $1 }
            Thread.detachNewThread {
                let wait = job.delay - Date().timeIntervalSince(start)
                if wait > 0 { Thread.sleep(forTimeInterval: wait) }
                let result = Result {
                    try run(toolPath, ["deploy", "--alias", "dev", "--json", "--push-notes"] + arguments, cwd: job.clone, env: env, timeout: 240)
                }
                results.set(index, result)
                group.leave()
            }
        }
        group.wait()
        return try jobs.indices.map { index in
            let result = try results.get(index)
            let json = (try? result.json()) ?? [:]
            return Finished(job: jobs[index], result: result, json: json)
        }
    }

    final class LockedResults: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [Result<RunResult, any Error>?]
        init(count: Int) { results = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ result: Result<RunResult, any Error>) { lock.lock(); results[index] = result; lock.unlock() }
        func get(_ index: Int) throws -> RunResult {
            lock.lock()
            defer { lock.unlock() }
            guard let result = results[index] else { throw RunError(message: "job \(index) did not finish") }
            return try result.get()
        }
    }

    /// The alias's version and every version's CodeSha256, read from moto directly.
    static func truth(_ lambda: Lambda, function: String) throws -> (alias: String?, codes: [String: String]) {
        let script = """
            import json, sys, boto3
            c = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
            codes = {v["Version"]: v["CodeSha256"] for page in c.get_paginator("list_versions_by_function").paginate(FunctionName=sys.argv[2]) for v in page["Versions"]}
            try:
                alias = c.get_alias(FunctionName=sys.argv[2], Name="dev")["FunctionVersion"]
            except c.exceptions.ResourceNotFoundException:
                alias = None
            print(json.dumps({"alias": alias, "codes": codes}))
            """
        let result = try run("python3", ["-c", script, lambda.groundTruth, function], cwd: NSTemporaryDirectory(), env: ProcessInfo.processInfo.environment)
        guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw RunError(message: "reading moto failed: \(result.output)")
        }
        return (object["alias"] as? String, object["codes"] as? [String: String] ?? [:])
    }

    /// What must hold after any race: every job exits 0 as `deployed` or `superseded` with no
    /// conflict shown to the user; every deployed version holds its job's code and its record is
    /// on the remote; the alias runs the code of one of the jobs.
    @discardableResult
    static func expectEndedWell(_ finished: [Finished], lambda: Lambda, repository: Repository) throws -> (alias: String?, codes: [String: String]) {
        let truth = try truth(lambda, function: repository.function)
        for job in finished {
            let name = "job at \(job.job.commit.prefix(8))"
            #expect(job.result.status == 0, "\(name): \(job.result.output)")
            #expect(job.outcome == "deployed" || job.outcome == "superseded", "\(name): \(job.result.stdout)")
            let conflicts = ["HTTP 409", "HTTP 412", "ResourceConflict", "update is in progress for resource", "conflicts with the current state", "PreconditionFailed", "kept changing"]
            for hint in conflicts {
                #expect(!job.result.stderr.contains(hint), "\(name) showed the user '\(hint)': \(job.result.stderr)")
            }
            if job.outcome == "deployed", let version = job.version {
                #expect(truth.codes[version] == job.codeSha256, "\(name): version \(version) holds other code")
                let records = try repository.remoteRecords(job.job.commit)
                #expect(
                    records.contains { $0["result"] as? String == "deployed" && $0["version"] as? String == version && $0["alias"] as? String == "dev" },
                    "\(name): its record is not on the remote: \(records)")
            }
            if job.outcome == "superseded" {
                let records = try repository.remoteRecords(job.job.commit)
                #expect(
                    records.contains {
                        $0["result"] as? String == "superseded" && $0["alias"] as? String == "dev"
                            && $0["supersededByVersion"] as? String == job.json["supersededByVersion"] as? String
                    },
                    "\(name): its superseded record is not on the remote: \(records)")
            }
        }
        let jobCodes = Set(finished.compactMap(\.codeSha256))
        let running = truth.alias.flatMap { truth.codes[$0] }
        #expect(running.map(jobCodes.contains) == true, "dev runs version \(truth.alias ?? "none"), not the code of any job")
        return truth
    }

    // MARK: - Distinct commits at once

    @Test(arguments: [2, 4, 8])
    func distinctCommitsAtOnceAllEndWellOnMoto(_ count: Int) async throws {
        let function = uniqueName("race")
        let lambda = try await Self.moto(function)
        let repository = try Repository(function: function, lambda: lambda)
        let jobs = try repository.siblings(count).map { Job(clone: $0.clone, commit: $0.commit) }
        let finished = try Self.runAll(jobs, repository: repository)
        try Self.expectEndedWell(finished, lambda: lambda, repository: repository)
        // Siblings are unrelated: each deploys, last writer wins (moto checks no RevisionId, so a
        // move may be replaced the moment it lands: that job ends superseded).
        #expect(finished.contains { $0.outcome == "deployed" })
    }

    @Test(arguments: [2, 4, 8])
    func distinctCommitsAtOnceAllEndWellAgainstTheEmulation(_ count: Int) async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 2))
        let function = uniqueName("race")
        let lambda = try Self.emulated(emulator, function)
        let repository = try Repository(function: function, lambda: lambda)
        let jobs = try repository.siblings(count).map { Job(clone: $0.clone, commit: $0.commit) }
        let finished = try Self.runAll(jobs, repository: repository)
        try Self.expectEndedWell(finished, lambda: lambda, repository: repository)
        #expect(finished.allSatisfy { $0.outcome == "deployed" })
        let stats = try await emulator.stats()
        #expect(stats.uploadsApplied == count, "each job's code landed once: \(stats.operations)")
    }

    /// Two first deploys both find no alias; one creates it while the other's CreateAlias is on
    /// its way. The second must decide again from the alias it now finds (409 "Alias already
    /// exists": ResourceConflictException on AWS, ConflictException from moto), not fail. Found by
    /// the 8-job race above, made deterministic here with a held CreateAlias.
    @Test func anAliasCreatedByAnotherDeployMeanwhileIsMovedNotAFailure() async throws {
        let space = try await GitWorkspace()
        let other = try #require(try space.moto(["publish", space.function]) as? String)
        // Held 15 s (under the tool's 30 s answer bound): time enough for this test to start boto3
        // and create the alias first on a busy machine (4 s was not, once).
        let proxy = try FaultProxy(upstream: space.endpoint, rules: [.delay(15, method: "POST", path: "/aliases$", times: 1)])
        let done = DispatchSemaphore(value: 0)
        let outcome = LockedResults(count: 1)
        Thread.detachNewThread {
            outcome.set(0, Result { try space.tool(["deploy", "--alias", "dev", "--json"], extraEnv: ["AWS_ENDPOINT_URL": proxy.endpoint]) })
            done.signal()
        }
        // Once the tool's CreateAlias is held at the proxy, the other deploy creates the alias.
        let deadline = Date().addingTimeInterval(60)
        while try proxy.count("delay", method: "POST", pathSuffix: "/aliases") == 0, Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        _ = try space.moto(["create-alias", space.function, "dev", other])
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { done.wait(); continuation.resume() }
        }
        let result = try outcome.get(0)
        #expect(result.status == 0, "\(result.output)")
        let json = try result.json()
        #expect(json["result"] as? String == "deployed", "\(result.output)")
        #expect(json["previousVersion"] as? String == other, "it moved the alias from what the other deploy set")
        #expect(try space.alias("dev")?.version == json["version"] as? String)
        #expect(!result.stderr.contains("conflicts with the current state"), "\(result.stderr)")
    }

    // MARK: - Ordered history: never backwards

    /// c1 < c2 < c3 < c4, started newest first, each `spacing` seconds after the previous.
    static func newestFirst(_ clones: [String], _ commits: [String], spacing: Double, env: (Int) -> [String: String] = { _ in [:] }) -> [Job] {
        (0..<clones.count).reversed().enumerated().map { order, index in
            Job(clone: clones[index], commit: commits[index], delay: Double(order) * spacing, extraEnv: env(index))
        }
    }

    static func expectNewestWins(_ finished: [Finished], newest: String, lambda: Lambda, repository: Repository) throws {
        let truth = try Self.expectEndedWell(finished, lambda: lambda, repository: repository)
        let winner = finished.first { $0.job.commit == newest }
        #expect(winner?.outcome == "deployed")
        #expect(truth.alias == winner?.version, "dev must end on the newest commit")
        for job in finished where job.job.commit != newest {
            #expect(job.outcome == "superseded", "\(job.job.commit.prefix(8)): \(job.result.output)")
            #expect(job.json["supersededByCommit"] as? String == newest)
            #expect(job.result.stderr.contains("left as it is"), "the reason is printed: \(job.result.stderr)")
        }
    }

    @Test func anOlderCommitFinishingLastLeavesTheAliasOnTheNewestOnMoto() async throws {
        let function = uniqueName("order")
        let lambda = try await Self.moto(function)
        let repository = try Repository(function: function, lambda: lambda)
        let commits = try repository.history(4)
        let clones = try (1...4).map { try repository.fullClone(at: $0) }
        let finished = try Self.runAll(Self.newestFirst(clones, commits, spacing: 2), repository: repository)
        try Self.expectNewestWins(finished, newest: commits[3], lambda: lambda, repository: repository)
        // The trail reads right: superseded records are not drift, and history names them.
        let env = repository.env.merging(["LAMBDA_DEPLOY_CACHE_DIR": clones[0] + "-cache"]) { $1 }
        let fetched = try run(toolPath, ["notes", "fetch"], cwd: clones[0], env: env)
        #expect(fetched.status == 0, "\(fetched.output)")
        let verified = try run(toolPath, ["verify"], cwd: clones[0], env: env)
        #expect(verified.status == 0, "superseded is not drift: \(verified.output)")
        let history = try run(toolPath, ["history", "--alias", "dev"], cwd: clones[0], env: env)
        #expect(history.stdout.split(separator: "\n").filter { $0.contains("superseded") }.count == 3, "\(history.stdout)")
    }

    @Test func anOlderCommitFinishingLastLeavesTheAliasOnTheNewestAgainstTheEmulation() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 2))
        let function = uniqueName("order")
        let lambda = try Self.emulated(emulator, function)
        let repository = try Repository(function: function, lambda: lambda)
        let commits = try repository.history(4)
        let clones = try (1...4).map { try repository.fullClone(at: $0) }
        let finished = try Self.runAll(Self.newestFirst(clones, commits, spacing: 1), repository: repository)
        try Self.expectNewestWins(finished, newest: commits[3], lambda: lambda, repository: repository)
        // The older jobs find the newer one's update in progress, wait, and see it take the alias:
        // they upload nothing (a machine too busy for the newer job to move the alias within
        // their grace may let one upload, which is then never published over it).
        #expect(try await emulator.stats().uploadsApplied <= 2)
    }

    /// Travis variables of push build `number` of main at `commit`.
    static func travis(_ number: Int, commit: String) -> [String: String] {
        [
            "CI": "true", "TRAVIS": "true", "TRAVIS_BRANCH": "main", "TRAVIS_PULL_REQUEST": "false", "TRAVIS_EVENT_TYPE": "push",
            "TRAVIS_BUILD_NUMBER": String(number), "TRAVIS_JOB_NUMBER": "\(number).1", "TRAVIS_COMMIT": commit, "TRAVIS_REPO_SLUG": "team/races",
        ]
    }

    @Test func inDepthOneClonesTheBuildNumbersDecideOnMoto() async throws {
        let function = uniqueName("shallow")
        let lambda = try await Self.moto(function)
        let repository = try Repository(function: function, lambda: lambda)
        let commits = try repository.history(4)
        let clones = try (1...4).map { try repository.shallowClone(at: $0) }
        let jobs = Self.newestFirst(clones, commits, spacing: 2) { Self.travis($0 + 1, commit: commits[$0]) }
        let finished = try Self.runAll(jobs, repository: repository)
        try Self.expectNewestWins(finished, newest: commits[3], lambda: lambda, repository: repository)
        for job in finished where job.job.commit != commits[3] {
            #expect(job.result.stderr.contains("travis build 4"), "decided by build numbers: \(job.result.stderr)")
        }
    }

    @Test func inDepthOneClonesTheBuildNumbersDecideAgainstTheEmulation() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 2))
        let function = uniqueName("shallow")
        let lambda = try Self.emulated(emulator, function)
        let repository = try Repository(function: function, lambda: lambda)
        let commits = try repository.history(4)
        let clones = try (1...4).map { try repository.shallowClone(at: $0) }
        let jobs = Self.newestFirst(clones, commits, spacing: 1) { Self.travis($0 + 1, commit: commits[$0]) }
        let finished = try Self.runAll(jobs, repository: repository)
        try Self.expectNewestWins(finished, newest: commits[3], lambda: lambda, repository: repository)
    }

    @Test func allowOlderMovesTheAliasBackAndSaysSo() async throws {
        let function = uniqueName("older")
        let lambda = try await Self.moto(function)
        let repository = try Repository(function: function, lambda: lambda)
        let commits = try repository.history(2)
        let newer = try Self.runAll([Job(clone: try repository.fullClone(at: 2), commit: commits[1])], repository: repository)
        #expect(newer.first?.outcome == "deployed")
        let older = try repository.fullClone(at: 1)
        let refused = try Self.runAll([Job(clone: older, commit: commits[0])], repository: repository)
        #expect(refused.first?.outcome == "superseded")
        #expect(refused.first?.result.status == 0)
        let forced = try Self.runAll([Job(clone: older, commit: commits[0])], repository: repository, arguments: ["--allow-older"])
        #expect(forced.first?.outcome == "deployed", "\(forced.first?.result.output ?? "")")
        let truth = try Self.truth(lambda, function: function)
        #expect(truth.alias == forced.first?.version)
        let records = try repository.remoteRecords(commits[0])
        #expect(records.contains { $0["result"] as? String == "superseded" && $0["supersededByCommit"] as? String == commits[1] })
        #expect(records.contains { $0["result"] as? String == "deployed" && $0["allowOlder"] as? Bool == true }, "\(records)")
    }
}
