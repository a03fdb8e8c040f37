import Foundation
import Testing

/// A server that misbehaves on purpose (ci/support/hostile_server.py): it echoes the request
/// back, credentials and all, or redirects to another host. Issue 11: no secret is printed,
/// logged or recorded, and no credential ever goes to another host.
final class HostileServer: @unchecked Sendable {
    let endpoint: String
    let otherEndpoint: String?
    private let process: Process
    private let output: Pipe

    init(_ arguments: [String]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", packageRoot + "/ci/support/hostile_server.py"] + arguments
        output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let words = output.fileHandleForReading.availableDataLine(timeout: 20)?.split(separator: " ") ?? []
        guard words.first == "ready", words.count >= 2, let port = Int(words[1]) else { throw RunError(message: "the hostile server did not start") }
        endpoint = "http://127.0.0.1:\(port)"
        otherEndpoint = words.count > 2 ? "http://127.0.0.1:\(words[2])" : nil
    }

    deinit { if process.isRunning { process.terminate() } }

    /// What reached the redirect target (lines written so far).
    func seenByTarget() -> String {
        var text = ""
        while let line = output.fileHandleForReading.availableDataLine(timeout: 0.5) { text += line + "\n" }
        return text
    }
}

@Suite struct HostileServerTests {
    let secret = "HoStIlEsEcReT" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
    let token = "HoStIlEtOkEn" + UUID().uuidString.replacingOccurrences(of: "-", with: "")

    func fixture(endpoint: String) async throws -> FaultFixture {
        var fixture = try await FaultFixture()
        fixture.env["AWS_SECRET_ACCESS_KEY"] = secret
        fixture.env["AWS_SESSION_TOKEN"] = token
        fixture.env["AWS_ENDPOINT_URL"] = endpoint
        fixture.env["LAMBDA_DEPLOY_MAX_ATTEMPTS"] = "2"
        return fixture
    }

    @Test(arguments: [["deploy", "--alias", "dev", "--verbose"], ["deploy", "--alias", "dev", "--verbose", "--json"], ["doctor", "--json"], ["show", "--live", "--verbose"]])
    func anEchoingServerNeverGetsASecretPrintedOrRecorded(_ arguments: [String]) async throws {
        let server = try HostileServer(["echo"])
        let fixture = try await fixture(endpoint: server.endpoint)
        let result = try run(toolPath, arguments, cwd: fixture.work.path, env: fixture.env)
        #expect(result.status != 0)
        #expect(result.status < 128)
        let notes = (try? git(["log", "--notes=deploys", "--format=%N"], cwd: fixture.work.path, env: fixture.env)) ?? ""
        for text in [result.stdout, result.stderr, notes] {
            for needle in [secret, token, String(secret.prefix(16)), String(token.prefix(16))] {
                #expect(!text.contains(needle), "leaks a secret: \(text)")
            }
            #expect(text.range(of: #"Signature=[0-9a-f]{64}"#, options: .regularExpression) == nil, "shows a signature: \(text)")
            #expect(text.range(of: #"<SignatureProvided>[0-9a-f]{64}"#, options: .regularExpression) == nil, "shows a signature: \(text)")
            #expect(!text.lowercased().contains("aws4-hmac-sha256 credential="), "shows the Authorization header: \(text)")
        }
        #expect(result.stderr.split(separator: "\n").last?.hasPrefix("error: ") == true || arguments.first == "doctor", "\(result.stderr)")
    }

    @Test(arguments: [301, 302, 307])
    func aRedirectIsNeverFollowedWithCredentials(_ status: Int) async throws {
        let server = try HostileServer(["redirect", String(status)])
        let fixture = try await fixture(endpoint: server.endpoint)
        let result = try run(toolPath, ["deploy", "--alias", "dev"], cwd: fixture.work.path, env: fixture.env)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("redirect"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }.count == 1)
        let seen = server.seenByTarget()
        #expect(seen.isEmpty, "the redirect target received: \(seen)")
    }

    @Test func anEndpointWithAPasswordIsMaskedInVerboseOutput() async throws {
        let fixture = try await FaultFixture()
        var env = fixture.env
        let moto = fixture.moto
        env["AWS_ENDPOINT_URL"] = moto.replacingOccurrences(of: "http://", with: "http://deployer:pa55w0rdSecret@")
        let result = try run(toolPath, ["deploy", "--alias", "dev", "--verbose"], cwd: fixture.work.path, env: env)
        #expect(!result.output.contains("pa55w0rdSecret"), "\(result.output)")
    }
}
