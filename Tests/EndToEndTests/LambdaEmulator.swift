import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// moto plus the strict Lambda emulation (ci/support/lambda_emulator.py), one process per value:
/// an update stays InProgress for `updateSeconds` and answers 409 meanwhile, RevisionId and
/// CodeSha256 preconditions hold, version numbers are never reused, lists page 50 at a time,
/// invokes answer from a queue, and an optional rate limit answers 429. Point the tool at
/// `endpoint`; create fixtures and read the ground truth at `motoEndpoint` (the same store).
/// The process exits with the test process (it watches its parent) or when this value goes away.
final class LambdaEmulator: @unchecked Sendable {
    /// A token bucket per account and region over Lambda's control-plane calls (Invoke exempt,
    /// GetFunction on its own bucket), as Lambda's quotas: 15/s for most calls, 100/s GetFunction.
    struct RateLimit: Codable, Sendable, Equatable {
        var perSecond: Double
        var burst: Double
        var getFunctionPerSecond: Double = 100
    }

    struct Options: Sendable {
        /// How long `$LATEST` stays InProgress after an update (0: no window).
        var updateSeconds: Double = 2
        /// nil: no rate limit.
        var rateLimit: RateLimit? = nil
        /// AccountLimit.TotalCodeSize in bytes (nil: Lambda's 75 GB).
        var codeStorageLimit: Int? = nil
        /// moto checks SigV4 signatures after its first three (IAM set-up) calls: make a user with
        /// `moto_local.py auth-user` against `motoEndpoint`, then sign with its key.
        var authChecks = false
    }

    /// What the emulator counted since it started (or since `resetStats()`).
    struct Stats: Decodable, Sendable {
        struct Operation: Decodable, Sendable {
            var requests: Int
            /// HTTP status ("200", "409", …) to how many answers had it.
            var statuses: [String: Int]
        }
        struct Invocation: Decodable, Sendable {
            var function: String
            /// As asked: "$LATEST", a version or an alias.
            var qualifier: String
            /// The version that answered (an alias resolves to its primary version).
            var executedVersion: String
            var invocationType: String
            /// The request payload, first 4 KB.
            var payload: String
        }
        var requests: Int
        /// Operation name ("UpdateFunctionCode", …; "OtherLambda" for Lambda calls the emulator
        /// does not model, "Other" for other services) to counts.
        var operations: [String: Operation]
        /// 409 answers (update in progress, aliased version deleted, statement id taken).
        var conflicts: Int
        /// 412 answers (stale RevisionId).
        var preconditionFailures: Int
        /// 429 answers.
        var throttles: Int
        /// UpdateFunctionCode requests, whatever their answer; `uploadsApplied`: those that succeeded.
        var uploads: Int
        var uploadsApplied: Int
        /// Versions actually created (a publish that returned an existing version is not one).
        var publishes: Int
        var invocations: [Invocation]

        func count(_ operation: String, status: Int? = nil) -> Int {
            guard let entry = operations[operation] else { return 0 }
            return status.map { entry.statuses[String($0)] ?? 0 } ?? entry.requests
        }
    }

    /// One canned answer for Invoke; the first queued answer whose `function` and `qualifier`
    /// (nil: any) match is used once. With none queued, Invoke answers `{"statusCode": 200}`.
    struct InvokeAnswer: Sendable {
        enum FunctionError: String, Sendable { case unhandled = "Unhandled", handled = "Handled" }
        /// The function's result as JSON text.
        var payload: String = #"{"statusCode": 200}"#
        var functionError: FunctionError? = nil
        var function: String? = nil
        /// A version number or alias name as the caller asks for it, or the version it resolves to.
        var qualifier: String? = nil
        /// Returned base64-encoded in X-Amz-Log-Result when the caller asks for LogType Tail.
        var log: String? = nil
    }

    let endpoint: String
    let motoEndpoint: String
    private let process: Process

    init(_ options: Options = Options()) throws {
        var arguments = ["python3", packageRoot + "/ci/support/lambda_emulator.py", "--update-seconds", String(options.updateSeconds)]
        if let rate = options.rateLimit {
            arguments += ["--rate", String(rate.perSecond), "--burst", String(rate.burst), "--get-function-rate", String(rate.getFunctionPerSecond)]
        }
        if let limit = options.codeStorageLimit { arguments += ["--code-storage-limit", String(limit)] }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        if options.authChecks { env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3" } else { env.removeValue(forKey: "INITIAL_NO_AUTH_ACTION_COUNT") }
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let words = out.fileHandleForReading.availableDataLine(timeout: 60)?.split(separator: " ") ?? []
        guard words.count == 3, words[0] == "ready", let port = Int(words[1]), let motoPort = Int(words[2]) else {
            if process.isRunning { process.terminate() }
            throw RunError(message: "the Lambda emulator did not start (is `pip install 'moto[server]'` done?)")
        }
        endpoint = "http://127.0.0.1:\(port)"
        motoEndpoint = "http://127.0.0.1:\(motoPort)"
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    /// The process id, for tests of its lifecycle.
    var processIdentifier: Int32 { process.processIdentifier }

    /// The variables that point the tool (or the aws CLI, boto3) at the emulator with test keys.
    var environment: [String: String] {
        ["AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"]
    }

    /// Creates a python3.12 function (and its role) with a starter zip, straight in moto.
    func createFunction(_ name: String) throws {
        try EndToEndTests.createFunction(name, endpoint: motoEndpoint)
    }

    // MARK: Control (POST /__emulator/...)

    /// Changes the window for updates from now on (windows already open keep their end).
    func setUpdateSeconds(_ seconds: Double) async throws {
        _ = try await control("POST", "/__emulator/config", ["updateSeconds": seconds])
    }

    /// nil turns the rate limit off; a new limit starts with full buckets.
    func setRateLimit(_ limit: RateLimit?) async throws {
        let value: Any = limit.map { ["perSecond": $0.perSecond, "burst": $0.burst, "getFunctionPerSecond": $0.getFunctionPerSecond] } ?? NSNull()
        _ = try await control("POST", "/__emulator/config", ["rateLimit": value])
    }

    func setCodeStorageLimit(_ bytes: Int) async throws {
        _ = try await control("POST", "/__emulator/config", ["codeStorageLimit": bytes])
    }

    /// Ends every open update window now (the next read says Successful, with a new RevisionId).
    func settle() async throws {
        _ = try await control("POST", "/__emulator/settle", [:])
    }

    func stats() async throws -> Stats {
        try JSONDecoder().decode(Stats.self, from: try await control("GET", "/__emulator/stats", nil))
    }

    func resetStats() async throws {
        _ = try await control("DELETE", "/__emulator/stats", nil)
    }

    func queueInvokeAnswers(_ answers: [InvokeAnswer]) async throws {
        var list: [[String: Any]] = []
        for answer in answers {
            guard (try? JSONSerialization.jsonObject(with: Data(answer.payload.utf8), options: .fragmentsAllowed)) != nil else {
                throw RunError(message: "an invoke answer's payload is not JSON: \(answer.payload)")
            }
            // Sent as text, so the function answers these exact bytes.
            var item: [String: Any] = ["payload": answer.payload]
            if let error = answer.functionError { item["functionError"] = error.rawValue }
            if let function = answer.function { item["function"] = function }
            if let qualifier = answer.qualifier { item["qualifier"] = qualifier }
            if let log = answer.log { item["log"] = log }
            list.append(item)
        }
        _ = try await control("POST", "/__emulator/invoke-answers", ["answers": list])
    }

    func clearInvokeAnswers() async throws {
        _ = try await control("DELETE", "/__emulator/invoke-answers", nil)
    }

    /// Gives a version or alias provisioned concurrency (0 removes it), as
    /// PutProvisionedConcurrencyConfig would; Get/ListProvisionedConcurrencyConfig(s) report it.
    func setProvisionedConcurrency(function: String, qualifier: String, executions: Int, region: String = "us-east-1") async throws {
        _ = try await control(
            "POST", "/__emulator/provisioned-concurrency", ["function": function, "qualifier": qualifier, "executions": executions, "region": region])
    }

    /// One control request; a non-2xx answer throws with the emulator's message.
    @discardableResult
    func control(_ method: String, _ path: String, _ body: [String: Any]?) async throws -> Data {
        guard let url = URL(string: endpoint + path) else { throw RunError(message: "bad control path \(path)") }
        var request = URLRequest(url: url, timeoutInterval: 30)
        request.httpMethod = method
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw RunError(message: "emulator \(method) \(path): HTTP \(status): \(String(decoding: data, as: UTF8.self))")
        }
        return data
    }
}
