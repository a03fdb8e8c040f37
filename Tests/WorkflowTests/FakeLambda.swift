import Foundation
import AWSClient
@testable import Workflow

/// An in-memory model of one Lambda function as AWS documents it: `$LATEST`, immutable published
/// versions, aliases with RevisionIds, PublishVersion's CodeSha256 precondition and its "no new
/// version when nothing changed" rule. Hooks let a test race another deploy or lose an answer.
///
/// The update window, as AWS has it: an accepted upload leaves `$LATEST` InProgress (for
/// `updateWindow` of real time and for `busyReads` reads of `$LATEST`, whichever lasts longer;
/// `waitUntilUpdated` waits it out), and meanwhile UpdateFunctionCode and PublishVersion answer
/// `updateInProgress` (409). `$LATEST`'s RevisionId changes when an upload is accepted and again
/// when its update ends; an upload with a stale one is refused (`preconditionFailed`, 412). The
/// 409 is decided before the 412, as on AWS.
actor FakeLambda: LambdaOperations {
    struct Failure: Error, Equatable { var message: String }

    private(set) var latestCode: String
    private(set) var versions: [FunctionState] = []
    private(set) var aliases: [String: AliasState] = [:]
    private(set) var calls: [String] = []
    private var revision = 0
    private var latestRevision = "L0"
    /// The update in progress: when it may end, and how many more reads of `$LATEST` see it.
    private var update: (until: ContinuousClock.Instant, busyReads: Int)?
    /// Real time an accepted upload stays InProgress (zero: until the next read or wait).
    var updateWindow: Duration = .zero
    /// Reads of `$LATEST` (not waits) an accepted upload of ours stays InProgress for.
    var uploadBusyReads = 0
    /// Accepted uploads; uploads refused for an update in progress (a body sent into a 409) and
    /// for a stale RevisionId (412); publishes refused while updating.
    private(set) var acceptedUploads = 0
    private(set) var uploadsIntoUpdates = 0
    private(set) var staleUploads = 0
    private(set) var publishesIntoUpdates = 0
    /// Runs right before an upload is evaluated, once (e.g. another deploy uploads first).
    var beforeUpload: (@Sendable (FakeLambda) async -> Void)?
    /// Runs right before an UpdateAlias is evaluated, once (e.g. a newer deploy moves the alias).
    var beforeUpdateAlias: (@Sendable (FakeLambda) async -> Void)?
    /// Runs right after an UpdateAlias lands, once (e.g. another deploy moves the alias again).
    var afterUpdateAlias: (@Sendable (FakeLambda) async -> Void)?
    /// Runs once, at the first read of `$LATEST` that finds an update in progress.
    var whileUpdating: (@Sendable (FakeLambda) async -> Void)?
    /// As moto: PublishVersion publishes `$LATEST` whatever CodeSha256 the request names.
    var ignoresCodeSha256 = false

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
    func setBeforeUpload(_ hook: (@Sendable (FakeLambda) async -> Void)?) { beforeUpload = hook }
    func setBeforeUpdateAlias(_ hook: (@Sendable (FakeLambda) async -> Void)?) { beforeUpdateAlias = hook }
    func setAfterUpdateAlias(_ hook: (@Sendable (FakeLambda) async -> Void)?) { afterUpdateAlias = hook }
    func setWhileUpdating(_ hook: (@Sendable (FakeLambda) async -> Void)?) { whileUpdating = hook }
    func setIgnoresCodeSha256(_ ignores: Bool) { ignoresCodeSha256 = ignores }
    func setUpdateWindow(_ window: Duration, busyReads: Int = 0) { (updateWindow, uploadBusyReads) = (window, busyReads) }
    func setLostAliasAnswers(_ count: Int) { lostAliasAnswers = count }
    func setFailingAliasUpdates(_ count: Int) { failingAliasUpdates = count }
    func setFailingCodes(_ codes: Set<String>) { failingCodes = codes }
    func setAlias(_ name: String, version: String, weights: [String: Double] = [:]) {
        revision += 1
        aliases[name] = AliasState(name: name, version: version, revisionId: "r\(revision)", additionalWeights: weights)
    }
    /// A published version holding `code` with `description` (as another deploy would leave it).
    @discardableResult
    func addVersion(code: String, description: String) -> String {
        let version = FunctionState(
            version: String((versions.compactMap { Int($0.version) }.max() ?? 0) + 1), codeSha256: code, description: description)
        versions.append(version)
        return version.version
    }
    /// Another client uploads code to `$LATEST`; with `busyReads` its update stays InProgress for
    /// that many reads of `$LATEST` (zero: it is over at once).
    func externalUpload(_ code: String, busyReads: Int = 0) {
        latestCode = code
        latestRevision = nextRevision()
        update = busyReads > 0 ? (ContinuousClock.now, busyReads) : nil
        if busyReads == 0 { latestRevision = nextRevision() }
    }

    /// Another deploy publishes `$LATEST`'s code with `description`; returns the version.
    @discardableResult
    func externalPublish(description: String) -> String {
        let version = FunctionState(
            version: String((versions.compactMap { Int($0.version) }.max() ?? 0) + 1), codeSha256: latestCode, description: description)
        versions.append(version)
        return version.version
    }

    private func nextRevision() -> String { revision += 1; return "r\(revision)" }

    /// Ends the update in progress if its time and reads are up (or `force`); the RevisionId
    /// changes again as it ends.
    private func settle(force: Bool = false) {
        guard let current = update, force || (ContinuousClock.now >= current.until && current.busyReads <= 0) else { return }
        update = nil
        latestRevision = nextRevision()
    }

    private var latestState: FunctionState {
        FunctionState(
            version: "$LATEST", codeSha256: latestCode, lastUpdateStatus: update == nil ? "Successful" : "InProgress", revisionId: latestRevision)
    }

    func function(_ name: String, qualifier: String?) async throws -> FunctionState {
        calls.append("get \(qualifier ?? "$LATEST")")
        guard let qualifier, qualifier != "$LATEST" else {
            settle()
            guard let current = update else { return latestState }
            update = (current.until, current.busyReads - 1)
            let state = latestState
            if let hook = whileUpdating { whileUpdating = nil; await hook(self) }
            return state
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
        try await uploadZip(function, zip: zip, revisionId: nil, progress: progress)
    }

    func uploadZip(_ function: String, zipPath: String, codeSha256: String, revisionId: String?, progress: UploadProgress?) async throws -> FunctionState {
        try await uploadZip(function, zip: try Data(contentsOf: URL(fileURLWithPath: zipPath)), revisionId: revisionId, progress: progress)
    }

    private func uploadZip(_ function: String, zip: Data, revisionId: String?, progress: UploadProgress?) async throws -> FunctionState {
        calls.append("upload")
        if let hook = beforeUpload { beforeUpload = nil; await hook(self) }
        // As a transport would: the request body is sent in pieces, then in full.
        let total = Int64(zip.count)
        for quarter in 1...4 { progress?(total * Int64(quarter) / 4, total) }
        try accept(code: String(decoding: zip, as: UTF8.self), revisionId: revisionId)
        return latestState
    }

    func uploadFromS3(_ function: String, bucket: String, key: String) async throws -> FunctionState {
        calls.append("uploadS3 \(bucket)/\(key)")
        return FunctionState(version: "$LATEST", codeSha256: latestCode, lastUpdateStatus: "InProgress", revisionId: latestRevision)
    }

    /// UpdateFunctionCode's checks, in AWS's order, then the update.
    private func accept(code: String, revisionId: String?) throws {
        settle()
        if update != nil { uploadsIntoUpdates += 1; throw LambdaConflict.updateInProgress }
        if let revisionId, revisionId != latestRevision { staleUploads += 1; throw LambdaConflict.preconditionFailed }
        acceptedUploads += 1
        latestCode = code
        latestRevision = nextRevision()
        update = (ContinuousClock.now + updateWindow, uploadBusyReads)
    }

    func waitUntilUpdated(_ function: String, beforeEachPoll: @escaping @Sendable () async throws -> Void) async throws -> FunctionState {
        try await beforeEachPoll()
        calls.append("wait")
        if let current = update, current.until > ContinuousClock.now { try await Task.sleep(until: current.until, clock: .continuous) }
        settle(force: true)
        if failingCodes.contains(latestCode) { throw Failure(message: "update failed: bad runtime") }
        return latestState
    }

    func publish(_ function: String, codeSha256: String, description: String) async throws -> FunctionState {
        calls.append("publish")
        if let hook = beforePublish { beforePublish = nil; await hook(self) }
        settle()
        if update != nil { publishesIntoUpdates += 1; throw LambdaConflict.updateInProgress }
        guard latestCode == codeSha256 || ignoresCodeSha256 else { throw LambdaConflict.preconditionFailed }
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
        if let hook = beforeUpdateAlias { beforeUpdateAlias = nil; await hook(self) }
        if failingAliasUpdates > 0 { failingAliasUpdates -= 1; throw Failure(message: "service unavailable") }
        guard let current = aliases[name] else { throw Failure(message: "alias not found") }
        if let revisionId, revisionId != current.revisionId { throw LambdaConflict.preconditionFailed }
        let alias = AliasState(name: name, version: version, revisionId: nextRevision(), description: description, additionalWeights: additionalWeights)
        aliases[name] = alias
        if let hook = afterUpdateAlias { afterUpdateAlias = nil; await hook(self) }
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
    func externalPublish() -> String { externalPublish(description: "") }

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
