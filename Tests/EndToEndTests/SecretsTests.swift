import Foundation
import Testing

/// A moto that verifies every SigV4 signature (its IAM access control), for this file's tests.
/// ci/support/moto_local.py auth-user spends the three unchecked calls on creating the user.
actor AuthenticatedMoto {
    static let shared = AuthenticatedMoto()
    private let server = MotoServer(authChecks: true)
    private var user: (endpoint: String, accessKeyId: String, secret: String)?

    func start() async throws -> (endpoint: String, accessKeyId: String, secret: String) {
        if let user { return user }
        let endpoint = try await server.endpoint()
        let result = try run("python3", [packageRoot + "/ci/support/moto_local.py", "auth-user", endpoint], cwd: packageRoot, env: ProcessInfo.processInfo.environment)
        let fields = result.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
        guard result.status == 0, fields.count == 2 else { throw RunError(message: "auth-user failed: \(result.stderr)") }
        let started = (endpoint, fields[0], fields[1])
        user = started
        return started
    }
}

/// The secret key, the session token and the request signatures never reach stdout, stderr (even
/// with `--verbose`), `--json` output or a record — on success and on every failure path.
@Suite struct SecretsTests {
    let secret = "SeCrEtKeY" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
    let token = "SeSsIoNtOkEn" + UUID().uuidString.replacingOccurrences(of: "-", with: "")

    /// What must never appear: the secrets themselves, and anything shaped like the headers that carry them.
    func expectNoSecrets(_ text: String, signatures: [String] = [], extra: [String] = [], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let lowered = text.lowercased()
        for needle in [secret, token] + extra {
            #expect(!text.contains(needle), "\(what) leaks a secret: \(text)", sourceLocation: sourceLocation)
            // Also in pieces: a message that quotes a truncated line is still a leak.
            #expect(!text.contains(needle.prefix(16)), "\(what) leaks part of a secret: \(text)", sourceLocation: sourceLocation)
        }
        for signature in signatures {
            #expect(!text.contains(signature), "\(what) leaks a request signature", sourceLocation: sourceLocation)
        }
        for marker in ["signature=", "aws4-hmac-sha256 credential", "x-amz-security-token", "authorization:"] {
            #expect(!lowered.contains(marker), "\(what) shows an auth header (\(marker)): \(text)", sourceLocation: sourceLocation)
        }
    }

    func fixture() async throws -> FaultFixture {
        var fixture = try await FaultFixture()
        fixture.env["AWS_SECRET_ACCESS_KEY"] = secret
        fixture.env["AWS_SESSION_TOKEN"] = token
        return fixture
    }

    @Test func deploySuccessAndFailuresShowNoSecret() async throws {
        let fixture = try await fixture()
        let proxy = try FaultProxy(
            upstream: fixture.moto, rules: [.status(500, method: "PUT", path: "/aliases/dev$")], logSignatures: true)
        var outputs: [(String, RunResult)] = []
        func deploy(_ arguments: [String], _ label: String) throws -> RunResult {
            let result = try fixture.tool(arguments, through: proxy, extraEnv: ["LAMBDA_DEPLOY_RETRY_BUDGET": "3", "LAMBDA_DEPLOY_MAX_ATTEMPTS": "3"])
            outputs.append((label, result))
            return result
        }
        let first = try deploy(["deploy", "--alias", "dev", "--json", "--verbose"], "first deploy")
        #expect(first.status == 0, "\(first.output)")
        #expect(first.stderr.contains("GetFunctionConfiguration"), "--verbose logs the AWS calls: \(first.stderr)")
        #expect(try deploy(["deploy", "--alias", "dev", "--verbose"], "unchanged redeploy").status == 0)
        try fixture.setCode("v2")
        try fixture.commit("second")
        // UpdateAlias fails every time: a `failed` record carrying the error is written.
        let failed = try deploy(["deploy", "--alias", "dev", "--verbose"], "failed deploy")
        #expect(failed.status == 1, "\(failed.output)")
        let failedJSON = try deploy(["deploy", "--alias", "dev", "--verbose", "--json"], "failed deploy --json")
        #expect(failedJSON.status == 1)
        let unknown = try deploy(["deploy", "--alias", "dev", "--function", "no-such-function", "--verbose", "--json"], "unknown function")
        #expect(unknown.status == 1)
        _ = try deploy(["history", "--json"], "history")
        _ = try deploy(["show", "--verbose"], "show")

        let signatures = try proxy.log().compactMap(\.signature)
        #expect(signatures.count >= 10, "the proxy saw the signed requests")
        for (label, result) in outputs {
            expectNoSecrets(result.stdout, signatures: signatures, "stdout of \(label)")
            expectNoSecrets(result.stderr, signatures: signatures, "stderr of \(label)")
        }
        let notes = try git(["log", "--notes=deploys", "--format=%N"], cwd: fixture.work.path, env: fixture.env)
        #expect(notes.contains("\"failed\""), "a failed record was written: \(notes)")
        expectNoSecrets(notes, signatures: signatures, "the notes")
    }

    @Test func planAndDoctorShowNoSecret() async throws {
        let fixture = try await fixture()
        let ci = [
            "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_NAME": "push",
            "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567", "GITHUB_REPOSITORY": "team/pr",
        ]
        for arguments in [["plan"], ["plan", "--json"], ["plan", "--verbose"], ["doctor", "--verbose"], ["doctor", "--json"]] {
            let result = try fixture.tool(arguments, extraEnv: ci)
            #expect(result.status < 64, "\(arguments): \(result.output)")
            expectNoSecrets(result.stdout, "stdout of \(arguments.joined(separator: " "))")
            expectNoSecrets(result.stderr, "stderr of \(arguments.joined(separator: " "))")
        }
    }

    /// Credentials files users break in practice: the secret pasted on a section line, a
    /// line without `=` (a colon, or a bare secret), a key with no id, a key outside any section.
    @Test(arguments: [
        "[default] aws_secret_access_key = SECRET\n",
        "[default\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = SECRET\n",
        "[default]\naws_access_key_id = AKIDEXAMPLE\nSECRET\n",
        "[default]\naws_secret_access_key = SECRET\n",
        "aws_secret_access_key = SECRET\n",
        "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key: SECRET\naws_session_token = TOKEN\n",
    ])
    func aMalformedCredentialsFileIsNotEchoed(_ template: String) async throws {
        var fixture = try await fixture()
        for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] { fixture.env[name] = nil }
        let file = fixture.home.path + "/credentials"
        try fixture.home.write("credentials", template.replacingOccurrences(of: "SECRET", with: secret).replacingOccurrences(of: "TOKEN", with: token))
        fixture.env["AWS_SHARED_CREDENTIALS_FILE"] = file
        for arguments in [["deploy", "--alias", "dev", "--verbose"], ["deploy", "--alias", "dev", "--json"], ["doctor", "--verbose"]] {
            let result = try fixture.tool(arguments)
            #expect(result.status != 0, "\(arguments): \(result.output)")
            expectNoSecrets(result.stdout, "stdout of \(arguments.joined(separator: " "))")
            expectNoSecrets(result.stderr, "stderr of \(arguments.joined(separator: " "))")
        }
    }

    /// With moto checking signatures: a right key deploys, a wrong secret is refused, and neither
    /// the secret nor the signatures (valid or not) show up anywhere.
    @Test func signatureErrorsShowNoSecret() async throws {
        let (endpoint, accessKeyId, rightSecret) = try await AuthenticatedMoto.shared.start()
        var fixture = try await FaultFixture(function: uniqueName("authfn"))
        var env = ProcessInfo.processInfo.environment
        env["AWS_ACCESS_KEY_ID"] = accessKeyId
        env["AWS_SECRET_ACCESS_KEY"] = rightSecret
        let created = try run("python3", [packageRoot + "/ci/support/moto_local.py", "create-function", endpoint, fixture.function], cwd: packageRoot, env: env)
        #expect(created.status == 0, "\(created.stderr)")
        fixture.env["AWS_ACCESS_KEY_ID"] = accessKeyId
        fixture.env["AWS_SECRET_ACCESS_KEY"] = rightSecret
        let proxy = try FaultProxy(upstream: endpoint, rules: [], logSignatures: true)

        let good = try fixture.tool(["deploy", "--alias", "dev", "--verbose", "--json"], through: proxy)
        #expect(good.status == 0, "\(good.output)")
        fixture.env["AWS_SECRET_ACCESS_KEY"] = secret
        try fixture.setCode("v2")
        try fixture.commit("second")
        let refused = try fixture.tool(["deploy", "--alias", "dev", "--verbose"], through: proxy)
        expectCleanFailure(refused)
        #expect(refused.stderr.lowercased().contains("signature") || refused.stderr.contains("credentials"), "\(refused.stderr)")
        let refusedJSON = try fixture.tool(["deploy", "--alias", "dev", "--json"], through: proxy)
        #expect(refusedJSON.status == 1)

        let signatures = try proxy.log().compactMap(\.signature)
        #expect(signatures.count >= 5)
        for (label, result) in [("right key", good), ("wrong secret", refused), ("wrong secret --json", refusedJSON)] {
            expectNoSecrets(result.stdout, signatures: signatures, extra: [rightSecret], "stdout (\(label))")
            expectNoSecrets(result.stderr, signatures: signatures, extra: [rightSecret], "stderr (\(label))")
        }
        let notes = try git(["log", "--notes=deploys", "--format=%N"], cwd: fixture.work.path, env: fixture.env)
        expectNoSecrets(notes, signatures: signatures, extra: [rightSecret], "the notes")
    }
}
