import Foundation
import AWSClient
@testable import Workflow

/// An in-memory model of one Lambda function as AWS documents it: `$LATEST`, immutable published
/// versions, aliases with RevisionIds, PublishVersion's CodeSha256 precondition and its "no new
/// version when nothing changed" rule. Hooks let a test race another deploy or lose an answer.
actor FakeLambda: LambdaOperations {
    struct Failure: Error, Equatable { var message: String }

    private(set) var latestCode: String
    private(set) var versions: [FunctionState] = []
    private(set) var aliases: [String: AliasState] = [:]
    private(set) var calls: [String] = []
    private var revision = 0

    /// Runs right before PublishVersion is evaluated (e.g. another deploy uploads meanwhile).
    var beforePublish: (@Sendable (FakeLambda) async -> Void)?
    /// Number of UpdateAlias calls that land but whose answer is lost (the client's retry then
    /// fails its RevisionId precondition, which is what the workflow sees).
    var lostAliasAnswers = 0
    /// UpdateAlias calls that fail outright (nothing changes).
    var failingAliasUpdates = 0
    /// Codes that, once uploaded, make the update end in Failed.
    var failingCodes: Set<String> = []

    init(latestCode: String, publishedCodes: [String] = []) {
        self.latestCode = latestCode
        for code in publishedCodes { versions.append(FunctionState(version: String(versions.count + 1), codeSha256: code)) }
    }

    func setBeforePublish(_ hook: (@Sendable (FakeLambda) async -> Void)?) { beforePublish = hook }
    func setLostAliasAnswers(_ count: Int) { lostAliasAnswers = count }
    func setFailingAliasUpdates(_ count: Int) { failingAliasUpdates = count }
    func setFailingCodes(_ codes: Set<String>) { failingCodes = codes }
    func setAlias(_ name: String, version: String, weights: [String: Double] = [:]) {
        revision += 1
        aliases[name] = AliasState(name: name, version: version, revisionId: "r\(revision)", additionalWeights: weights)
    }
    /// Another client uploads code to `$LATEST`.
    func externalUpload(_ code: String) { latestCode = code }

    private func nextRevision() -> String { revision += 1; return "r\(revision)" }

    func function(_ name: String, qualifier: String?) async throws -> FunctionState {
        calls.append("get \(qualifier ?? "$LATEST")")
        guard let qualifier, qualifier != "$LATEST" else {
            return FunctionState(version: "$LATEST", codeSha256: latestCode, lastUpdateStatus: "Successful")
        }
        if let version = versions.first(where: { $0.version == qualifier }) { return version }
        if let alias = aliases[qualifier], let version = versions.first(where: { $0.version == alias.version }) { return version }
        throw Failure(message: "not found: \(qualifier)")
    }

    func alias(_ function: String, name: String) async throws -> AliasState? {
        calls.append("getAlias \(name)")
        return aliases[name]
    }

    func uploadZip(_ function: String, zip: Data, progress: (@Sendable (Int64, Int64) -> Void)?) async throws -> FunctionState {
        calls.append("upload")
        // As a transport would: the request body is sent in pieces, then in full.
        let total = Int64(zip.count)
        for quarter in 1...4 { progress?(total * Int64(quarter) / 4, total) }
        latestCode = String(decoding: zip, as: UTF8.self)
        return FunctionState(version: "$LATEST", codeSha256: latestCode, lastUpdateStatus: "InProgress")
    }

    func uploadFromS3(_ function: String, bucket: String, key: String) async throws -> FunctionState {
        calls.append("uploadS3 \(bucket)/\(key)")
        return FunctionState(version: "$LATEST", codeSha256: latestCode, lastUpdateStatus: "InProgress")
    }

    func waitUntilUpdated(_ function: String) async throws -> FunctionState {
        calls.append("wait")
        if failingCodes.contains(latestCode) { throw Failure(message: "update failed: bad runtime") }
        return FunctionState(version: "$LATEST", codeSha256: latestCode, lastUpdateStatus: "Successful")
    }

    func publish(_ function: String, codeSha256: String, description: String) async throws -> FunctionState {
        calls.append("publish")
        if let hook = beforePublish { beforePublish = nil; await hook(self) }
        guard latestCode == codeSha256 else { throw LambdaConflict.preconditionFailed }
        if let last = versions.last, last.codeSha256 == latestCode { return last }
        let version = FunctionState(version: String(versions.count + 1), codeSha256: latestCode, description: description)
        versions.append(version)
        return version
    }

    func createAlias(_ function: String, name: String, version: String, description: String, additionalWeights: [String: Double]) async throws -> AliasState {
        calls.append("createAlias \(name)->\(version)")
        guard aliases[name] == nil else { throw LambdaConflict.alreadyExists }
        let alias = AliasState(name: name, version: version, revisionId: nextRevision(), description: description, additionalWeights: additionalWeights)
        aliases[name] = alias
        return alias
    }

    func updateAlias(_ function: String, name: String, version: String, description: String, additionalWeights: [String: Double], revisionId: String?) async throws -> AliasState {
        calls.append("updateAlias \(name)->\(version)")
        if failingAliasUpdates > 0 { failingAliasUpdates -= 1; throw Failure(message: "service unavailable") }
        guard let current = aliases[name] else { throw Failure(message: "alias not found") }
        if let revisionId, revisionId != current.revisionId { throw LambdaConflict.preconditionFailed }
        let alias = AliasState(name: name, version: version, revisionId: nextRevision(), description: description, additionalWeights: additionalWeights)
        aliases[name] = alias
        if lostAliasAnswers > 0 { lostAliasAnswers -= 1; throw LambdaConflict.preconditionFailed }
        return alias
    }

    func versions(_ function: String) async throws -> [FunctionState] { versions }

    func aliases(_ function: String) async throws -> [AliasState] { aliases.values.sorted { $0.name < $1.name } }

    /// Versions deleted so far, and versions with provisioned concurrency.
    private(set) var deleted: [String] = []
    var provisioned: Set<String> = []
    /// Runs right before a delete is evaluated (e.g. a deploy publishes or an alias moves meanwhile).
    var beforeDelete: (@Sendable (FakeLambda, String) async -> Void)?
    var invokeAnswers: [InvokeResult] = []
    private(set) var invoked: [String] = []

    func setProvisioned(_ versions: Set<String>) { provisioned = versions }
    func setBeforeDelete(_ hook: (@Sendable (FakeLambda, String) async -> Void)?) { beforeDelete = hook }
    func setInvokeAnswers(_ answers: [InvokeResult]) { invokeAnswers = answers }
    /// Another client publishes a version of whatever $LATEST holds.
    func externalPublish() -> String {
        let version = FunctionState(version: String((versions.compactMap { Int($0.version) }.max() ?? 0) + 1), codeSha256: latestCode)
        versions.append(version)
        return version.version
    }

    func deleteVersion(_ function: String, version: String) async throws {
        calls.append("delete \(version)")
        if let hook = beforeDelete { await hook(self, version) }
        // As AWS: an alias (or its routing) pointing at the version refuses the delete.
        if aliases.values.contains(where: { $0.version == version || $0.additionalWeights[version] != nil }) { throw LambdaConflict.inUse }
        versions.removeAll { $0.version == version }
        deleted.append(version)
    }

    func provisionedQualifiers(_ function: String) async throws -> Set<String> { provisioned }

    func accountStorage() async throws -> AccountStorage {
        AccountStorage(used: Int64(versions.count) * 1000, limit: 75_000_000_000)
    }

    func invoke(_ function: String, version: String, payload: Data) async throws -> InvokeResult {
        invoked.append(version)
        return invokeAnswers.isEmpty ? InvokeResult(statusCode: 200, functionError: nil, payload: Data("{}".utf8)) : invokeAnswers.removeFirst()
    }
}
