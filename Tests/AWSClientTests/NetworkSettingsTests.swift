import Foundation
import Safety
import Testing
@testable import AWSClient

/// HTTPS_PROXY / HTTP_PROXY / NO_PROXY and AWS_CA_BUNDLE, as the AWS CLI reads them.
@Suite("Proxy and CA settings")
struct NetworkSettingsTests {
    @Test func lowerCaseWinsAndASchemeIsAddedWhenMissing() throws {
        let settings = try NetworkSettings.resolve(environment: [
            "HTTPS_PROXY": "http://upper.example:3128", "https_proxy": "lower.example:8080", "HTTP_PROXY": "http://plain.example:3128",
            "NO_PROXY": "127.0.0.1,.internal",
        ])
        #expect(settings.httpsProxy == .init(url: "http://lower.example:8080", source: "https_proxy"))
        #expect(settings.httpProxy == .init(url: "http://plain.example:3128", source: "HTTP_PROXY"))
        #expect(settings.noProxy == .init(value: "127.0.0.1,.internal", source: "NO_PROXY"))
        #expect(settings.caBundle == nil)
    }

    @Test func aProxyPasswordIsRegisteredAndNeverShown() throws {
        let password = "proxy-pass-\(UUID().uuidString.prefix(8))"
        let settings = try NetworkSettings.resolve(environment: ["HTTPS_PROXY": "http://deployer:\(password)@proxy.example:3128"])
        #expect(settings.httpsProxy?.display == "http://***@proxy.example:3128")
        #expect(settings.descriptions.allSatisfy { !$0.contains(password) })
        #expect(settings.descriptions.first == "https endpoints through proxy http://***@proxy.example:3128 (from HTTPS_PROXY)")
        #expect(Redactor.shared.redact("pass=\(password)") == "pass=\(Redactor.mask)")
    }

    @Test("a malformed proxy is refused naming the variable", arguments: [
        ("HTTPS_PROXY", "ftp://proxy.example"), ("https_proxy", "http://"), ("HTTP_PROXY", "http://proxy.example:3128/path?q=1"),
        ("HTTPS_PROXY", "http://user:topsecret@proxy example"),
    ])
    func malformedProxies(_ variable: String, _ value: String) {
        let error = #expect(throws: AWSError.self) { _ = try NetworkSettings.resolve(environment: [variable: value]) }
        let message = error?.errorDescription ?? ""
        #expect(message.hasPrefix(variable + "="), "\(message)")
        #expect(!message.contains("topsecret"))
    }

    @Test func aCABundleMustBeAReadableFile() throws {
        let error = #expect(throws: AWSError.self) { _ = try NetworkSettings.resolve(environment: ["AWS_CA_BUNDLE": "/nonexistent/ca.pem"]) }
        #expect(error?.errorDescription?.contains("AWS_CA_BUNDLE") == true)
        let directory = #expect(throws: AWSError.self) { _ = try NetworkSettings.resolve(environment: ["AWS_CA_BUNDLE": "/tmp"]) }
        #expect(directory?.errorDescription?.contains("PEM file") == true)
    }

    @Test func theVerboseLogSaysWhichProxyAndCAFileAreUsed() async throws {
        let bundle = FileManager.default.temporaryDirectory.appendingPathComponent("ca-\(UUID().uuidString).pem")
        try Data("-----BEGIN CERTIFICATE-----\n".utf8).write(to: bundle)
        defer { try? FileManager.default.removeItem(at: bundle) }
        let logs = LogSink()
        _ = try await AWSConfiguration.resolve(
            environment: [
                "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example-secret", "AWS_REGION": "us-east-1",
                "HTTPS_PROXY": "http://u:verbose-pass@proxy.example:3128", "NO_PROXY": "127.0.0.1", "AWS_CA_BUNDLE": bundle.path,
            ], logger: logs.logger)
        #expect(logs.lines.contains("network: https endpoints through proxy http://***@proxy.example:3128 (from HTTPS_PROXY)"))
        #expect(logs.lines.contains("network: reached directly: 127.0.0.1 (from NO_PROXY)"))
        #expect(logs.lines.contains("network: CA bundle \(bundle.path) (from AWS_CA_BUNDLE) trusted besides the system's CAs"))
        #expect(logs.lines.allSatisfy { !$0.contains("verbose-pass") })
    }

    /// A plain-http endpoint through HTTP_PROXY: libcurl sends the absolute URL to the proxy
    /// (a CONNECT tunnel for https is covered end to end). NO_PROXY sends it straight.
    @Test func httpProxyRoutesAndNoProxyBypasses() async throws {
        let target = try LoopbackServer { peer in
            while peer.readRequest() != nil { peer.answer(200, "direct") }
        }
        let proxy = try LoopbackServer { peer in
            while let request = peer.readRequest() { peer.answer(200, "proxied \(request.requestLine)") }
        }
        let url = URL(string: "http://127.0.0.1:\(target.port)/probe")!
        let limits = TransferLimits(connect: .seconds(5), stall: .seconds(5), answer: .seconds(5))
        let proxied = CurlTransport(settings: try NetworkSettings.resolve(environment: ["HTTP_PROXY": "127.0.0.1:\(proxy.port)"]))
        let viaProxy = try await proxied.send(HTTPRequest(method: "GET", url: url, limits: limits))
        #expect(String(decoding: viaProxy.body, as: UTF8.self) == "proxied GET http://127.0.0.1:\(target.port)/probe HTTP/1.1")

        let bypassing = CurlTransport(
            settings: try NetworkSettings.resolve(environment: ["HTTP_PROXY": "127.0.0.1:\(proxy.port)", "NO_PROXY": "127.0.0.1"]))
        let direct = try await bypassing.send(HTTPRequest(method: "GET", url: url, limits: limits))
        #expect(String(decoding: direct.body, as: UTF8.self) == "direct")
        #expect(proxy.connections == 1 && target.connections == 1)
    }
}
