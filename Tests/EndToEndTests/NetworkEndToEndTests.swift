import Foundation
import Testing

/// One of the Python helpers in ci/support that print "ready PORT" (tls_proxy.py,
/// connect_proxy.py), for one test. It exits with the test process (it watches its parent) or
/// when this value goes away.
final class LoopbackHelper: @unchecked Sendable {
    let port: Int
    private let process: Process

    init(_ script: String, _ arguments: [String]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", packageRoot + "/ci/support/" + script] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard let line = out.fileHandleForReading.availableDataLine(timeout: 20), line.hasPrefix("ready "),
            let port = Int(line.dropFirst("ready ".count))
        else { throw RunError(message: "\(script) did not start") }
        self.port = port
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}

/// A private CA and a certificate for 127.0.0.1 it signed, made with the openssl CLI.
struct TestCertificates {
    let directory: TemporaryDirectory
    var caFile: String { directory.path + "/ca.pem" }
    var certificate: String { directory.path + "/server.pem" }
    var key: String { directory.path + "/server.key" }

    init() throws {
        directory = try TemporaryDirectory("certs")
        let script = """
            set -e
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 \
                -subj "/CN=lambda-deploy test CA" 2>/dev/null
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr \
                -subj "/CN=127.0.0.1" 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' > server.ext
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext 2>/dev/null
            """
        let made = try run("sh", ["-c", script], cwd: directory.path, env: ProcessInfo.processInfo.environment)
        guard made.status == 0 else { throw RunError(message: "openssl failed: \(made.output)") }
    }
}

/// HTTPS endpoints behind a private CA (a TLS-inspecting gateway), and HTTPS_PROXY / NO_PROXY
/// with a CONNECT proxy, all on loopback in front of moto.
@Suite(.serialized) struct NetworkEndToEndTests {
    @Test func aPrivateCAIsRefusedWithoutAWSCABundleAndTrustedWithIt() async throws {
        let fixture = try await FaultFixture()
        let certificates = try TestCertificates()
        let tls = try LoopbackHelper("tls_proxy.py", [fixture.moto, "--cert", certificates.certificate, "--key", certificates.key])
        let endpoint = "https://127.0.0.1:\(tls.port)"

        let started = Date()
        let refused = try fixture.tool(["deploy", "--alias", "dev"], extraEnv: ["AWS_ENDPOINT_URL": endpoint], timeout: 60)
        #expect(Date().timeIntervalSince(started) < 20, "a TLS failure is not retried until the budget runs out")
        #expect(refused.status != 0 && refused.status < 128, "\(refused.output)")
        let errors = refused.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1, "\(refused.stderr)")
        #expect(errors.first?.contains("127.0.0.1") == true && errors.first?.contains("AWS_CA_BUNDLE") == true, "\(refused.stderr)")
        #expect(try fixture.state().aliasVersion == nil, "nothing changed in AWS")
        #expect(try fixture.records().isEmpty)

        let trusted = try fixture.tool(
            ["deploy", "--alias", "dev", "--json"], extraEnv: ["AWS_ENDPOINT_URL": endpoint, "AWS_CA_BUNDLE": certificates.caFile], timeout: 60)
        #expect(trusted.status == 0, "\(trusted.output)")
        let json = try trusted.json()
        let state = try fixture.state()
        #expect(state.aliasVersion == json["version"] as? String)
        #expect(state.aliasCode == json["codeSha256"] as? String)
    }

    @Test func httpsProxyTunnelsThroughConnectAndNoProxyGoesDirect() async throws {
        let fixture = try await FaultFixture()
        let certificates = try TestCertificates()
        let tls = try LoopbackHelper("tls_proxy.py", [fixture.moto, "--cert", certificates.certificate, "--key", certificates.key])
        let log = fixture.home.path + "/connect.jsonl"
        let proxy = try LoopbackHelper("connect_proxy.py", ["--log", log])
        let password = "proxy-pass-never-printed"
        let environment = [
            "AWS_ENDPOINT_URL": "https://127.0.0.1:\(tls.port)", "AWS_CA_BUNDLE": certificates.caFile,
            "HTTPS_PROXY": "http://deployer:\(password)@127.0.0.1:\(proxy.port)",
        ]
        func tunnels() -> [String] {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["connect"] as? String
            }
        }

        let proxied = try fixture.tool(["deploy", "--alias", "dev", "--json", "--verbose"], extraEnv: environment, timeout: 60)
        #expect(proxied.status == 0, "\(proxied.output)")
        #expect(!tunnels().isEmpty && tunnels().allSatisfy { $0 == "127.0.0.1:\(tls.port)" }, "\(tunnels())")
        #expect(proxied.stderr.contains("https endpoints through proxy http://***@127.0.0.1:\(proxy.port) (from HTTPS_PROXY)"), "\(proxied.stderr)")
        #expect(proxied.stderr.contains("CA bundle \(certificates.caFile) (from AWS_CA_BUNDLE)"))
        #expect(!proxied.output.contains(password), "the proxy password is never printed")
        let first = try proxied.json()
        #expect(try fixture.state().aliasCode == first["codeSha256"] as? String)

        let seen = tunnels().count
        try fixture.setCode("v2")
        try fixture.commit("second")
        let direct = try fixture.tool(
            ["deploy", "--alias", "dev", "--json"], extraEnv: environment.merging(["NO_PROXY": "127.0.0.1"]) { $1 }, timeout: 60)
        #expect(direct.status == 0, "\(direct.output)")
        #expect(tunnels().count == seen, "NO_PROXY=127.0.0.1 reaches the endpoint directly")
        let second = try direct.json()
        #expect(second["result"] as? String == "deployed")
        #expect(try fixture.state().aliasCode == second["codeSha256"] as? String)
    }

    /// libcurl would read ALL_PROXY (and http_proxy) from the environment on its own; the
    /// transport always tells it which proxy to use, so only the documented variables count.
    @Test func libcurlNeverReadsTheEnvironmentBehindTheToolsBack() async throws {
        let fixture = try await FaultFixture()
        let result = try fixture.tool(
            ["deploy", "--alias", "dev", "--json"], extraEnv: ["ALL_PROXY": "http://127.0.0.1:9", "all_proxy": "http://127.0.0.1:9"], timeout: 60)
        #expect(result.status == 0, "\(result.output)")
        #expect(try fixture.state().aliasCode == result.json()["codeSha256"] as? String)
    }
}
