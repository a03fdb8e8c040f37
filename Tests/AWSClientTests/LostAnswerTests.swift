import Foundation
import Testing
@testable import AWSClient

/// What a lost answer means, one rule for every write: after an attempt that may have been
/// applied (the connection dropped or timed out once the request was out, or a 5xx), the write
/// is read back before anything is sent again; found, it is done; not found, it is resent.
@Suite("Lost answers on writes")
struct LostAnswerTests {
    static let lost = TransportFailure(.connectionLost, "Empty reply from server", requestSent: true)
    static let code = "c29tZS1jb2Rl"

    /// The SHA-256 of `data` as bytes (from the hex the signer computes).
    static func digest(_ data: Data) -> [UInt8] {
        let hex = Array(SigV4.payloadHash(data).utf8)
        return stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16) ?? 0 }
    }

    /// Requests as "METHOD /path" (no query), for comparing call sequences.
    static func calls(_ transport: FakeTransport) -> [String] {
        transport.requests.map { "\($0.method) \($0.url.path)" }
    }

    @Test func anUploadWhoseAnswerWasLostIsNotSentAgainWhenLatestHoldsTheCode() async throws {
        let transport = FakeTransport { request, index in
            if request.method == "PUT" { throw Self.lost }
            return Fixture.json(200, Fixture.function(sha: Self.code, status: "Successful"))
        }
        let logs = LogSink()
        let function = try await LambdaClient(Fixture.configuration(transport, logger: logs.logger))
            .updateFunctionCode("demo", zipFile: Data("zip".utf8), codeSha256: Self.code)
        #expect(function.codeSha256 == Self.code)
        #expect(Self.calls(transport) == ["PUT /2015-03-31/functions/demo/code", "GET /2015-03-31/functions/demo/configuration"])
        #expect(logs.lines.contains { $0.contains("read back: it was applied") })
    }

    @Test func anUploadThatDidNotLandIsSentAgain() async throws {
        let transport = FakeTransport { request, index in
            if request.method == "PUT" {
                if index == 0 { throw Self.lost }
                return Fixture.json(200, Fixture.function(sha: Self.code, status: "InProgress"))
            }
            return Fixture.json(200, Fixture.function(sha: "older"))
        }
        let function = try await LambdaClient(Fixture.configuration(transport))
            .updateFunctionCode("demo", zipFile: Data("zip".utf8), codeSha256: Self.code)
        #expect(function.lastUpdateStatus == "InProgress")
        #expect(Self.calls(transport) == [
            "PUT /2015-03-31/functions/demo/code", "GET /2015-03-31/functions/demo/configuration", "PUT /2015-03-31/functions/demo/code",
        ])
    }

    @Test func withoutAKnownCodeTheZipsOwnChecksumIsUsed() async throws {
        let zip = Data("the package".utf8)
        let sha = Data(Self.digest(zip)).base64EncodedString()
        let transport = FakeTransport { request, _ in
            if request.method == "PUT" { throw Self.lost }
            return Fixture.json(200, Fixture.function(sha: sha))
        }
        _ = try await LambdaClient(Fixture.configuration(transport)).updateFunctionCode("demo", zipFile: zip)
        #expect(transport.requests.count == 2)
    }

    @Test func aServerErrorOnAWriteIsAlsoSettledByReadingBack() async throws {
        let transport = FakeTransport { request, _ in
            if request.method == "PUT" { return Fixture.error(502, "ServiceException") }
            return Fixture.json(200, ["Name": "dev", "FunctionVersion": "4", "RevisionId": "r9", "Description": "moved"])
        }
        let alias = try await LambdaClient(Fixture.configuration(transport))
            .updateAlias("demo", name: "dev", version: "4", description: "moved", additionalVersionWeights: [:], revisionId: "r8")
        #expect(alias.revisionId == "r9")
        #expect(Self.calls(transport) == ["PUT /2015-03-31/functions/demo/aliases/dev", "GET /2015-03-31/functions/demo/aliases/dev"])
    }

    @Test func aLostPublishFindsItsVersionByCodeAndDescription() async throws {
        let versions: [[String: Any]] = [
            Fixture.function(version: "$LATEST", sha: Self.code), Fixture.function(version: "6", sha: Self.code),
            Fixture.function(version: "7", sha: "other"),
        ].map { var version = $0; version["Description"] = version["Version"] as? String == "6" ? "ours" : "theirs"; return version }
        let listing = Fixture.json(200, ["Versions": versions])
        let transport = FakeTransport { request, _ in
            if request.method == "POST" { throw Self.lost }
            return listing
        }
        let version = try await LambdaClient(Fixture.configuration(transport)).publishVersion("demo", codeSha256: Self.code, description: "ours")
        #expect(version.version == "6")
        #expect(Self.calls(transport) == ["POST /2015-03-31/functions/demo/versions", "GET /2015-03-31/functions/demo/versions"])
    }

    @Test func aCreateThatCertainlyDidNotLandIsSentAgainDespiteNotBeingIdempotent() async throws {
        let transport = FakeTransport { request, index in
            if request.method == "POST" {
                if index == 0 { throw TransportFailure(.timedOut, bound: .answer) }
                return Fixture.json(201, ["Name": "dev", "FunctionVersion": "3", "RevisionId": "r1"])
            }
            return Fixture.error(404, "ResourceNotFoundException", "Cannot find alias arn:aws:lambda:us-east-1:123456789012:function:demo:dev")
        }
        let alias = try await LambdaClient(Fixture.configuration(transport)).createAlias("demo", name: "dev", version: "3")
        #expect(alias.functionVersion == "3")
        #expect(Self.calls(transport) == [
            "POST /2015-03-31/functions/demo/aliases", "GET /2015-03-31/functions/demo/aliases/dev", "POST /2015-03-31/functions/demo/aliases",
        ])
    }

    @Test func aCreateThatLandedIsNotSentAgain() async throws {
        let transport = FakeTransport { request, _ in
            if request.method == "POST" { throw Self.lost }
            return Fixture.json(200, ["Name": "dev", "FunctionVersion": "3", "RevisionId": "r1"])
        }
        _ = try await LambdaClient(Fixture.configuration(transport)).createAlias("demo", name: "dev", version: "3")
        #expect(transport.requests.filter { $0.method == "POST" }.count == 1)
    }

    @Test func whenTheReadBackFailsTooANonIdempotentWriteIsNotRepeated() async throws {
        let transport = FakeTransport { request, _ in
            if request.method == "POST" { throw Self.lost }
            throw TransportFailure(.connectionRefused)
        }
        let error = await #expect(throws: AWSError.self) {
            _ = try await LambdaClient(Fixture.configuration(transport, policy: RetryPolicy(maxAttempts: 2))).createAlias("demo", name: "dev", version: "3")
        }
        #expect(transport.requests.filter { $0.method == "POST" }.count == 1)
        #expect(error?.mayHaveBeenApplied == true)
    }

    @Test("an S3 upload is settled by the object's checksum", arguments: [true, false])
    func anS3UploadIsSettledByItsChecksum(landed: Bool) async throws {
        let data = Data("package bytes".utf8)
        let hex = SigV4.payloadHash(data)
        let transport = FakeTransport { request, index in
            switch (request.method, index) {
            case ("PUT", 0): throw Self.lost
            case ("HEAD", _): return HTTPResponse(status: 200, headers: ["x-amz-meta-sha256": landed ? hex : "00", "Content-Length": "13"])
            default: return HTTPResponse(status: 200)
            }
        }
        try await S3Client(Fixture.configuration(transport)).putObject(bucket: "code-bucket", key: "pr/\(hex).zip", data: data)
        #expect(transport.requests.map(\.method) == (landed ? ["PUT", "HEAD"] : ["PUT", "HEAD", "PUT"]))
        let put = try #require(transport.requests.first)
        #expect(put.header("x-amz-meta-sha256") == hex)
        #expect(put.header("x-amz-checksum-sha256") == Data(Self.digest(data)).base64EncodedString())
        #expect(put.header("x-amz-content-sha256") == hex)
    }

    /// The read-back is part of the write: it runs within what is left of the write's budget.
    @Test func theReadBackKeepsWithinTheWritesDeadline() async throws {
        let transport = FakeTransport { request, index in
            switch index {
            case 0: return Fixture.error(429, "TooManyRequestsException", headers: ["Retry-After": "3"])
            case 1: throw Self.lost
            default: return Fixture.json(200, ["Name": "dev", "FunctionVersion": "4", "RevisionId": "r9"])
            }
        }
        let clock = FakeClock()
        let policy = RetryPolicy(stallTimeout: .seconds(5), budget: .seconds(20))
        _ = try await LambdaClient(Fixture.configuration(transport, clock: clock, policy: policy))
            .updateAlias("demo", name: "dev", version: "4", revisionId: "r8")
        #expect(transport.requests.map(\.limits.total) == [.seconds(25), .seconds(22), .seconds(22)])
    }
}
