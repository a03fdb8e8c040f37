import Foundation

/// A function's configuration as GetFunctionConfiguration, UpdateFunctionCode and PublishVersion
/// return it (the fields the workflow needs).
/// https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html
public struct FunctionConfiguration: Codable, Sendable, Equatable {
    public var functionName: String
    public var functionArn: String?
    /// `$LATEST` or a version number.
    public var version: String
    /// Base64 SHA-256 of the deployment package.
    public var codeSha256: String
    public var codeSize: Int64?
    public var description: String?
    public var runtime: String?
    public var handler: String?
    public var lastModified: String?
    /// InProgress | Successful | Failed (absent on older functions: treat as Successful).
    public var lastUpdateStatus: String?
    public var lastUpdateStatusReason: String?
    public var lastUpdateStatusReasonCode: String?
    /// Pending | Active | Inactive | Failed.
    public var state: String?
    public var stateReason: String?
    public var stateReasonCode: String?
    public var revisionId: String?

    enum CodingKeys: String, CodingKey {
        case functionName = "FunctionName", functionArn = "FunctionArn", version = "Version", codeSha256 = "CodeSha256"
        case codeSize = "CodeSize", description = "Description", runtime = "Runtime", handler = "Handler"
        case lastModified = "LastModified", lastUpdateStatus = "LastUpdateStatus"
        case lastUpdateStatusReason = "LastUpdateStatusReason", lastUpdateStatusReasonCode = "LastUpdateStatusReasonCode"
        case state = "State", stateReason = "StateReason", stateReasonCode = "StateReasonCode", revisionId = "RevisionId"
    }
}

/// An alias. https://docs.aws.amazon.com/lambda/latest/api/API_AliasConfiguration.html
public struct AliasConfiguration: Codable, Sendable, Equatable {
    public var aliasArn: String?
    public var name: String
    public var functionVersion: String
    public var description: String?
    public var revisionId: String?
    public var routingConfig: RoutingConfig?

    /// Extra versions and the share of traffic (0...1) each receives.
    public var additionalVersionWeights: [String: Double] { routingConfig?.additionalVersionWeights ?? [:] }

    enum CodingKeys: String, CodingKey {
        case aliasArn = "AliasArn", name = "Name", functionVersion = "FunctionVersion", description = "Description"
        case revisionId = "RevisionId", routingConfig = "RoutingConfig"
    }
}

public struct RoutingConfig: Codable, Sendable, Equatable {
    public var additionalVersionWeights: [String: Double]?
    public init(additionalVersionWeights: [String: Double]?) { self.additionalVersionWeights = additionalVersionWeights }
    enum CodingKeys: String, CodingKey { case additionalVersionWeights = "AdditionalVersionWeights" }
}

struct VersionsPage: Decodable {
    var versions: [FunctionConfiguration]?
    var nextMarker: String?
    enum CodingKeys: String, CodingKey { case versions = "Versions", nextMarker = "NextMarker" }
}

struct AliasesPage: Decodable {
    var aliases: [AliasConfiguration]?
    var nextMarker: String?
    enum CodingKeys: String, CodingKey { case aliases = "Aliases", nextMarker = "NextMarker" }
}

struct PolicyResponse: Decodable {
    var policy: String?
    enum CodingKeys: String, CodingKey { case policy = "Policy" }
}

/// Request bodies (REST-JSON, field names as the API spells them; nil fields are omitted).
struct UpdateCodeBody: Encodable {
    var S3Bucket: String?
    var S3Key: String?
    var RevisionId: String?
}

struct PublishVersionBody: Encodable {
    var CodeSha256: String
    var Description: String?
    var RevisionId: String?
}

struct AliasBody: Encodable {
    var Name: String?
    var FunctionVersion: String
    var Description: String?
    var RoutingConfig: RoutingConfig?
    var RevisionId: String?
}

struct PermissionBody: Encodable {
    var StatementId: String
    var Action: String
    var Principal: String
    var SourceArn: String?
}

struct CreateFunctionBody: Encodable {
    struct Code: Encodable { var ZipFile: String }
    var FunctionName: String
    var Runtime: String
    var Role: String
    var Handler: String
    var Code: Code
    var Description: String?
    var Timeout: Int?
    var MemorySize: Int?
    var Publish: Bool
}
