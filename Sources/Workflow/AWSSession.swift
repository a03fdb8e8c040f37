import Foundation
public import AWSClient

/// The AWS clients one command uses, resolved once: region, endpoints, retry policy, credentials.
public struct AWSSession: Sendable {
    public var configuration: AWSConfiguration
    public var region: String { configuration.region }
    public var lambdaClient: LambdaClient
    public var lambda: any LambdaOperations
    public var objectStore: any ObjectStore

    /// Resolves credentials and endpoints the way AWS SDKs do (see `AWSConfiguration.resolve`).
    /// `--profile` is passed as `AWS_PROFILE`; `--verbose` logs each call (the client never logs secrets).
    public static func make(settings: AWSSettings, configRegion: String?, environment: RunEnvironment, reporter: Reporter) async throws -> AWSSession {
        var variables = environment.variables
        if let profile = settings.profile { variables["AWS_PROFILE"] = profile }
        let logger: AWSLogger? = reporter.verbose ? { @Sendable line in reporter.debug("aws: " + line) } : nil
        let configuration = try await AWSConfiguration.resolve(
            environment: variables, regionFlag: settings.region, regionFromConfig: configRegion,
            endpointFlag: settings.endpointURL, logger: logger)
        reporter.debug("aws: region \(configuration.region), credentials from \(configuration.credentials.source)")
        for warning in configuration.warnings { reporter.warning(warning) }
        let client = LambdaClient(configuration)
        return AWSSession(
            configuration: configuration, lambdaClient: client, lambda: LambdaAdapter(client: client),
            objectStore: S3Adapter(client: S3Client(configuration)))
    }

    public var sts: STSClient { STSClient(configuration) }
    public var apiGateway: APIGatewayClient { APIGatewayClient(configuration) }
}

extension FunctionState {
    init(_ configuration: FunctionConfiguration) {
        self.init(
            version: configuration.version, codeSha256: configuration.codeSha256, codeSize: configuration.codeSize ?? 0,
            lastUpdateStatus: configuration.lastUpdateStatus, lastUpdateStatusReason: configuration.lastUpdateStatusReason,
            revisionId: configuration.revisionId, description: configuration.description, arn: configuration.functionArn,
            state: configuration.state)
        handler = configuration.handler
        runtime = configuration.runtime
    }
}

extension AliasState {
    init(_ configuration: AliasConfiguration) {
        self.init(
            name: configuration.name, version: configuration.functionVersion, revisionId: configuration.revisionId,
            description: configuration.description, additionalWeights: configuration.additionalVersionWeights)
    }
}

/// `LambdaOperations` over the real client: AWS's precondition and conflict codes become the
/// `LambdaConflict` cases the workflow branches on.
struct LambdaAdapter: LambdaOperations {
    let client: LambdaClient

    private func translating<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as AWSError where error.isPreconditionFailed {
            // PreconditionFailedException (stale RevisionId), or the InvalidParameterValueException
            // Lambda answers when PublishVersion's CodeSha256 differs from $LATEST's.
            throw LambdaConflict.preconditionFailed
        }
    }

    /// As `translating`, for the writes of `$LATEST` (UpdateFunctionCode, PublishVersion), where a
    /// ResourceConflictException means "an update is in progress" (the client does not repeat
    /// these calls into it: the deploy waits its turn).
    private func translatingUpdate<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await translating(body)
        } catch let error as AWSError where error.code == "ResourceConflictException" {
            throw LambdaConflict.updateInProgress
        }
    }

    func function(_ name: String, qualifier: String?) async throws -> FunctionState {
        FunctionState(try await client.getFunctionConfiguration(name, qualifier: qualifier))
    }

    func alias(_ function: String, name: String) async throws -> AliasState? {
        try await client.getAlias(function, name: name).map(AliasState.init)
    }

    func uploadZip(_ function: String, zip: Data, progress: UploadProgress?) async throws -> FunctionState {
        FunctionState(try await client.updateFunctionCode(function, zipFile: zip, revisionId: nil, progress: progress))
    }

    func uploadZip(_ function: String, zipPath: String, codeSha256: String, revisionId: String?, progress: UploadProgress?) async throws -> FunctionState {
        let zip = try Data(contentsOf: URL(fileURLWithPath: zipPath), options: .alwaysMapped)
        return try await translatingUpdate {
            FunctionState(
                try await client.updateFunctionCode(
                    function, zipFile: zip, revisionId: revisionId, codeSha256: codeSha256, progress: progress, retryConflicts: false))
        }
    }

    func uploadFromS3(_ function: String, bucket: String, key: String) async throws -> FunctionState {
        FunctionState(try await client.updateFunctionCode(function, s3Bucket: bucket, s3Key: key, revisionId: nil))
    }

    func uploadFromS3(_ function: String, bucket: String, key: String, codeSha256: String, revisionId: String?) async throws -> FunctionState {
        try await translatingUpdate {
            FunctionState(
                try await client.updateFunctionCode(
                    function, s3Bucket: bucket, s3Key: key, revisionId: revisionId, codeSha256: codeSha256, retryConflicts: false))
        }
    }

    func waitUntilUpdated(_ function: String, beforeEachPoll: @escaping @Sendable () async throws -> Void) async throws -> FunctionState {
        FunctionState(try await client.waitUntilUpdated(function, beforeEachPoll: beforeEachPoll))
    }

    func publish(_ function: String, codeSha256: String, description: String) async throws -> FunctionState {
        try await translatingUpdate {
            FunctionState(try await client.publishVersion(function, codeSha256: codeSha256, description: description, retryConflicts: false))
        }
    }

    func createAlias(_ function: String, name: String, version: String, description: String, additionalWeights: [String: Double]) async throws -> AliasState {
        do {
            return AliasState(try await client.createAlias(function, name: name, version: version, description: description,
                                                           additionalVersionWeights: additionalWeights.isEmpty ? nil : additionalWeights))
        } catch let error as AWSError where ["ResourceConflictException", "ConflictException"].contains(error.code) {
            // CreateAlias answers ResourceConflictException when the alias exists (another deploy
            // created it); moto answers ConflictException.
            throw LambdaConflict.alreadyExists
        }
    }

    func updateAlias(_ function: String, name: String, version: String, description: String, additionalWeights: [String: Double], revisionId: String?) async throws -> AliasState {
        try await translating {
            AliasState(try await client.updateAlias(function, name: name, version: version, description: description,
                                                    additionalVersionWeights: additionalWeights, revisionId: revisionId))
        }
    }

    func versions(_ function: String) async throws -> [FunctionState] {
        try await client.listVersions(function).map(FunctionState.init)
    }

    func aliases(_ function: String) async throws -> [AliasState] {
        try await client.listAliases(function).map(AliasState.init)
    }

    func deleteVersion(_ function: String, version: String) async throws {
        do {
            try await client.deleteVersion(function, version: version)
        } catch let error as AWSError where error.code == "ResourceConflictException" {
            throw LambdaConflict.inUse
        }
    }

    func provisionedQualifiers(_ function: String) async throws -> Set<String> {
        try await client.provisionedConcurrencyQualifiers(function)
    }

    func accountStorage() async throws -> AccountStorage {
        try await client.accountStorage()
    }

    func invoke(_ function: String, version: String, payload: Data) async throws -> InvokeResult {
        try await client.invoke(function, qualifier: version, payload: payload)
    }
}

struct S3Adapter: ObjectStore {
    let client: S3Client

    func exists(bucket: String, key: String) async throws -> Bool {
        try await client.objectExists(bucket: bucket, key: key)
    }

    func put(bucket: String, key: String, file: URL, progress: UploadProgress?) async throws {
        try await client.putObject(bucket: bucket, key: key, fileURL: file, progress: progress)
    }

    func put(bucket: String, key: String, file: URL, sha256Hex: String, progress: UploadProgress?) async throws {
        try await client.putObject(bucket: bucket, key: key, fileURL: file, sha256Hex: sha256Hex, progress: progress)
    }
}
