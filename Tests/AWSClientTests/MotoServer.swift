import Foundation
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
@testable import AWSClient

/// moto's standalone server on loopback for one test: started on a free port, probed on
/// `/moto-api/` until ready, and always stopped (by the PID we started) when the body ends.
///
/// With `authentication`, moto checks every SigV4 signature (its IAM access control, see
/// shared/tools/moto-auth.sh): the first three calls are free and create the IAM user
/// `deployer` with an allow-all policy and an access key, returned in `credentials`.
/// moto's canonical-URI quirk: with authentication on, use plain function names and
/// alias/version qualifiers (no ARNs, no `$LATEST`).
final class MotoServer: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let port: Int
    let endpoint: URL
    /// The IAM user's key when started with authentication; fixed test keys otherwise.
    private(set) var credentials = AWSCredentials(accessKeyId: "testing", secretAccessKey: "testing", source: "moto test keys")
    private let process: Process
    private let directory: URL

    static let accountId = "123456789012"
    static let region = "us-east-1"

    private init(authentication: Bool) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("moto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = try Self.freePort()
        guard let url = URL(string: "http://127.0.0.1:\(port)") else { throw Failure(description: "bad port \(port)") }
        endpoint = url
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let python = ProcessInfo.processInfo.environment["PYTHON"] ?? "python3"
        process.arguments = [python, "-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)]
        var environment = ProcessInfo.processInfo.environment
        // Counted free calls before every request must be signed by a known key ("inf": never).
        environment["INITIAL_NO_AUTH_ACTION_COUNT"] = authentication ? "3" : "inf"
        process.environment = environment
        let log = directory.appendingPathComponent("moto.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Runs `body` with a fresh server and stops the server afterwards, whatever happens.
    static func with<T>(authentication: Bool = false, _ body: (MotoServer) async throws -> T) async throws -> T {
        let server = try MotoServer(authentication: authentication)
        do {
            try await server.waitUntilReady()
            if authentication { try await server.createDeployer() }
            try await server.createLambdaRole()
            let result = try await body(server)
            server.stop()
            return result
        } catch {
            server.stop()
            throw error
        }
    }

    var log: String { (try? String(contentsOf: directory.appendingPathComponent("moto.log"), encoding: .utf8)) ?? "" }

    private func waitUntilReady() async throws {
        let transport = CurlTransport()
        guard let probe = URL(string: "/moto-api/", relativeTo: endpoint)?.absoluteURL else { throw Failure(description: "bad probe URL") }
        for _ in 0..<300 {
            guard process.isRunning else { throw Failure(description: "moto_server exited (status \(process.terminationStatus)):\n\(log)") }
            if let response = try? await transport.send(HTTPRequest(method: "GET", url: probe, limits: TransferLimits(connect: .seconds(1), stall: .seconds(1), answer: .seconds(1)))), response.status == 200 {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure(description: "moto_server did not become ready on port \(port) within 30 s:\n\(log)")
    }

    /// One signed IAM Query call (form-encoded POST, XML answer).
    private func iam(_ action: String, _ parameters: [(String, String)], credentials: AWSCredentials? = nil) async throws -> String {
        let core = ClientCore(configuration(credentials: credentials))
        let operation = AWSOperation(
            service: .iam, name: action, method: "POST", path: "/",
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: ClientCore.form([("Action", action), ("Version", "2010-05-08")] + parameters), safety: .notIdempotent)
        return String(decoding: try await core.send(operation).body, as: UTF8.self)
    }

    /// The execution role `arn:aws:iam::123456789012:role/lambda-exec` moto requires for CreateFunction.
    private func createLambdaRole() async throws {
        let trust = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#
        _ = try await iam("CreateRole", [("RoleName", "lambda-exec"), ("AssumeRolePolicyDocument", trust)])
    }

    /// The three free IAM calls: user, allow-all inline policy, access key.
    private func createDeployer() async throws {
        let bootstrap = AWSCredentials(accessKeyId: "bootstrap", secretAccessKey: "bootstrap", source: "bootstrap")
        func iam(_ action: String, _ parameters: [(String, String)]) async throws -> String {
            try await self.iam(action, parameters, credentials: bootstrap)
        }
        _ = try await iam("CreateUser", [("UserName", "deployer")])
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        _ = try await iam("PutUserPolicy", [("UserName", "deployer"), ("PolicyName", "allow-all"), ("PolicyDocument", policy)])
        let key = try await iam("CreateAccessKey", [("UserName", "deployer")])
        guard let id = XMLText.first("AccessKeyId", in: key), let secret = XMLText.first("SecretAccessKey", in: key) else {
            throw Failure(description: "CreateAccessKey answered without a key: \(key)")
        }
        credentials = AWSCredentials(accessKeyId: id, secretAccessKey: secret, source: "moto IAM user deployer")
    }

    /// A configuration pointing every service at this server.
    func configuration(credentials: AWSCredentials? = nil, logger: AWSLogger? = nil) -> AWSConfiguration {
        AWSConfiguration(
            credentials: credentials ?? self.credentials, region: Self.region,
            endpoints: AWSEndpoints(region: Self.region, overrides: Dictionary(uniqueKeysWithValues: AWSService.allCases.map { ($0, endpoint) })),
            retryPolicy: RetryPolicy(maxAttempts: 3, requestTimeout: .seconds(20), budget: .seconds(20)), logger: logger)
    }

    /// SIGTERM, then SIGKILL after 5 s, only to the process we started; removes the temp directory.
    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// A port the kernel just handed out on loopback (closed again before moto binds it).
    static func freePort() throws -> Int {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw Failure(description: "bind() failed") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw Failure(description: "getsockname() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A Lambda zip made by Python's zipfile (an independent zip writer): `app.py` with `body` in its handler.
    static func zip(_ body: String) throws -> Data {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("fn.zip")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], 'w')\nz.writestr('app.py', 'def handler(event, context):\\n    return ' + repr(sys.argv[2]) + '\\n')\nz.close()\n"
        process.arguments = [ProcessInfo.processInfo.environment["PYTHON"] ?? "python3", "-c", script, output.path, body]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure(description: "python zipfile failed") }
        return try Data(contentsOf: output)
    }
}
