import Foundation
import Testing
@testable import AWSClient

@Suite("Lambda client")
struct LambdaClientTests {
    @Test func waiterPollsUntilSuccessful() async throws {
        let transport = FakeTransport(sequence: [
            .success(Fixture.json(200, Fixture.function(status: "InProgress"))),
            .success(Fixture.json(200, Fixture.function(status: "InProgress"))),
            .success(Fixture.json(200, Fixture.function(sha: "new=", status: "Successful"))),
        ])
        let clock = FakeClock()
        let function = try await LambdaClient(Fixture.configuration(transport, clock: clock)).waitUntilUpdated("demo", timeout: .seconds(60))
        #expect(function.codeSha256 == "new=")
        #expect(transport.requests.count == 3)
        #expect(clock.sleeps.count == 2)
        #expect(transport.requests.allSatisfy { $0.url.path.hasSuffix("/functions/demo/configuration") && $0.method == "GET" })
    }

    @Test func waiterWaitsForPendingState() async throws {
        let transport = FakeTransport(sequence: [
            .success(Fixture.json(200, Fixture.function(status: nil, state: "Pending"))),
            .success(Fixture.json(200, Fixture.function(status: nil, state: "Active"))),
        ])
        _ = try await LambdaClient(Fixture.configuration(transport)).waitUntilUpdated("demo", timeout: .seconds(60))
        #expect(transport.requests.count == 2)
    }

    @Test func waiterReportsLambdasReasonOnFailure() async throws {
        let transport = FakeTransport(sequence: [
            .success(Fixture.json(200, Fixture.function(status: "InProgress"))),
            .success(Fixture.json(200, Fixture.function(status: "Failed", reason: "Unzipped size must be smaller than 262144000 bytes"))),
        ])
        let error = await #expect(throws: AWSError.self) {
            _ = try await LambdaClient(Fixture.configuration(transport)).waitUntilUpdated("demo", timeout: .seconds(60))
        }
        #expect(error?.errorDescription?.contains("Unzipped size must be smaller than 262144000 bytes") == true)
        #expect(error?.errorDescription?.contains("'demo'") == true)
    }

    @Test func waiterGivesUpAfterItsTimeout() async throws {
        let transport = FakeTransport(sequence: [.success(Fixture.json(200, Fixture.function(status: "InProgress")))])
        let clock = FakeClock()
        let error = await #expect(throws: AWSError.self) {
            _ = try await LambdaClient(Fixture.configuration(transport, clock: clock)).waitUntilUpdated("demo", timeout: .seconds(10))
        }
        #expect(clock.totalSlept <= .seconds(10))
        #expect(error?.errorDescription?.contains("InProgress") == true)
    }

    @Test func listVersionsFollowsEveryPage() async throws {
        let transport = FakeTransport { request, _ in
            let marker = URLComponents(url: request.url, resolvingAgainstBaseURL: false)?.queryItems?.first { $0.name == "Marker" }?.value
            let (versions, next): (ClosedRange<Int>, String?) =
                switch marker {
                case nil: (1...50, "page2")
                case "page2": (51...100, "page3")
                default: (101...120, nil)
                }
            var page: [String: Any] = ["Versions": versions.map { Fixture.function(version: String($0)) }]
            if let next { page["NextMarker"] = next }
            return Fixture.json(200, page)
        }
        let versions = try await LambdaClient(Fixture.configuration(transport)).listVersions("demo")
        #expect(versions.count == 120)
        #expect(versions.last?.version == "120")
        #expect(transport.requests.count == 3)
        #expect(transport.requests.allSatisfy { $0.url.query?.contains("MaxItems=50") == true })
    }

    @Test func listAliasesFollowsEveryPage() async throws {
        let transport = FakeTransport { request, index in
            let page: [String: Any] = [
                "Aliases": [["Name": "a\(index)", "FunctionVersion": "\(index + 1)"]], "NextMarker": index < 2 ? "m\(index)" : "",
            ]
            return Fixture.json(200, page)
        }
        let aliases = try await LambdaClient(Fixture.configuration(transport)).listAliases("demo")
        #expect(aliases.map(\.name) == ["a0", "a1", "a2"])
    }

    @Test func getAliasIsNilOnlyWhenTheAliasIsMissing() async throws {
        let missingAlias = FakeTransport(sequence: [.success(Fixture.error(404, "ResourceNotFoundException", "Cannot find alias arn: arn:aws:lambda:us-east-1:123456789012:function:demo:dev"))])
        #expect(try await LambdaClient(Fixture.configuration(missingAlias)).getAlias("demo", name: "dev") == nil)

        let missingFunction = FakeTransport(sequence: [.success(Fixture.error(404, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope"))])
        let error = await #expect(throws: AWSError.self) {
            _ = try await LambdaClient(Fixture.configuration(missingFunction)).getAlias("nope", name: "dev")
        }
        #expect(error?.errorDescription?.hasPrefix("function 'nope' not found in region us-east-1") == true)
    }

    @Test func aliasRoutingIsSentAndParsed() async throws {
        let transport = FakeTransport { _, _ in
            Fixture.json(200, ["Name": "prod", "FunctionVersion": "3", "RevisionId": "r2", "RoutingConfig": ["AdditionalVersionWeights": ["4": 0.1]]])
        }
        let alias = try await LambdaClient(Fixture.configuration(transport))
            .updateAlias("demo", name: "prod", version: "3", additionalVersionWeights: ["4": 0.1], revisionId: "r1")
        #expect(alias.additionalVersionWeights == ["4": 0.1])
        let body = try #require(transport.requests.first?.body.data)
        let sent = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(sent["RevisionId"] as? String == "r1")
        #expect(sent["FunctionVersion"] as? String == "3")
        #expect((sent["RoutingConfig"] as? [String: Any])?["AdditionalVersionWeights"] as? [String: Double] == ["4": 0.1])

        _ = try await LambdaClient(Fixture.configuration(transport)).updateAlias("demo", name: "prod", version: "4", additionalVersionWeights: [:])
        let cleared = try #require(try JSONSerialization.jsonObject(with: transport.requests[1].body.data ?? Data()) as? [String: Any])
        #expect((cleared["RoutingConfig"] as? [String: Any])?["AdditionalVersionWeights"] as? [String: Double] == [:])
    }

    @Test func updateFunctionCodeSendsBase64ZipAndRevision() async throws {
        let transport = FakeTransport { _, _ in Fixture.json(200, Fixture.function(status: "InProgress")) }
        let zip = Data([0x50, 0x4b, 0x03, 0x04, 0xff, 0x00])
        _ = try await LambdaClient(Fixture.configuration(transport)).updateFunctionCode("demo", zipFile: zip, revisionId: "rev \"1\"")
        let request = try #require(transport.requests.first)
        #expect(request.method == "PUT")
        #expect(request.url.path == "/2015-03-31/functions/demo/code")
        let sent = try #require(try JSONSerialization.jsonObject(with: request.body.data ?? Data()) as? [String: String])
        #expect(sent == ["ZipFile": zip.base64EncodedString(), "RevisionId": "rev \"1\""])
        #expect(request.body.count == LambdaClient.directUploadRequestSize(zipSize: zip.count) + #","RevisionId":"rev \"1\"""#.utf8.count)
    }

    /// The body is encoded and hashed piece by piece: the pieces must join into exactly the
    /// base64 of the whole zip, and the signature must cover exactly the bytes sent.
    @Test(arguments: [0, 1, 2, 3, 196_607, 196_608, 196_609, 500_001])
    func aLargeZipIsEncodedAndHashedInPieces(_ size: Int) async throws {
        var generator = SystemRandomNumberGenerator()
        let zip = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let transport = FakeTransport { _, _ in Fixture.json(200, Fixture.function(status: "InProgress")) }
        _ = try await LambdaClient(Fixture.configuration(transport)).updateFunctionCode("demo", zipFile: zip)
        let request = try #require(transport.requests.first)
        let body = try #require(request.body.data)
        #expect(body == Data(#"{"ZipFile":""#.utf8) + zip.base64EncodedData() + Data(#""}"#.utf8))
        #expect(request.header("x-amz-content-sha256") == SigV4.payloadHash(body))
    }

    @Test func functionArnsAreEncodedInThePath() async throws {
        let transport = FakeTransport { _, _ in Fixture.json(200, Fixture.function()) }
        _ = try await LambdaClient(Fixture.configuration(transport))
            .getFunctionConfiguration("arn:aws:lambda:us-east-1:123456789012:function:demo", qualifier: "$LATEST")
        let url = try #require(transport.requests.first?.url.absoluteString)
        #expect(url == "http://127.0.0.1:4566/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Ademo/configuration?Qualifier=%24LATEST")
    }

    @Test func addPermissionReportsAnExistingStatement() async throws {
        let exists = FakeTransport(sequence: [.success(Fixture.error(409, "ResourceConflictException", "The statement id (apigw-prod) provided already exists. Please provide a new statement id, or remove the existing statement."))])
        let added = try await LambdaClient(Fixture.configuration(exists)).addPermission(
            "demo", qualifier: "prod", statementId: "apigw-prod", action: "lambda:InvokeFunction", principal: "apigateway.amazonaws.com",
            sourceArn: "arn:aws:execute-api:us-east-1:123456789012:abc/prod/POST/")
        #expect(added == false)
        #expect(exists.requests.count == 1)
        #expect(exists.requests.first?.url.query == "Qualifier=prod")

        let fresh = FakeTransport(sequence: [.success(Fixture.json(201, ["Statement": "{}"]))])
        #expect(
            try await LambdaClient(Fixture.configuration(fresh)).addPermission(
                "demo", qualifier: "prod", statementId: "apigw-prod", action: "lambda:InvokeFunction",
                principal: "apigateway.amazonaws.com", sourceArn: nil))
    }

    @Test func preconditionFailuresAreRecognised() async throws {
        let mismatch = Fixture.error(400, "InvalidParameterValueException", "CodeSHA256 (AAAA=) is different from current CodeSHA256 in $LATEST (BBBB=). Please try again with the CodeSHA256 in $LATEST.")
        let transport = FakeTransport(sequence: [.success(mismatch), .success(Fixture.error(412, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id."))])
        let lambda = LambdaClient(Fixture.configuration(transport))
        let publish = await #expect(throws: AWSError.self) { _ = try await lambda.publishVersion("demo", codeSha256: "AAAA=") }
        #expect(publish?.isPreconditionFailed == true)
        #expect(publish?.errorDescription?.contains("another deploy changed it") == true)
        let update = await #expect(throws: AWSError.self) { _ = try await lambda.updateAlias("demo", name: "prod", version: "2", revisionId: "old") }
        #expect(update?.isPreconditionFailed == true)
        #expect(transport.requests.count == 2)
    }

    @Test func getPolicyIsNilWithoutAPolicy() async throws {
        let transport = FakeTransport(sequence: [.success(Fixture.error(404, "ResourceNotFoundException", "The resource you requested does not exist."))])
        #expect(try await LambdaClient(Fixture.configuration(transport)).getPolicy("demo", qualifier: "prod") == nil)
    }
}

struct ErrorCase: Sendable, CustomTestStringConvertible {
    var response: HTTPResponse
    var expected: [String]
    var testDescription: String { expected.joined(separator: " / ") }
}

@Suite("Error messages")
struct ErrorMessageTests {
    static let cases: [ErrorCase] = [
        ErrorCase(response: Fixture.error(404, "ResourceNotFoundException", "Function not found: arn"), expected: ["function 'demo' not found in region us-east-1", "--region"]),
        ErrorCase(response: Fixture.error(403, "AccessDeniedException", "User is not authorized"), expected: ["access denied", "lambda:GetFunctionConfiguration", "environment"]),
        ErrorCase(response: Fixture.error(403, "InvalidSignatureException", "sig"), expected: ["signature", "secret access key from environment", "clock"]),
        ErrorCase(response: Fixture.error(403, "UnrecognizedClientException", "bad token"), expected: ["does not recognise the access key from environment"]),
        ErrorCase(response: Fixture.error(403, "ExpiredTokenException", "expired"), expected: ["expired", "refresh"]),
        // moto answers signature problems with IAM-style XML for every service.
        ErrorCase(
            response: HTTPResponse(status: 403, body: Data("<?xml version=\"1.0\"?><ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message></Error></Errors></ErrorResponse>".utf8)),
            expected: ["SignatureDoesNotMatch", "secret access key"]),
        // JSON errors with __type and lowercase message (API Gateway style).
        ErrorCase(
            response: HTTPResponse(status: 400, body: Data(#"{"__type":"com.amazonaws#ValidationException","message":"bad name"}"#.utf8)),
            expected: ["HTTP 400 ValidationException: bad name"]),
    ]

    @Test(arguments: cases)
    func messages(_ testCase: ErrorCase) async throws {
        let transport = FakeTransport(sequence: [.success(testCase.response)])
        let error = await #expect(throws: AWSError.self) {
            _ = try await LambdaClient(Fixture.configuration(transport)).getFunctionConfiguration("demo")
        }
        let message = try #require(error?.errorDescription)
        #expect(!message.contains("\n"))
        for fragment in testCase.expected { #expect(message.contains(fragment), "\(message)") }
        #expect(!message.contains(Fixture.secret))
    }

    @Test func unreachableEndpointNamesHostAndPort() async throws {
        // Port 9 (discard) on loopback: nothing listens in CI containers; a real refused connection.
        var configuration = Fixture.configuration(FakeTransport { _, _ in throw TransportFailure(.other) })
        configuration.transport = CurlTransport()
        configuration.endpoints = try AWSEndpoints.resolve(explicit: "http://127.0.0.1:9", environment: [:], region: "us-east-1")
        configuration.retryPolicy = RetryPolicy(maxAttempts: 2)
        let error = await #expect(throws: AWSError.self) {
            _ = try await LambdaClient(configuration).getFunctionConfiguration("demo")
        }
        let message = try #require(error?.errorDescription)
        #expect(message.contains("127.0.0.1:9"), "\(message)")
        #expect(message.contains("connection refused"), "\(message)")
        #expect(error?.mayHaveBeenApplied == false)
    }
}
