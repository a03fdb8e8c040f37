import Foundation
import Testing
@testable import Workflow

/// The deploy's step order and race handling, against the in-memory Lambda model.
/// (The same flows run against moto in EndToEndTests; these cover what moto cannot do:
/// races at exact moments, lost answers, RevisionId checks.)
struct DeployerTests {
    /// A package whose "zip" bytes are its code id, which FakeLambda reads as the CodeSha256.
    static func package(_ code: String, bytes: Int64? = nil) throws -> PackagedCode {
        let path = NSTemporaryDirectory() + "fake-\(UUID().uuidString).zip"
        try Data(code.utf8).write(to: URL(fileURLWithPath: path))
        return PackagedCode(zipPath: path, codeSha256: code, sha256Hex: "hex-" + code, contentDigest: "digest-" + code, bytes: bytes ?? Int64(code.utf8.count))
    }

    static func deployer(_ lambda: FakeLambda, store: (any ObjectStore)? = nil) -> Deployer {
        Deployer(lambda: lambda, objectStore: store, reporter: .silent)
    }

    let target = Deployer.Target(function: "pr", region: "us-east-1", alias: "dev", commit: "abc123")

    @Test func firstDeployUploadsPublishesAndCreatesTheAlias() async throws {
        let lambda = FakeLambda(latestCode: "OLD")
        let outcome = try await Self.deployer(lambda).deploy(try Self.package("NEW"), to: target)
        #expect(outcome.result == .deployed)
        #expect(outcome.version == "1")
        #expect(outcome.previousVersion == nil)
        #expect(outcome.upload == .zip)
        #expect(await lambda.aliases["dev"]?.version == "1")
        #expect(await lambda.versions.map(\.codeSha256) == ["NEW"])
    }

    @Test func unchangedRedeployWritesNothing() async throws {
        let lambda = FakeLambda(latestCode: "NEW", publishedCodes: ["NEW"])
        await lambda.setAlias("dev", version: "1")
        let outcome = try await Self.deployer(lambda).deploy(try Self.package("NEW"), to: target)
        #expect(outcome.result == .unchanged)
        #expect(outcome.version == "1")
        let calls = await lambda.calls
        #expect(!calls.contains { $0.hasPrefix("upload") || $0 == "publish" || $0.hasPrefix("updateAlias") })
    }

    @Test func latestAlreadyHoldingTheCodeIsPublishedWithoutUploading() async throws {
        let lambda = FakeLambda(latestCode: "NEW", publishedCodes: ["OLD"])
        await lambda.setAlias("dev", version: "1")
        let outcome = try await Self.deployer(lambda).deploy(try Self.package("NEW"), to: target)
        #expect(outcome.result == .deployed)
        #expect(outcome.upload == .none)
        #expect(outcome.version == "2")
        #expect(outcome.previousVersion == "1")
        #expect(await !lambda.calls.contains("upload"))
    }

    @Test func dryRunSaysWhatWouldHappenAndChangesNothing() async throws {
        let lambda = FakeLambda(latestCode: "OLD", publishedCodes: ["OLD"])
        await lambda.setAlias("dev", version: "1")
        var dry = target
        dry.dryRun = true
        let outcome = try await Self.deployer(lambda).deploy(try Self.package("NEW"), to: dry)
        #expect(outcome.result == .dryRun)
        #expect(outcome.plan?.contains("move dev from version 1") == true)
        #expect(await lambda.versions.count == 1)
        #expect(await lambda.latestCode == "OLD")
    }

    @Test func aConcurrentUploadBeforePublishIsUploadedAgainNotPublishedAsOurs() async throws {
        let lambda = FakeLambda(latestCode: "OLD")
        await lambda.setBeforePublish { fake in await fake.externalUpload("FOREIGN") }
        let outcome = try await Self.deployer(lambda).deploy(try Self.package("NEW"), to: target)
        #expect(outcome.result == .deployed)
        let versions = await lambda.versions
        #expect(versions.map(\.codeSha256) == ["NEW"], "no version with foreign code may be published by us")
        #expect(await lambda.aliases["dev"]?.version == versions.first?.version)
        #expect(await lambda.calls.filter { $0 == "upload" }.count == 2)
    }

    @Test func aLostUpdateAliasAnswerIsRecognisedAsOurOwnMove() async throws {
        let lambda = FakeLambda(latestCode: "OLD", publishedCodes: ["OLD"])
        await lambda.setAlias("dev", version: "1")
        await lambda.setLostAliasAnswers(1)
        let outcome = try await Self.deployer(lambda).deploy(try Self.package("NEW"), to: target)
        #expect(outcome.result == .deployed)
        #expect(outcome.version == "2")
        #expect(outcome.previousVersion == "1")
        #expect(await lambda.aliases["dev"]?.version == "2")
    }

    @Test func anAliasMovedByAnotherDeployIsReReadAndUpdated() async throws {
        let lambda = FakeLambda(latestCode: "OLD", publishedCodes: ["OLD", "OTHER"])
        await lambda.setAlias("dev", version: "1")
        // Between our read of the alias and our update, another deploy moves it to version 2.
        await lambda.setBeforePublish { fake in await fake.setAlias("dev", version: "2") }
        let outcome = try await Self.deployer(lambda).deploy(try Self.package("NEW"), to: target)
        #expect(outcome.version == "3")
        #expect(outcome.previousVersion == "2", "the record must name what the alias really ran before our move")
        #expect(await lambda.aliases["dev"]?.version == "3")
    }

    @Test func aPersistentAliasFailureLeavesTheAliasAndReportsTheChange() async throws {
        let lambda = FakeLambda(latestCode: "OLD", publishedCodes: ["OLD"])
        await lambda.setAlias("dev", version: "1")
        await lambda.setFailingAliasUpdates(100)
        await #expect {
            _ = try await Self.deployer(lambda).deploy(try Self.package("NEW"), to: target)
        } throws: { error in
            guard let failure = error as? DeployFailure else { return false }
            return failure.changedAWS && failure.publishedVersion == "2" && failure.previousVersion == "1"
        }
        #expect(await lambda.aliases["dev"]?.version == "1")
    }

    @Test func aFailedUpdateStopsBeforePublishing() async throws {
        let lambda = FakeLambda(latestCode: "OLD")
        await lambda.setFailingCodes(["BROKEN"])
        await #expect(throws: DeployFailure.self) {
            _ = try await Self.deployer(lambda).deploy(try Self.package("BROKEN"), to: target)
        }
        #expect(await lambda.versions.isEmpty)
        #expect(await lambda.aliases.isEmpty)
    }

    @Test func weightedDeployKeepsTheMainVersionAndRoutesTheShare() async throws {
        let lambda = FakeLambda(latestCode: "OLD", publishedCodes: ["OLD"])
        await lambda.setAlias("prod", version: "1")
        var weighted = Deployer.Target(function: "pr", region: "us-east-1", alias: "prod")
        weighted.weight = 10
        let outcome = try await Self.deployer(lambda).deploy(try Self.package("NEW"), to: weighted)
        #expect(outcome.version == "2")
        let alias = await lambda.aliases["prod"]
        #expect(alias?.version == "1")
        #expect(alias?.additionalWeights == ["2": 0.1])
    }

    @Test func tooLargeWithoutABucketFailsBeforeAnyUpload() async throws {
        let lambda = FakeLambda(latestCode: "OLD")
        let big = try Self.package("NEW", bytes: 60_000_000)
        await #expect {
            _ = try await Self.deployer(lambda).deploy(big, to: target)
        } throws: { error in
            guard let failure = error as? DeployFailure else { return false }
            return !failure.changedAWS && (failure.errorDescription ?? "").contains("--s3-bucket")
        }
        #expect(await lambda.calls.allSatisfy { !$0.hasPrefix("upload") })
    }

    @Test func directUploadLimitMatchesLambdasRequestCap() {
        // 52,428,800 zip bytes base64-encode to 69,905,068 characters: just over the cap.
        #expect(Deployer.directRequestBytes(zipBytes: 50_000_000) <= Deployer.directUploadLimit)
        #expect(Deployer.directRequestBytes(zipBytes: 52_428_800) > Deployer.directUploadLimit)
    }

    @Test func aliasDescriptionKeepsThePreviousVersionForRollback() {
        let text = Deployer.aliasDescription(previous: "41", commit: "abc")
        #expect(Deployer.previousVersion(fromAliasDescription: text) == "41")
        #expect(Deployer.previousVersion(fromAliasDescription: "hand written") == nil)
        #expect(Deployer.versionDescription(commit: "c", contentDigest: String(repeating: "f", count: 64), extra: String(repeating: "x", count: 400)).count == 256)
    }
}
