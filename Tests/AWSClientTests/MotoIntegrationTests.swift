import Foundation
import Testing
@testable import AWSClient

/// Lambda's CodeSha256: base64 of the zip's SHA-256.
func codeSha256(_ zip: Data) -> String {
    let hex = Array(SigV4.payloadHash(zip).utf8)
    var bytes: [UInt8] = []
    for index in stride(from: 0, to: hex.count, by: 2) {
        bytes.append(UInt8(String(decoding: hex[index..<index + 2], as: UTF8.self), radix: 16) ?? 0)
    }
    return Data(bytes).base64EncodedString()
}

let role = "arn:aws:iam::123456789012:role/lambda-exec"

/// Against moto's server on loopback (installed in CI: these tests must run, not skip).
@Suite("moto integration", .serialized)
struct MotoIntegrationTests {
    @Test func deployStepsAgainstMoto() async throws {
        try await MotoServer.with { moto in
            let sink = LogSink()
            let lambda = LambdaClient(moto.configuration(logger: sink.logger))
            let first = try MotoServer.zip("v1")
            let created = try await lambda.createFunction("demo", runtime: "python3.12", role: role, handler: "app.handler", zipFile: first)
            #expect(created.codeSha256 == codeSha256(first))

            let second = try MotoServer.zip("v2")
            let latest = try await lambda.getFunctionConfiguration("demo")
            let updated = try await lambda.updateFunctionCode("demo", zipFile: second, revisionId: latest.revisionId)
            #expect(updated.codeSha256 == codeSha256(second))
            let ready = try await lambda.waitUntilUpdated("demo", timeout: .seconds(30))
            #expect(ready.codeSha256 == codeSha256(second))

            let version = try await lambda.publishVersion("demo", codeSha256: codeSha256(second), description: "commit abc1234")
            #expect(version.version != "$LATEST")
            #expect(version.codeSha256 == codeSha256(second))

            #expect(try await lambda.getAlias("demo", name: "dev") == nil)
            let alias = try await lambda.createAlias("demo", name: "dev", version: version.version, description: "first")
            #expect(alias.functionVersion == version.version)
            let third = try MotoServer.zip("v3")
            _ = try await lambda.updateFunctionCode("demo", zipFile: third)
            _ = try await lambda.waitUntilUpdated("demo", timeout: .seconds(30))
            let next = try await lambda.publishVersion("demo", codeSha256: codeSha256(third))
            let current = try #require(try await lambda.getAlias("demo", name: "dev"))
            let moved = try await lambda.updateAlias("demo", name: "dev", version: next.version, description: "second", revisionId: current.revisionId)
            #expect(moved.functionVersion == next.version)
            #expect(try await lambda.getAlias("demo", name: "dev")?.functionVersion == next.version)

            let versions = try await lambda.listVersions("demo")
            #expect(Set(versions.map(\.version)).isSuperset(of: ["$LATEST", version.version, next.version]))
            #expect(try await lambda.listAliases("demo").map(\.name) == ["dev"])

            // An unknown function: one line naming it and the region.
            let error = await #expect(throws: AWSError.self) { _ = try await lambda.getFunctionConfiguration("nope") }
            #expect(error?.code == "ResourceNotFoundException")
            #expect(error?.errorDescription?.contains("'nope' not found in region us-east-1") == true)

            // S3: put, head, and the S3 code path of UpdateFunctionCode.
            let s3 = S3Client(moto.configuration())
            try await s3.createBucket("deploy-artifacts")
            try await s3.createBucket("deploy-artifacts")  // already ours: fine
            let key = "demo/\(codeSha256(first).replacingOccurrences(of: "/", with: "_")).zip"
            #expect(try await s3.objectExists(bucket: "deploy-artifacts", key: key) == false)
            try await s3.putObject(bucket: "deploy-artifacts", key: key, data: first)
            #expect(try await s3.objectExists(bucket: "deploy-artifacts", key: key))
            let fromS3 = try await lambda.updateFunctionCode("demo", s3Bucket: "deploy-artifacts", s3Key: key)
            #expect(fromS3.codeSha256 == codeSha256(first))

            let identity = try await STSClient(moto.configuration()).getCallerIdentity()
            #expect(identity.account == MotoServer.accountId)

            // The web identity path of the chain: an unsigned AssumeRoleWithWebIdentity to STS.
            let tokenDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: tokenDirectory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: tokenDirectory) }
            let tokenFile = tokenDirectory.appendingPathComponent("token")
            try Data("eyJhbGciOiJSUzI1NiJ9.e30.c2ln".utf8).write(to: tokenFile)
            let resolved = try await AWSConfiguration.resolve(environment: [
                "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/gha-deployer", "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile.path,
                "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": moto.endpoint.absoluteString, "HOME": tokenDirectory.path,
            ])
            #expect(resolved.credentials.source == "web identity (arn:aws:iam::123456789012:role/gha-deployer)")
            #expect(resolved.credentials.sessionToken?.isEmpty == false)
            #expect(try await LambdaClient(resolved).getFunctionConfiguration("demo").functionName == "demo")

            #expect(sink.lines.contains { $0.contains("lambda PublishVersion POST \(moto.endpoint.absoluteString)/2015-03-31/functions/demo/versions -> 201") })
        }
    }

    @Test func apiGatewaySetupCallsAgainstMoto() async throws {
        try await MotoServer.with { moto in
            let lambda = LambdaClient(moto.configuration())
            _ = try await lambda.createFunction("api-fn", runtime: "python3.12", role: role, handler: "app.handler", zipFile: try MotoServer.zip("api"))
            let version = try await lambda.publishVersion("api-fn", codeSha256: try await lambda.getFunctionConfiguration("api-fn").codeSha256)
            _ = try await lambda.createAlias("api-fn", name: "prod", version: version.version)

            let gateway = APIGatewayClient(moto.configuration())
            #expect(try await gateway.getRestApis().isEmpty)
            let api = try await gateway.createRestApi(name: "demo-api")
            #expect(try await gateway.getRestApis().map(\.name) == ["demo-api"])
            let root = try #require(try await gateway.getResources(restApiId: api.id).first { $0.path == "/" })
            let resource = try await gateway.createResource(restApiId: api.id, parentId: root.id, pathPart: "hello")
            #expect(resource.path == "/hello")
            #expect(try await gateway.getMethod(restApiId: api.id, resourceId: resource.id, httpMethod: "POST") == nil)
            _ = try await gateway.putMethod(restApiId: api.id, resourceId: resource.id, httpMethod: "POST")
            let target = "arn:aws:lambda:us-east-1:123456789012:function:api-fn:${stageVariables.alias}"
            let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/\(target)/invocations"
            let integration = try await gateway.putIntegration(restApiId: api.id, resourceId: resource.id, httpMethod: "POST", uri: uri)
            #expect(integration.uri == uri)
            let method = try #require(try await gateway.getMethod(restApiId: api.id, resourceId: resource.id, httpMethod: "POST"))
            #expect(method.methodIntegration?.type == "AWS_PROXY")
            #expect(try await gateway.getResources(restApiId: api.id).first { $0.id == resource.id }?.methods == ["POST"])

            let deployment = try await gateway.createDeployment(restApiId: api.id)
            #expect(try await gateway.getStage(restApiId: api.id, stageName: "prod") == nil)
            let stage = try await gateway.createStage(restApiId: api.id, stageName: "prod", deploymentId: deployment.id, variables: ["alias": "prod"])
            #expect(stage.variables == ["alias": "prod"])
            let redeploy = try await gateway.createDeployment(restApiId: api.id, description: "second")
            let updated = try await gateway.updateStage(restApiId: api.id, stageName: "prod", deploymentId: redeploy.id, variables: ["alias": "prod"])
            #expect(updated.deploymentId == redeploy.id)
            #expect(try await gateway.getStages(restApiId: api.id).map(\.stageName) == ["prod"])

            let sourceArn = "arn:aws:execute-api:us-east-1:123456789012:\(api.id)/prod/POST/hello"
            #expect(try await lambda.addPermission("api-fn", qualifier: "prod", statementId: "apigw-prod", action: "lambda:InvokeFunction", principal: "apigateway.amazonaws.com", sourceArn: sourceArn))
            // A repeated statement id is a 409 "already exists" on AWS (unit-tested with the fake
            // transport); moto accepts duplicates, so that half is not asserted here.
            let policy = try #require(try await lambda.getPolicy("api-fn", qualifier: "prod"))
            #expect(policy.contains("apigw-prod"))
        }
    }

    @Test func signatureCheckingAcceptsOurSignaturesAndRefusesAWrongSecret() async throws {
        try await MotoServer.with(authentication: true) { moto in
            let lambda = LambdaClient(moto.configuration())
            let zip = try MotoServer.zip("signed")
            // Every call below is verified by moto with botocore's signer: body-less GETs pass
            // because we sign x-amz-content-sha256.
            _ = try await lambda.createFunction("signed", runtime: "python3.12", role: role, handler: "app.handler", zipFile: zip)
            let latest = try await lambda.getFunctionConfiguration("signed")
            let version = try await lambda.publishVersion("signed", codeSha256: latest.codeSha256)
            _ = try await lambda.createAlias("signed", name: "live", version: version.version)
            #expect(try await lambda.getAlias("signed", name: "live")?.functionVersion == version.version)
            #expect(try await lambda.getFunctionConfiguration("signed", qualifier: "live").version == version.version)
            #expect(try await lambda.listVersions("signed").count >= 2)
            let s3 = S3Client(moto.configuration())
            try await s3.createBucket("signed-bucket")
            try await s3.putObject(bucket: "signed-bucket", key: "pkg/signed.zip", data: zip)
            #expect(try await s3.objectExists(bucket: "signed-bucket", key: "pkg/signed.zip"))
            #expect(try await APIGatewayClient(moto.configuration()).createRestApi(name: "signed-api").name == "signed-api")
            #expect(try await STSClient(moto.configuration()).getCallerIdentity().account == MotoServer.accountId)

            // The whole resolution path as the command line uses it: environment in, configuration out.
            let fromEnvironment = try await AWSConfiguration.resolve(environment: [
                "AWS_ACCESS_KEY_ID": moto.credentials.accessKeyId, "AWS_SECRET_ACCESS_KEY": moto.credentials.secretAccessKey,
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL_LAMBDA": moto.endpoint.absoluteString,
            ])
            #expect(try await LambdaClient(fromEnvironment).getAlias("signed", name: "live") != nil)

            let wrong = AWSCredentials(accessKeyId: moto.credentials.accessKeyId, secretAccessKey: "wrong-" + moto.credentials.secretAccessKey, source: "environment")
            let refused = await #expect(throws: AWSError.self) {
                _ = try await LambdaClient(moto.configuration(credentials: wrong)).getFunctionConfiguration("signed")
            }
            #expect(refused?.code == "SignatureDoesNotMatch")
            #expect(refused?.httpStatus == 403)
            #expect(refused?.errorDescription?.contains("rejected the request signature") == true)
            #expect(refused?.errorDescription?.contains(wrong.secretAccessKey) == false)

            let unknown = AWSCredentials(accessKeyId: "AKIAEXAMPLEEXAMPLE00", secretAccessKey: "x", source: "profile ci in ~/.aws/credentials")
            let unrecognised = await #expect(throws: AWSError.self) {
                _ = try await LambdaClient(moto.configuration(credentials: unknown)).getAlias("signed", name: "live")
            }
            #expect(unrecognised?.code == "InvalidClientTokenId")
            #expect(unrecognised?.errorDescription?.contains("profile ci in ~/.aws/credentials") == true)
        }
    }
}
