public import Foundation
public import AWSClient

/// One version (or `$LATEST`) of a function, as far as the workflow cares.
public struct FunctionState: Sendable, Equatable {
    public var version: String
    public var codeSha256: String
    public var codeSize: Int64
    /// `InProgress`, `Successful` or `Failed`; nil when the service does not say.
    public var lastUpdateStatus: String?
    /// `Pending`, `Active`, `Inactive` or `Failed`; nil when the service does not say.
    public var state: String?
    public var lastUpdateStatusReason: String?
    public var revisionId: String?
    public var description: String?
    /// The function's ARN (qualified for a version); carries the account id.
    public var arn: String?
    /// The function's `Handler` and `Runtime` (for the handler lint).
    public var handler: String?
    public var runtime: String?

    public init(
        version: String, codeSha256: String, codeSize: Int64 = 0, lastUpdateStatus: String? = nil,
        lastUpdateStatusReason: String? = nil, revisionId: String? = nil, description: String? = nil, arn: String? = nil,
        state: String? = nil
    ) {
        self.state = state
        self.arn = arn
        self.version = version
        self.codeSha256 = codeSha256
        self.codeSize = codeSize
        self.lastUpdateStatus = lastUpdateStatus
        self.lastUpdateStatusReason = lastUpdateStatusReason
        self.revisionId = revisionId
        self.description = description
    }
}

extension FunctionState {
    /// Whether an update is still being applied (Lambda refuses another update or a publish meanwhile).
    public var isUpdating: Bool { lastUpdateStatus == "InProgress" || state == "Pending" }
}

/// An alias: its main version and, during a traffic shift, the weighted additional version.
public struct AliasState: Sendable, Equatable {
    public var name: String
    public var version: String
    public var revisionId: String?
    public var description: String?
    /// Additional version -> fraction of traffic (0.0-1.0). Empty when no shift is in progress.
    public var additionalWeights: [String: Double]

    public init(name: String, version: String, revisionId: String? = nil, description: String? = nil, additionalWeights: [String: Double] = [:]) {
        self.name = name
        self.version = version
        self.revisionId = revisionId
        self.description = description
        self.additionalWeights = additionalWeights
    }
}

/// The outcomes of a Lambda call the workflow branches on; everything else propagates as the
/// AWS client's own error.
public enum LambdaConflict: Error, Equatable, Sendable {
    /// PreconditionFailedException: the CodeSha256 or RevisionId we passed no longer holds.
    case preconditionFailed
    /// ResourceConflictException on create: the alias (or statement) already exists.
    case alreadyExists
    /// ResourceConflictException on delete: an alias still points at the version.
    case inUse
    /// ResourceConflictException on UpdateFunctionCode or PublishVersion: an update of `$LATEST`
    /// (another deploy's, or a configuration change) is in progress. Not repeated by the client:
    /// the deploy waits for the update to end and decides again from what `$LATEST` then holds.
    case updateInProgress
}

/// The Lambda calls the workflow makes, narrowed to what it needs.
///
/// The production implementation adapts `AWSClient.LambdaClient`; tests use an in-memory model
/// of Lambda that can race, lose answers and fail on demand.
public protocol LambdaOperations: Sendable {
    /// `$LATEST` when `qualifier` is nil.
    func function(_ name: String, qualifier: String?) async throws -> FunctionState
    /// nil when the alias does not exist.
    func alias(_ function: String, name: String) async throws -> AliasState?
    /// `progress` hears how much of the request has been sent (nil: nobody is listening).
    func uploadZip(_ function: String, zip: Data, progress: UploadProgress?) async throws -> FunctionState
    func uploadFromS3(_ function: String, bucket: String, key: String) async throws -> FunctionState
    /// Uploads the zip at `zipPath` whose CodeSha256 is `codeSha256` (which settles a lost answer),
    /// only if `$LATEST` still has `revisionId` (nil: unconditionally). Throws
    /// `LambdaConflict.preconditionFailed` when it changed, `.updateInProgress` when an update is
    /// in progress; neither is sent again.
    func uploadZip(_ function: String, zipPath: String, codeSha256: String, revisionId: String?, progress: UploadProgress?) async throws -> FunctionState
    /// Points `$LATEST` at an S3 object holding the code `codeSha256`, with the same precondition
    /// and conflicts as `uploadZip(_:zipPath:codeSha256:revisionId:progress:)`.
    func uploadFromS3(_ function: String, bucket: String, key: String, codeSha256: String, revisionId: String?) async throws -> FunctionState
    /// Polls until `$LATEST`'s last update is no longer in progress; throws with Lambda's reason on Failed.
    func waitUntilUpdated(_ function: String) async throws -> FunctionState
    /// PublishVersion with the CodeSha256 precondition; throws `LambdaConflict.preconditionFailed`
    /// when `$LATEST` holds other code, `.updateInProgress` while an update is in progress.
    func publish(_ function: String, codeSha256: String, description: String) async throws -> FunctionState
    /// Throws `LambdaConflict.alreadyExists` when the alias exists.
    func createAlias(_ function: String, name: String, version: String, description: String, additionalWeights: [String: Double]) async throws -> AliasState
    /// Throws `LambdaConflict.preconditionFailed` when `revisionId` is stale. Empty weights clear routing.
    func updateAlias(_ function: String, name: String, version: String, description: String, additionalWeights: [String: Double], revisionId: String?) async throws -> AliasState
    /// Every published version (all pages), oldest first.
    func versions(_ function: String) async throws -> [FunctionState]
    /// Every alias of the function (all pages).
    func aliases(_ function: String) async throws -> [AliasState]
    /// Deletes a published version; one already gone is fine; throws `LambdaConflict.inUse`
    /// when an alias points at it.
    func deleteVersion(_ function: String, version: String) async throws
    /// The versions (or aliases) with provisioned concurrency.
    func provisionedQualifiers(_ function: String) async throws -> Set<String>
    /// The account's code storage, used and limit.
    func accountStorage() async throws -> AccountStorage
    /// Invokes a published version synchronously.
    func invoke(_ function: String, version: String, payload: Data) async throws -> InvokeResult
}

/// The S3 calls of the large-package path.
public protocol ObjectStore: Sendable {
    func exists(bucket: String, key: String) async throws -> Bool
    func put(bucket: String, key: String, file: URL, progress: UploadProgress?) async throws
    /// Streams the file; `sha256Hex` (the package's) signs it without another read and settles
    /// a lost answer (the object read back holds it).
    func put(bucket: String, key: String, file: URL, sha256Hex: String, progress: UploadProgress?) async throws
}

extension ObjectStore {
    public func put(bucket: String, key: String, file: URL, sha256Hex: String, progress: UploadProgress?) async throws {
        try await put(bucket: bucket, key: key, file: file, progress: progress)
    }
}

/// Defaults for implementations that have no use for the checksums (test doubles).
extension LambdaOperations {
    /// Maps the file and calls `uploadZip(_:zip:progress:)` (no precondition).
    public func uploadZip(_ function: String, zipPath: String, codeSha256: String, revisionId: String?, progress: UploadProgress?) async throws -> FunctionState {
        try await uploadZip(function, zip: try Data(contentsOf: URL(fileURLWithPath: zipPath), options: .alwaysMapped), progress: progress)
    }

    public func uploadFromS3(_ function: String, bucket: String, key: String, codeSha256: String, revisionId: String?) async throws -> FunctionState {
        try await uploadFromS3(function, bucket: bucket, key: key)
    }
}

extension FunctionState {
    /// The account id from the ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`), when known.
    public var account: String? {
        guard let arn else { return nil }
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count > 4 && !parts[4].isEmpty ? String(parts[4]) : nil
    }
}
