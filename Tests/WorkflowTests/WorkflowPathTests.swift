import AWSClient
import Digest
import Packaging
import ReleasePolicy
import Foundation
import Testing
@testable import Workflow

/// A throwaway repository with a function directory and lambda-deploy.yml, read as a Project.
final class TestRepository: @unchecked Sendable {
    let path: String

    init(config: String = "function: pr\ndirectory: src\nregion: us-east-1\n") throws {
        path = NSTemporaryDirectory() + "workflow-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path + "/src", withIntermediateDirectories: true)
        try Data("def handler(e, c):\n    return 1\n".utf8).write(to: URL(fileURLWithPath: path + "/src/app.py"))
        try Data(config.utf8).write(to: URL(fileURLWithPath: path + "/lambda-deploy.yml"))
        try git(["init", "-q", "-b", "main"])
        try git(["add", "-A"])
        try git(["commit", "-q", "-m", "first"])
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func git(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.com"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: path)
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": path, "GIT_CONFIG_NOSYSTEM": "1"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func commit(_ body: String) throws -> String {
        try Data("def handler(e, c):\n    return \(body)\n".utf8).write(to: URL(fileURLWithPath: path + "/src/app.py"))
        try git(["commit", "-q", "-am", body])
        return try git(["rev-parse", "HEAD"])
    }

    func project(ci: [String: String] = [:]) throws -> Project {
        let variables = ["PATH": "/usr/bin:/bin", "HOME": path, "USER": "dev", "LAMBDA_DEPLOY_CACHE_DIR": path + "/.cache"].merging(ci) { $1 }
        return try Project(environment: RunEnvironment(variables: variables, currentDirectory: path), function: .one(nil))
    }

    /// The deploy records on `commit`, decoded.
    func records(_ commit: String) throws -> [[String: Any]] {
        try git(["notes", "--ref=deploys", "show", commit]).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}

extension FakeLambda {
    /// A function whose $LATEST holds code no package has (wrapped in ``CodeHashing``).
    static func forPackages() -> FakeLambda { FakeLambda(latestCode: "INITIAL") }
}

/// The workflow's paths that call AWS (deploy, promote, rollback, the hook), against the
/// in-memory Lambda model through injected Services: what issue 14 asked to be testable.
@Suite struct WorkflowPathTests {
    static func services(_ lambda: FakeLambda) -> Services {
        Services(region: "us-east-1", lambda: CodeHashing(lambda), clock: WorkflowClock { Date(timeIntervalSince1970: 1_800_000_000) })
    }

    @Test func aCIDeployWithoutTheDecisionIsRefusedBeforeAnyAWSCall() async throws {
        let repository = try TestRepository()
        let lambda = FakeLambda.forPackages()
        let pipeline = DeployPipeline(project: try repository.project(), reporter: .silent)
        let request = DeployRequest(alias: "prod", trigger: .ci)
        await #expect(throws: WorkflowError.notDecided(alias: "prod")) {
            _ = try await pipeline.run(request) { Self.services(lambda) }
        }
        #expect(await lambda.calls.isEmpty)
    }

    @Test func deployThenPromoteRecordsBothOnTheCommit() async throws {
        let repository = try TestRepository()
        let lambda = FakeLambda.forPackages()
        let project = try repository.project()
        let report = try await DeployPipeline(project: project, reporter: .silent)
            .run(DeployRequest(alias: "dev", trigger: .manual)) { Self.services(lambda) }
        #expect(report.outcome.result == .deployed)
        #expect(report.record?.written == true)

        var promote = PromoteRequest(to: "prod")
        promote.from = "dev"
        promote.anyCommit = true
        promote.overrideProtection = true
        let moved = try await AliasMoves(project: project, reporter: .silent).promote(promote, services: Self.services(lambda))
        #expect(moved.result == "promoted")
        #expect(await lambda.aliases["prod"]?.version == report.outcome.version)
        let records = try repository.records(try repository.git(["rev-parse", "HEAD"]))
        #expect(records.map { $0["trigger"] as? String } == ["manual", "promote"])
        #expect(records.last?["promotedFrom"] as? String == "dev")
        #expect(records.last?["time"] as? String == "2027-01-15T08:00:00.000Z")
    }

    @Test func rollbackGoesToTheVersionBeforeTheLatestMoveAndSaysWhatItReplaced() async throws {
        let repository = try TestRepository()
        let lambda = FakeLambda.forPackages()
        let project = try repository.project()
        let first = try await DeployPipeline(project: project, reporter: .silent)
            .run(DeployRequest(alias: "dev", trigger: .manual)) { Self.services(lambda) }
        _ = try repository.commit("2")
        let second = try await DeployPipeline(project: try repository.project(), reporter: .silent)
            .run(DeployRequest(alias: "dev", trigger: .manual)) { Self.services(lambda) }
        #expect(second.outcome.previousVersion == first.outcome.version)

        // Another client's move lands right before ours: the one loop re-reads and still arrives.
        await lambda.setLostAliasAnswers(1)
        let back = try await AliasMoves(project: try repository.project(), reporter: .silent)
            .rollback(RollbackRequest(alias: "dev"), services: Self.services(lambda))
        #expect(back.version == first.outcome.version)
        #expect(back.previousVersion == second.outcome.version)
        #expect(await lambda.aliases["dev"]?.version == first.outcome.version)
    }

    @Test func rollbackToAVersionThatDoesNotExistChangesNothing() async throws {
        let repository = try TestRepository()
        let lambda = FakeLambda.forPackages()
        let project = try repository.project()
        _ = try await DeployPipeline(project: project, reporter: .silent)
            .run(DeployRequest(alias: "dev", trigger: .manual)) { Self.services(lambda) }
        var request = RollbackRequest(alias: "dev")
        request.toVersion = "41"
        await #expect(throws: WorkflowError.rollbackTargetMissing(function: "pr", version: "41")) {
            _ = try await AliasMoves(project: project, reporter: .silent).rollback(request, services: Self.services(lambda))
        }
        #expect(await lambda.aliases["dev"]?.version == "1")
    }

    @Test func theHookDeploysThePushedHeadAndRecordsItAsAHookDeploy() async throws {
        let repository = try TestRepository()
        let lambda = FakeLambda.forPackages()
        let head = try repository.git(["rev-parse", "HEAD"])
        let zero = String(repeating: "0", count: 40)
        let stdin = Data("refs/heads/main \(head) refs/heads/main \(zero)\n".utf8)
        let result = try await HookManager(project: try repository.project())
            .prePush(remote: "origin", stdin: stdin, reporter: .silent) { Self.services(lambda) }
        #expect(result.action == "deploy", "\(result.message)")
        #expect(await lambda.aliases["dev"] != nil)
        #expect(try repository.records(head).first?["trigger"] as? String == "hook")
    }
}

/// Answers with AWS's CodeSha256 for uploaded zips (FakeLambda reads the bytes as the code id).
struct CodeHashing: LambdaOperations {
    let inner: FakeLambda
    init(_ inner: FakeLambda) { self.inner = inner }

    func function(_ name: String, qualifier: String?) async throws -> FunctionState { try await inner.function(name, qualifier: qualifier) }
    func alias(_ function: String, name: String) async throws -> AliasState? { try await inner.alias(function, name: name) }
    func uploadZip(_ function: String, zip: Data, progress: UploadProgress?) async throws -> FunctionState {
        let sha = Data(SHA256.hash(zip)).base64EncodedString()
        return try await inner.uploadZip(function, zip: Data(sha.utf8), progress: progress)
    }
    func uploadFromS3(_ function: String, bucket: String, key: String) async throws -> FunctionState { try await inner.uploadFromS3(function, bucket: bucket, key: key) }
    func waitUntilUpdated(_ function: String, beforeEachPoll: @escaping @Sendable () async throws -> Void) async throws -> FunctionState {
        try await inner.waitUntilUpdated(function, beforeEachPoll: beforeEachPoll)
    }
    func publish(_ function: String, codeSha256: String, description: String) async throws -> FunctionState {
        try await inner.publish(function, codeSha256: codeSha256, description: description)
    }
    func createAlias(_ function: String, name: String, version: String, description: String, additionalWeights: [String: Double]) async throws -> AliasState {
        try await inner.createAlias(function, name: name, version: version, description: description, additionalWeights: additionalWeights)
    }
    func updateAlias(_ function: String, name: String, version: String, description: String, additionalWeights: [String: Double], revisionId: String?) async throws -> AliasState {
        try await inner.updateAlias(function, name: name, version: version, description: description, additionalWeights: additionalWeights, revisionId: revisionId)
    }
    func versions(_ function: String) async throws -> [FunctionState] { try await inner.versions(function) }
    func aliases(_ function: String) async throws -> [AliasState] { try await inner.aliases(function) }
    func deleteVersion(_ function: String, version: String) async throws { try await inner.deleteVersion(function, version: version) }
    func provisionedQualifiers(_ function: String) async throws -> Set<String> { try await inner.provisionedQualifiers(function) }
    func accountStorage() async throws -> AccountStorage { try await inner.accountStorage() }
    func invoke(_ function: String, version: String, payload: Data) async throws -> InvokeResult {
        try await inner.invoke(function, version: version, payload: payload)
    }
}

/// The lint names a config may name (ReleasePolicy validates `lint.disable`) are exactly the
/// lints Packaging runs: the two modules cannot import each other, so this test holds them equal.
@Test func configLintNamesAreThePackagersLints() {
    #expect(Set(LintName.allCases.map(\.rawValue)) == Set(PackageLint.Name.allCases.map(\.rawValue)))
}
