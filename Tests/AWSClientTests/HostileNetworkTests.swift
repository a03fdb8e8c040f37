import Foundation
import Safety
import Testing
@testable import AWSClient

/// Endpoints, servers and credentials that misbehave: redirects are never followed, server text
/// is shown escaped and without secrets, broken credentials are refused up front, and the user
/// hears about plain-http endpoints and credential files others can read.
@Suite("Hostile endpoints and credentials")
struct HostileNetworkTests {
    /// A configuration against a loopback server through the real libcurl transport.
    static func configuration(_ server: LoopbackServer, credentials: AWSCredentials = Fixture.credentials) -> AWSConfiguration {
        let url = URL(string: "http://127.0.0.1:\(server.port)")!
        return AWSConfiguration(
            credentials: credentials, region: "us-east-1",
            endpoints: AWSEndpoints(region: "us-east-1", overrides: Dictionary(uniqueKeysWithValues: AWSService.allCases.map { ($0, url) })),
            retryPolicy: RetryPolicy(maxAttempts: 3, requestTimeout: .seconds(5), budget: .seconds(10)), transport: CurlTransport())
    }

    // MARK: Redirects

    @Test("a redirect is reported with its target host and never followed", arguments: [301, 302, 307, 308])
    func redirectsAreNeverFollowed(_ status: Int) async throws {
        let elsewhere = try LoopbackServer { peer in
            while peer.readRequest() != nil { peer.answer(200, "{}") }
        }
        let server = try LoopbackServer { peer in
            while peer.readRequest() != nil {
                peer.answer(status, "", headers: ["Location: http://127.0.0.1:\(elsewhere.port)/2015-03-31/functions/demo/code?stolen=1"])
            }
        }
        let configuration = Self.configuration(server)
        let (outcome, took) = await DedicatedExecutor.run { () -> (Result<FunctionConfiguration, any Error>, Duration) in
            let started = ContinuousClock.now
            do {
                let answer = try await LambdaClient(configuration).updateFunctionCode("demo", zipFile: Data("zip".utf8), codeSha256: "x")
                return (.success(answer), .now - started)
            } catch {
                return (.failure(error), .now - started)
            }
        }
        let error: AWSError? = if case .failure(let failure) = outcome { failure as? AWSError } else { nil }
        let message = try #require(error?.errorDescription)
        #expect(message.contains("redirected (HTTP \(status)) to 127.0.0.1"), "\(message)")
        #expect(message.contains("never follows redirects"))
        #expect(!message.contains("stolen"), "only the host is named")
        #expect(elsewhere.connections == 0, "the signed request never went to the Location")
        #expect(server.connections == 1, "a redirect is not retried")
        #expect(took < .seconds(10))
    }

    @Test("S3's wrong-region redirect names the bucket's region", arguments: [true, false])
    func wrongRegionRedirectNamesTheRegion(inHeader: Bool) async throws {
        let server = try LoopbackServer { peer in
            while peer.readRequest() != nil {
                let body = inHeader ? "" : "<?xml version=\"1.0\"?><Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message><Endpoint>code.s3.eu-west-1.amazonaws.com</Endpoint><Region>eu-west-1</Region></Error>"
                peer.answer(301, body, headers: inHeader ? ["x-amz-bucket-region: eu-west-1"] : ["Content-Type: application/xml"])
            }
        }
        let error = await #expect(throws: AWSError.self) {
            try await S3Client(Self.configuration(server)).putObject(bucket: "code", key: "pr/abc.zip", data: Data("zip".utf8))
        }
        let message = try #require(error?.errorDescription)
        #expect(message.contains("region eu-west-1, not us-east-1"), "\(message)")
        #expect(message.contains("--s3-bucket"))
    }

    // MARK: Server text

    @Test func serverMessagesAreEscapedAndCarryNoSecret() async throws {
        let token = "IQoJb3JpZ2luX2VjEHostileTestToken\(UUID().uuidString)"
        let secret = "hostile-test-secret-\(UUID().uuidString)"
        let credentials = try await CredentialChain(environment: [
            "AWS_ACCESS_KEY_ID": "AKIAHOSTILE", "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token,
        ]).resolve(webIdentity: { _, _, _ in throw TransportFailure(.other) })
        // Real S3 answers SignatureDoesNotMatch with the canonical request, session token included.
        let echo = "<Error><Code>SignatureDoesNotMatch</Code><Message>bad\u{1B}]0;pwned\u{07}\nwarning: forged line x-amz-security-token:\(token) secret \(secret)</Message></Error>"
        let server = try LoopbackServer { peer in
            while peer.readRequest() != nil { peer.answer(400, echo, headers: ["Content-Type: application/xml"]) }
        }
        let error = await #expect(throws: AWSError.self) {
            try await S3Client(Self.configuration(server, credentials: credentials)).putObject(bucket: "code", key: "k", data: Data("zip".utf8))
        }
        guard case .service(_, _, _, let message, _) = try #require(error) else {
            Issue.record("not a service error: \(String(describing: error))")
            return
        }
        #expect(!message.contains("\u{1B}") && !message.contains("\n") && !message.contains("\u{07}"), "\(message)")
        #expect(message.contains("\\e]0;pwned"))
        #expect(!message.contains(token) && !message.contains(secret), "\(message)")
        #expect(message.contains(Redactor.mask))
        #expect(error?.errorDescription?.contains(token) == false)
    }

    @Test func aMalformedAnswerIsDescribedWithoutItsControlCharacters() async throws {
        let answer = #"{"Name":"dev","FunctionVersion":"1","RoutingConfig":{"AdditionalVersionWeights":{"\u001b]0;pwned\u0007":"high"}}}"#
        let transport = FakeTransport(sequence: [.success(HTTPResponse(status: 200, body: Data(answer.utf8)))])
        let error = await #expect(throws: AWSError.self) {
            _ = try await LambdaClient(Fixture.configuration(transport)).getAlias("demo", name: "dev")
        }
        let message = try #require(error?.errorDescription)
        #expect(message.contains("cannot decode"), "\(message)")
        #expect(!message.contains("\u{1B}") && !message.contains("\u{07}"), "\(message)")
    }

    // MARK: Credentials

    @Test("a line break inside a credential is refused naming where it was read", arguments: [
        ("AWS_ACCESS_KEY_ID", "AKIA\nEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "secret\rwith-cr"), ("AWS_SESSION_TOKEN", "token\r\nX-Injected: 1"),
    ])
    func environmentCredentialsWithLineBreaks(_ variable: String, _ value: String) async throws {
        var environment = ["AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "a-good-secret-key", "AWS_SESSION_TOKEN": "a-good-token"]
        environment[variable] = value
        let error = await #expect(throws: AWSError.self) {
            _ = try await CredentialChain(environment: environment).resolve(webIdentity: { _, _, _ in throw TransportFailure(.other) })
        }
        let message = try #require(error?.errorDescription)
        #expect(message.hasPrefix("\(variable) contains a line break"), "\(message)")
        #expect(!message.contains(value))
    }

    @Test func aTrailingNewlineAroundACredentialIsTrimmedNotRefused() async throws {
        let credentials = try await CredentialChain(environment: [
            "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE\n", "AWS_SECRET_ACCESS_KEY": "a-good-secret-key\r\n",
        ]).resolve(webIdentity: { _, _, _ in throw TransportFailure(.other) })
        #expect(credentials.secretAccessKey == "a-good-secret-key")
    }

    @Test func aProfileKeyWithACarriageReturnNamesTheKeyAndLine() async throws {
        let files = FakeFiles(["/home/u/.aws/credentials": "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = abc\rdef\n"])
        let error = await #expect(throws: AWSError.self) {
            _ = try await CredentialChain(environment: ["HOME": "/home/u"], files: files).resolve(webIdentity: { _, _, _ in throw TransportFailure(.other) })
        }
        #expect(error?.errorDescription?.hasPrefix("aws_secret_access_key of profile default in ~/.aws/credentials:3 contains a line break") == true, "\(error?.errorDescription ?? "")")
    }

    @Test func aCredentialProcessAnswerWithALineBreakIsRefused() async throws {
        let output = #"{"Version": 1, "AccessKeyId": "ASIAPROC", "SecretAccessKey": "proc\nsecret", "SessionToken": "t"}"#
        let files = FakeFiles(["/home/u/.aws/config": "[default]\ncredential_process = /bin/creds\n"])
        let processes = FakeProcesses(["/bin/creds": CredentialProcessResult(status: 0, stdout: Data(output.utf8))])
        let error = await #expect(throws: AWSError.self) {
            _ = try await CredentialChain(environment: ["HOME": "/home/u"], files: files, processes: processes)
                .resolve(webIdentity: { _, _, _ in throw TransportFailure(.other) })
        }
        #expect(error?.errorDescription?.hasPrefix("SecretAccessKey from the credential_process of profile default") == true, "\(error?.errorDescription ?? "")")
    }

    @Test func everySecretTheChainObtainsIsRegisteredWithTheRedactor() async throws {
        let envSecret = "env-secret-\(UUID().uuidString)"
        _ = try await CredentialChain(environment: ["AWS_ACCESS_KEY_ID": "AKIAREG", "AWS_SECRET_ACCESS_KEY": envSecret])
            .resolve(webIdentity: { _, _, _ in throw TransportFailure(.other) })
        #expect(Redactor.shared.redact("x \(envSecret) y") == "x \(Redactor.mask) y")

        // STS answers (web identity): the token sent and the credentials received.
        let webToken = "eyJ-web-identity-\(UUID().uuidString)"
        let stsSecret = "sts-secret-\(UUID().uuidString)", stsToken = "sts-token-\(UUID().uuidString)"
        let answer = "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIASTS</AccessKeyId><SecretAccessKey>\(stsSecret)</SecretAccessKey><SessionToken>\(stsToken)</SessionToken></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"
        let transport = FakeTransport(sequence: [.success(HTTPResponse(status: 200, body: Data(answer.utf8)))])
        let configuration = Fixture.configuration(transport)
        _ = try await CredentialChain(
            environment: ["AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/ci", "AWS_WEB_IDENTITY_TOKEN_FILE": "/token"],
            files: FakeFiles(["/token": webToken])
        ).resolve(webIdentity: { role, session, token in
            try await STSClient(configuration).assumeRoleWithWebIdentity(roleArn: role, sessionName: session, webIdentityToken: token)
        })
        for value in [webToken, stsSecret, stsToken] {
            #expect(Redactor.shared.redact("[\(value)]") == "[\(Redactor.mask)]", "\(value) is registered")
        }
    }

    @Test func aCredentialsFileOthersCanReadGetsTheWarningSshWouldGive() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("creds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent(".aws"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent(".aws/credentials")
        try Data("[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = file-secret-value\n".utf8).write(to: file)
        let environment = ["HOME": directory.path, "AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null"]
        let transport = FakeTransport { _, _ in HTTPResponse(status: 200) }

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
        let open = try await AWSConfiguration.resolve(environment: environment, transport: transport)
        #expect(open.warnings == ["permissions 0644 for ~/.aws/credentials are too open: other users of this machine can read the secret keys in it; run `chmod 600 \(file.path)`"])

        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        let closed = try await AWSConfiguration.resolve(environment: environment, transport: transport)
        #expect(closed.warnings.isEmpty)
    }

    // MARK: Endpoints

    @Test("plain http off this machine gets a warning; loopback and https do not", arguments: [
        ("http://moto.internal:5000", true), ("http://10.0.0.5", true), ("http://127.0.0.1:4566", false), ("http://localhost:4566", false),
        ("http://[::1]:4566", false), ("http://127.3.2.1", false), ("https://lambda.example.com", false),
    ])
    func plainHTTPWarning(_ endpoint: String, _ warned: Bool) throws {
        let endpoints = try AWSEndpoints.resolve(explicit: nil, environment: ["AWS_ENDPOINT_URL": endpoint], region: "us-east-1")
        let warnings = endpoints.plainHTTPWarnings
        #expect(warnings.count == (warned ? 1 : 0), "\(warnings)")
        if warned {
            #expect(warnings.first?.hasPrefix("endpoint \(endpoint) (from AWS_ENDPOINT_URL) is plain http and not on this machine") == true)
        }
    }

    @Test func anEndpointWithAPasswordIsRefusedWithoutPrintingIt() {
        let error = #expect(throws: AWSError.self) {
            _ = try AWSEndpoints.resolve(explicit: "http://deployer:hunter2-pass@127.0.0.1:4566", environment: [:], region: "us-east-1")
        }
        let message = error?.errorDescription ?? ""
        #expect(message.contains("'http://***@127.0.0.1:4566' (from --endpoint-url)"), "\(message)")
        #expect(message.contains("no user or password"))
        #expect(!message.contains("hunter2"), "\(message)")
    }
}
