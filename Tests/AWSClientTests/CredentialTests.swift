import Foundation
import Testing
@testable import AWSClient

@Suite("Credential chain")
struct CredentialChainTests {
    let home = ["HOME": "/home/dev"]
    let noExchange: WebIdentityExchange = { _, _, _ in throw TransportFailure(.other, "unexpected web identity call") }

    func resolve(_ environment: [String: String], _ files: [String: String] = [:], exchange: WebIdentityExchange? = nil) async throws -> AWSCredentials {
        try await CredentialChain(environment: environment, files: FakeFiles(files), now: { Date(timeIntervalSince1970: 1_700_000_000) })
            .resolve(webIdentity: exchange ?? noExchange)
    }

    @Test func environmentComesFirst() async throws {
        let credentials = try await resolve(
            home.merging(["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_SESSION_TOKEN": "envtoken",
                          "AWS_ROLE_ARN": "arn:aws:iam::1:role/r", "AWS_WEB_IDENTITY_TOKEN_FILE": "/token"]) { $1 },
            ["/home/dev/.aws/credentials": "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = filesecret\n"])
        #expect(credentials.accessKeyId == "AKIAENV")
        #expect(credentials.sessionToken == "envtoken")
        #expect(credentials.source == "environment")
    }

    @Test func halfSetEnvironmentIsAnError() async throws {
        let error = await #expect(throws: AWSError.self) { _ = try await resolve(["AWS_ACCESS_KEY_ID": "AKIAENV"]) }
        #expect(error?.errorDescription?.contains("AWS_SECRET_ACCESS_KEY") == true)
    }

    @Test func webIdentityComesBeforeFiles() async throws {
        let credentials = try await resolve(
            home.merging([
                "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/deployer", "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token",
                "AWS_ROLE_SESSION_NAME": "gha-42",
            ]) { $1 },
            ["/var/run/token": "eyJhbGciOi.token.sig\n", "/home/dev/.aws/credentials": "[default]\naws_access_key_id=A\naws_secret_access_key=B\n"],
            exchange: { role, session, token in
                #expect(role == "arn:aws:iam::123456789012:role/deployer")
                #expect(session == "gha-42")
                #expect(token == "eyJhbGciOi.token.sig")
                return AWSCredentials(accessKeyId: "ASIATEMP", secretAccessKey: "tempsecret", sessionToken: "temptoken", source: "sts")
            })
        #expect(credentials.accessKeyId == "ASIATEMP")
        #expect(credentials.source == "web identity (arn:aws:iam::123456789012:role/deployer)")
    }

    @Test func missingWebIdentityTokenFileIsNamed() async throws {
        let error = await #expect(throws: AWSError.self) {
            _ = try await resolve(["AWS_ROLE_ARN": "arn:aws:iam::1:role/r", "AWS_WEB_IDENTITY_TOKEN_FILE": "/nope/token"])
        }
        #expect(error?.errorDescription?.contains("/nope/token") == true)
    }

    @Test func defaultProfileFromCredentialsFile() async throws {
        let credentials = try await resolve(home, ["/home/dev/.aws/credentials": "# mine\n[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = s3cr3t\n"])
        #expect(credentials.accessKeyId == "AKIADEFAULT")
        #expect(credentials.source == "profile default in ~/.aws/credentials")
    }

    @Test func namedProfileFromConfigFileUsesProfilePrefix() async throws {
        let config = "[default]\nregion = eu-west-1\n[profile ci]\naws_access_key_id = AKIACI\naws_secret_access_key = cisecret\nregion = eu-central-1\n[ci]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n"
        let credentials = try await resolve(home.merging(["AWS_PROFILE": "ci"]) { $1 }, ["/home/dev/.aws/config": config])
        #expect(credentials.accessKeyId == "AKIACI")
        #expect(credentials.source == "profile ci in ~/.aws/config")
        let region = try resolveRegion(flag: nil, config: nil, environment: home.merging(["AWS_PROFILE": "ci"]) { $1 }, files: FakeFiles(["/home/dev/.aws/config": config]))
        #expect(region == ResolvedRegion(region: "eu-central-1", source: "profile ci in ~/.aws/config"))
    }

    @Test func credentialsFileWinsOverConfigForTheSameProfile() async throws {
        let credentials = try await resolve(home, [
            "/home/dev/.aws/credentials": "[default]\naws_access_key_id = FROMCREDS\naws_secret_access_key = a\n",
            "/home/dev/.aws/config": "[default]\naws_access_key_id = FROMCONFIG\naws_secret_access_key = b\n",
        ])
        #expect(credentials.accessKeyId == "FROMCREDS")
    }

    @Test func explicitFileLocations() async throws {
        let credentials = try await resolve(
            ["AWS_SHARED_CREDENTIALS_FILE": "/etc/ci/creds", "AWS_PROFILE": "deploy"],
            ["/etc/ci/creds": "[deploy]\naws_access_key_id = AKIADEPLOY\naws_secret_access_key = x\naws_session_token = tok\n"])
        #expect(credentials.accessKeyId == "AKIADEPLOY")
        #expect(credentials.sessionToken == "tok")
        #expect(credentials.source == "profile deploy in /etc/ci/creds")
    }

    @Test func nothingFoundListsEveryPlace() async throws {
        let error = await #expect(throws: AWSError.self) { _ = try await resolve(home) }
        let message = try #require(error?.errorDescription)
        for place in ["environment", "web identity", "profile default in ~/.aws/credentials", "profile default in ~/.aws/config"] {
            #expect(message.contains(place), "\(message)")
        }
    }

    @Test func anExplicitProfileThatDoesNotExistIsNamed() async throws {
        let error = await #expect(throws: AWSError.self) { _ = try await resolve(home.merging(["AWS_PROFILE": "ci"]) { $1 }) }
        let message = try #require(error?.errorDescription)
        #expect(message.contains("AWS profile 'ci'"), "\(message)")
        #expect(message.contains("aws configure"), "\(message)")
    }

    struct MalformedCase: Sendable, CustomTestStringConvertible {
        var text: String
        var line: Int
        var fragment: String
        var testDescription: String { fragment }
    }

    @Test(arguments: [
        MalformedCase(text: "[default]\naws_access_key_id = A\nthis is not a setting\n", line: 3, fragment: "each line must be '[profile]', 'key = value' or a # comment"),
        MalformedCase(text: "aws_access_key_id = A\n[default]\n", line: 1, fragment: "outside of any [section]"),
        MalformedCase(text: "[default\naws_access_key_id = A\n", line: 1, fragment: "malformed section header"),
        MalformedCase(text: "[default]\n\naws_access_key_id = A\n", line: 3, fragment: "no aws_secret_access_key"),
        MalformedCase(text: "[default]\naws_access_key_id = A\naws_secret_access_key = B\naws_expiration = 2020-01-01T00:00:00Z\n", line: 4, fragment: "expired at 2020-01-01T00:00:00Z"),
        MalformedCase(text: "[default]\naws_access_key_id = A\naws_secret_access_key = B\nexpiration = tomorrow\n", line: 4, fragment: "not an ISO 8601 time"),
    ])
    func malformedFilesNameFileAndLine(_ testCase: MalformedCase) async throws {
        let error = await #expect(throws: AWSError.self) {
            _ = try await resolve(["AWS_SHARED_CREDENTIALS_FILE": "/ci/credentials"], ["/ci/credentials": testCase.text])
        }
        let message = try #require(error?.errorDescription)
        #expect(message.hasPrefix("/ci/credentials:\(testCase.line): "), "\(message)")
        #expect(message.contains(testCase.fragment), "\(message)")
        #expect(!message.contains("\n"))
    }
}

@Suite("Region and endpoints")
struct RegionEndpointTests {
    let config = ["/h/.aws/config": "[default]\nregion = ap-south-1\n"]

    @Test func regionOrder() throws {
        let environment = ["HOME": "/h", "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-2"]
        #expect(try resolveRegion(flag: "us-west-2", config: "us-east-2", environment: environment, files: FakeFiles(config)).region == "us-west-2")
        #expect(try resolveRegion(flag: nil, config: "us-east-2", environment: environment, files: FakeFiles(config)).region == "us-east-2")
        #expect(try resolveRegion(flag: nil, config: nil, environment: environment, files: FakeFiles(config)).source == "AWS_REGION")
        #expect(try resolveRegion(flag: nil, config: nil, environment: ["HOME": "/h", "AWS_DEFAULT_REGION": "eu-west-2"], files: FakeFiles(config)).region == "eu-west-2")
        #expect(try resolveRegion(flag: nil, config: nil, environment: ["HOME": "/h"], files: FakeFiles(config)).region == "ap-south-1")
        let error = #expect(throws: AWSError.self) { try resolveRegion(flag: nil, config: nil, environment: ["HOME": "/h"], files: FakeFiles()) }
        #expect(error?.errorDescription?.contains("AWS_REGION") == true)
        #expect(throws: AWSError.self) { try resolveRegion(flag: "US East", config: nil, environment: [:], files: FakeFiles()) }
    }

    @Test func endpointOrder() throws {
        let environment = ["AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:4000", "AWS_ENDPOINT_URL": "http://localhost:5000"]
        let resolved = try AWSEndpoints.resolve(explicit: nil, environment: environment, region: "eu-west-1")
        #expect(resolved.url(for: .lambda).absoluteString == "http://127.0.0.1:4000")
        #expect(resolved.url(for: .s3).absoluteString == "http://localhost:5000")
        let flagged = try AWSEndpoints.resolve(explicit: "http://127.0.0.1:6000", environment: environment, region: "eu-west-1")
        #expect(flagged.url(for: .lambda).absoluteString == "http://127.0.0.1:6000")
        let real = try AWSEndpoints.resolve(explicit: nil, environment: [:], region: "eu-west-1")
        #expect(real.url(for: .lambda).absoluteString == "https://lambda.eu-west-1.amazonaws.com")
        #expect(real.url(for: .apiGateway).absoluteString == "https://apigateway.eu-west-1.amazonaws.com")
        #expect(real.url(for: .sts).absoluteString == "https://sts.eu-west-1.amazonaws.com")
    }

    @Test("malformed endpoints name the value and its source", arguments: ["localhost:5000", "ftp://x", "http://", "not a url", "http://h:1/?a=b"])
    func malformedEndpoint(_ value: String) {
        let error = #expect(throws: AWSError.self) {
            _ = try AWSEndpoints.resolve(explicit: nil, environment: ["AWS_ENDPOINT_URL_S3": value], region: "us-east-1")
        }
        #expect(error?.errorDescription?.contains("'\(value)'") == true)
        #expect(error?.errorDescription?.contains("AWS_ENDPOINT_URL_S3") == true)
    }
}

@Suite("Secrets never leak")
struct RedactionTests {
    @Test func credentialsDescriptionsHideSecrets() {
        let credentials = Fixture.credentials
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [credentials.description, credentials.debugDescription, "\(credentials)", String(reflecting: credentials), dumped] {
            #expect(!text.contains(Fixture.secret))
            #expect(!text.contains(Fixture.token))
            #expect(!text.contains("AKIAEXAMPLE12345"))
            #expect(text.contains("environment"))
        }
        #expect(credentials.maskedAccessKeyId == "****2345")
    }

    @Test func verboseLogHasNoSecretsOrHeaders() async throws {
        let sink = LogSink()
        let transport = FakeTransport(sequence: [.success(Fixture.error(429, "TooManyRequestsException")), .success(Fixture.json(200, Fixture.function()))])
        _ = try await LambdaClient(Fixture.configuration(transport, logger: sink.logger)).getFunctionConfiguration("demo")
        let signature = try #require(transport.requests.first?.header("Authorization")?.components(separatedBy: "Signature=").last)
        #expect(sink.lines.count >= 3)
        #expect(sink.lines.first?.contains("GET http://127.0.0.1:4566/2015-03-31/functions/demo/configuration -> 429") == true)
        for line in sink.lines {
            for secret in [Fixture.secret, Fixture.token, "Authorization", "AWS4-HMAC-SHA256", signature, "X-Amz-Security-Token"] {
                #expect(!line.contains(secret), "\(line)")
            }
        }
    }

    @Test func webIdentityGoesUnsignedToSTS() async throws {
        let xml = """
            <AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>
            <AccessKeyId>ASIATEMP</AccessKeyId><SecretAccessKey>temp/secret+key</SecretAccessKey>
            <SessionToken>temp&amp;token</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration>
            </Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>
            """
        let transport = FakeTransport(sequence: [.success(HTTPResponse(status: 200, body: Data(xml.utf8)))])
        let credentials = try await STSClient(Fixture.configuration(transport))
            .assumeRoleWithWebIdentity(roleArn: "arn:aws:iam::1:role/r", sessionName: "s", webIdentityToken: "tok+en")
        #expect(credentials.secretAccessKey == "temp/secret+key")
        #expect(credentials.sessionToken == "temp&token")
        #expect(credentials.expiration != nil)
        let request = try #require(transport.requests.first)
        #expect(request.header("Authorization") == nil)
        let body = String(decoding: request.body.data ?? Data(), as: UTF8.self)
        #expect(body.contains("Action=AssumeRoleWithWebIdentity"))
        #expect(body.contains("WebIdentityToken=tok%2Ben"))
    }
}
