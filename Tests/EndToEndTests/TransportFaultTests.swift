import Foundation
import Testing

/// A reset (the request never arrives) and a lost answer (it arrives, moto acts, the answer
/// never comes back) on every write a deploy makes, through the fault proxy in front of moto.
/// Each deploy must succeed, with dev running exactly the packaged code, within 30 s — and a
/// write whose answer was lost but which landed is not sent again (it is read back).
@Suite(.serialized) struct TransportFaultTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var write: String
        var method: String
        /// Regex for the write's path (the S3 one gets the bucket filled in).
        var path: String
        /// "reset": the request never reaches moto; "cut": the upload is broken off midway;
        /// "drop": moto acts, the answer is lost.
        var action: String
        /// UpdateAlias needs an alias to update: deploy once before the faulty deploy.
        var existingAlias = false
        var viaS3 = false

        var testDescription: String { "\(action) on \(write)" }
    }

    static let writes: [Case] =
        ["reset", "drop"].flatMap { action in
            [
                Case(write: "UpdateFunctionCode", method: "PUT", path: "/code$", action: action),
                Case(write: "UpdateFunctionCode from S3", method: "PUT", path: "/code$", action: action, viaS3: true),
                Case(write: "S3 PutObject", method: "PUT", path: "^/BUCKET/.+\\.zip$", action: action, viaS3: true),
                Case(write: "PublishVersion", method: "POST", path: "/versions$", action: action),
                Case(write: "CreateAlias", method: "POST", path: "/aliases$", action: action),
                Case(write: "UpdateAlias", method: "PUT", path: "/aliases/dev$", action: action, existingAlias: true),
            ]
        } + [
            Case(write: "UpdateFunctionCode", method: "PUT", path: "/code$", action: "cut"),
            Case(write: "S3 PutObject", method: "PUT", path: "^/BUCKET/.+\\.zip$", action: "cut", viaS3: true),
        ]

    @Test(arguments: writes) func aFaultOnEveryWriteStillDeploysExactlyThePackagedCode(_ fault: Case) async throws {
        let fixture = try await FaultFixture()
        var arguments = ["deploy", "--alias", "dev", "--json"]
        var path = fault.path
        if fault.viaS3 {
            // 52 MiB of incompressible bytes: over Lambda's direct-upload cap, so the package goes through S3.
            let blob = fixture.work.path + "/src/blob.bin"
            try run("sh", ["-c", "head -c 54525952 /dev/urandom > \"$0\"", blob], cwd: fixture.work.path, env: fixture.env)
            try fixture.commit("large")
            let bucket = uniqueName("packages")
            let made = try run(
                "python3", [packageRoot + "/ci/support/moto_local.py", "create-bucket", fixture.moto, bucket], cwd: packageRoot,
                env: ProcessInfo.processInfo.environment)
            #expect(made.status == 0, "\(made.output)")
            arguments += ["--s3-bucket", bucket]
            path = path.replacingOccurrences(of: "BUCKET", with: bucket)
        }
        if fault.existingAlias {
            let first = try fixture.tool(arguments)
            #expect(first.status == 0, "\(first.output)")
            try fixture.setCode("v2")
            try fixture.commit("second")
        }
        let code = try fixture.packagedCodeSha256()
        let rule = FaultRule(method: fault.method, path: path, action: fault.action, times: 1)
        let proxy = try FaultProxy(upstream: fixture.moto, rules: [rule])

        let started = Date()
        let result = try fixture.tool(arguments, through: proxy, timeout: 60)
        let took = Date().timeIntervalSince(started)

        #expect(result.status == 0, "\(result.output)")
        #expect(took < 30, "deployed in \(took) s")
        let json = try result.json()
        #expect(json["result"] as? String == "deployed")
        #expect(json["codeSha256"] as? String == code)
        let state = try fixture.state()
        #expect(state.aliasVersion == json["version"] as? String)
        #expect(state.aliasCode == code, "dev runs exactly the packaged code")
        let log = try proxy.log()
        #expect(try proxy.count(fault.action, method: fault.method) == 1, "the fault was injected once: \(log.map { "\($0.method) \($0.path) \($0.action)" })")
        let sends = log.filter { $0.method == fault.method && $0.path.range(of: path, options: .regularExpression) != nil }
        if fault.action == "drop" {
            // moto applied the write and only its answer was lost: reading back settles it, nothing is resent.
            #expect(sends.count == 1, "a write that landed is not sent again: \(sends.map(\.action))")
        } else {
            #expect(sends.count == 2, "a write that never arrived is sent again: \(sends.map(\.action))")
        }
        let head = try fixture.records().filter { $0.codeSha256 == code }
        #expect(head.map(\.result) == ["deployed"], "\(head)")
        #expect(head.first?.version == json["version"] as? String)
        try fixture.expectRecordsHoldTheirCode()
    }

    /// A slowloris endpoint (moto's answer, one byte every 2 s) holds no call past its own
    /// bounds: each attempt ends at LAMBDA_DEPLOY_HTTP_TIMEOUT, the call at its budget.
    @Test func aTricklingAnswerEndsWithinTheBudget() async throws {
        let fixture = try await FaultFixture()
        let proxy = try FaultProxy(upstream: fixture.moto, rules: [FaultRule(method: "GET", path: "/configuration$", action: "trickle")])
        let started = Date()
        let result = try fixture.tool(
            ["deploy", "--alias", "dev"], through: proxy,
            extraEnv: ["LAMBDA_DEPLOY_HTTP_TIMEOUT": "3", "LAMBDA_DEPLOY_RETRY_BUDGET": "8", "LAMBDA_DEPLOY_STALL_TIMEOUT": "10"], timeout: 90)
        let took = Date().timeIntervalSince(started)
        expectCleanFailure(result)
        #expect(took < 8 + 10, "within the budget plus one stall bound: \(took) s")
        #expect(result.stderr.contains("LAMBDA_DEPLOY_HTTP_TIMEOUT"), "\(result.stderr)")
        #expect(try fixture.records().isEmpty, "nothing changed in AWS, nothing recorded")
    }
}
