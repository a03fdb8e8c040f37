import Foundation
import Testing

/// Many functions in one command (issue 16): each decides with its own settings, the changed ones
/// deploy at once, a failure of one leaves the others deployed, one notes push for the run.
@Suite(.serialized) struct FleetTests {
    /// A workspace whose config lists `names` (each with its own directory `f-NAME` and function
    /// in moto); `extra[name]` adds lines to that entry.
    static func workspace(_ count: Int, extra: [Int: String] = [:]) async throws -> (GitWorkspace, [String]) {
        let space = try await GitWorkspace(createFunctionInMoto: false)
        var names: [String] = []
        var config = "region: us-east-1\nfunctions:\n"
        for index in 0..<count {
            let name = uniqueName("fn\(index)")
            names.append(name)
            try createFunction(name, endpoint: space.endpoint)
            try space.write("f\(index)/app.py", GitWorkspace.handler("f\(index)"))
            config += "  - name: \(name)\n    directory: f\(index)\n" + (extra[index] ?? "")
        }
        try space.write("lambda-deploy.yml", config)
        try space.git(["add", "-A"])
        try space.git(["commit", "-q", "-m", "functions"])
        try space.git(["push", "-q", "origin", "main"])
        // Count every update of the remote's notes ref.
        try space.git(["config", "core.logAllRefUpdates", "always"], cwd: space.remote)
        return (space, names)
    }

    func notesPushes(_ space: GitWorkspace) throws -> Int {
        let result = try space.gitResult(["reflog", "show", "--format=%H", "refs/notes/deploys"], cwd: space.remote)
        return result.status == 0 ? result.stdout.split(separator: "\n").count : 0
    }

    @Test func ciDecidesEachFunctionDeploysTheChangedOnesAndPushesOnce() async throws {
        let (space, names) = try await Self.workspace(3, extra: [1: "    branches: {release: prod}\n"])
        let commit = try space.head()
        // The third function already runs this code in prod.
        let warm = try space.tool(["ci", "--function", names[2]], extraEnv: space.travis(commit: commit))
        #expect(warm.status == 0, "\(warm.output)")
        let pushesBefore = try notesPushes(space)

        let result = try space.tool(["--json"], extraEnv: space.travis(commit: commit))
        #expect(result.status == 0, "\(result.output)")
        let runs = try result.jsonArray()
        #expect(runs.map { $0["function"] as? String } == names)
        #expect(runs.map { $0["result"] as? String } == ["deployed", "skipped", "unchanged"])
        #expect((runs[1]["reason"] as? String)?.contains("maps to no alias") == true, "\(runs[1])")
        #expect(try notesPushes(space) == pushesBefore + 1)
        #expect(try space.noteRecords(commit).filter { $0["function"] as? String == names[0] }.count == 1)

        let human = try space.tool([], extraEnv: space.travis(commit: commit))
        #expect(human.status == 0)
        #expect(human.stdout.contains("3 functions: 2 unchanged, 1 skipped, 0 failed"), "\(human.stdout)")
    }

    /// The run's rate budget covers every control-plane call Lambda counts, reads included
    /// (GetFunctionConfiguration and GetAlias count against the 15/s quota; only GetFunction and
    /// Invoke do not): paced under a Lambda that enforces its limit, the run is never throttled.
    @Test func aRunPacedUnderLambdasLimitIsNeverThrottled() async throws {
        // Updates take a second, as on AWS: the waiters' polls count too.
        let emulator = try LambdaEmulator(.init(updateSeconds: 1, rateLimit: .init(perSecond: 5, burst: 5)))
        let space = try await GitWorkspace(createFunctionInMoto: false)
        var config = "region: us-east-1\nrateLimit: {requestsPerSecond: 4, burst: 4}\nfunctions:\n"
        var names: [String] = []
        for index in 0..<4 {
            let name = uniqueName("paced\(index)")
            names.append(name)
            try emulator.createFunction(name)
            try space.write("f\(index)/app.py", GitWorkspace.handler("f\(index)"))
            config += "  - name: \(name)\n    directory: f\(index)\n"
        }
        try space.write("lambda-deploy.yml", config)
        try space.git(["add", "-A"])
        try space.git(["commit", "-q", "-m", "functions"])
        try await emulator.resetStats()

        let result = try space.tool(["deploy", "--alias", "dev", "--all", "--json"], extraEnv: emulator.environment)
        #expect(result.status == 0, "\(result.output)")
        #expect(try result.jsonArray().map { $0["result"] as? String } == Array(repeating: "deployed", count: 4))
        let stats = try await emulator.stats()
        #expect(stats.throttles == 0, "calls above Lambda's rate: \(stats.operations)")
    }

    @Test func oneFailingFunctionDoesNotStopTheOthersAndTheExitSaysSo() async throws {
        let (space, names) = try await Self.workspace(3)
        let proxy = try FaultProxy(upstream: space.endpoint, rules: [.status(500, method: "POST", path: "/functions/\(names[0])/versions$")])
        let result = try space.tool(
            ["deploy", "--alias", "dev", "--all", "--json"],
            extraEnv: ["AWS_ENDPOINT_URL": proxy.endpoint, "LAMBDA_DEPLOY_MAX_ATTEMPTS": "2"])
        #expect(result.status == 1, "\(result.output)")
        let runs = try result.jsonArray()
        #expect(runs.map { $0["result"] as? String } == ["failed", "deployed", "deployed"])
        #expect(try motoQuery(["get-alias", names[0], "dev"], endpoint: space.endpoint) == nil)
        #expect(try motoQuery(["get-alias", names[1], "dev"], endpoint: space.endpoint) != nil)
        let records = try space.noteRecords(try space.head())
        #expect(records.first { $0["function"] as? String == names[0] }?["result"] as? String == "failed")
        #expect(result.stderr.contains("1 function failed"), "\(result.stderr)")
    }

    @Test func theHookDeploysEveryFunctionWithOneRecordEach() async throws {
        let (space, names) = try await Self.workspace(3)
        #expect(try space.tool(["hook", "install"]).status == 0)
        let commit = try space.commitChange("v2")
        let push = try space.gitResult(["push", "origin", "main"])
        #expect(push.status == 0, "\(push.output)")
        #expect(push.stderr.contains("3 functions: 3 deployed"), "\(push.stderr)")
        for name in names { #expect(try motoQuery(["get-alias", name, "dev"], endpoint: space.endpoint) != nil) }
        #expect(try space.noteRecords(commit).map { $0["trigger"] as? String } == ["hook", "hook", "hook"])
    }

    @Test func planShowsOneDecisionPerFunction() async throws {
        let (space, names) = try await Self.workspace(2, extra: [1: "    branches: {release: prod}\n"])
        let result = try space.tool(["plan", "--json"], extraEnv: space.travis(commit: try space.head()))
        #expect(result.status == 0, "\(result.output)")
        let decisions = try result.jsonArray()
        #expect(decisions.map { $0["function"] as? String } == names)
        #expect(decisions.map { $0["action"] as? String } == ["deploy", "skip"])
    }
}
