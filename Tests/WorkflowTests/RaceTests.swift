import Foundation
import Testing
import ReleasePolicy
@testable import Workflow

/// Deploys racing each other on one function and alias, against the in-memory Lambda model with
/// AWS's update window (409), RevisionIds (412) and version descriptions: each race at an exact
/// moment, and several deploys at once.
@Suite struct RaceTests {
    /// Commit ids of a linear history c[0] < c[1] < c[2] < c[3], and two unrelated ones.
    static let c = (1...4).map { String(repeating: String($0), count: 40) }
    static let unrelatedA = String(repeating: "a", count: 40)
    static let unrelatedB = String(repeating: "b", count: 40)

    /// Ancestry as git would answer in a clone holding `known` (nil for any other commit).
    static func ancestry(known: [String] = c + [unrelatedA, unrelatedB]) -> AncestryCheck {
        { ancestor, descendant in
            guard known.contains(ancestor), known.contains(descendant) else { return nil }
            if let a = c.firstIndex(of: ancestor), let d = c.firstIndex(of: descendant) { return a <= d }
            return ancestor == descendant
        }
    }

    /// A deployer with the turn-taking pauses shrunk to milliseconds.
    /// The budget is wall-clock time: in a full `swift test` run the end-to-end suites block the
    /// cooperative threads while their processes run, and eight deploys here once went 30 s
    /// without being scheduled. 300 s keeps it a hang detector without counting that wait.
    static func deployer(_ lambda: FakeLambda, budget: Duration = .seconds(300)) -> Deployer {
        var deployer = Deployer(lambda: lambda, objectStore: nil, reporter: .silent)
        deployer.turns.poll = .milliseconds(4)
        deployer.turns.grace = .milliseconds(4)
        deployer.turns.graceJitter = .milliseconds(4)
        deployer.turns.startJitter = .milliseconds(4)
        deployer.turns.backoffBase = .milliseconds(4)
        deployer.turns.backoffCap = .milliseconds(20)
        deployer.turns.budget = budget
        return deployer
    }

    static func target(commit: String, build: BuildOrder? = nil, branch: String? = "main", allowOlder: Bool = false, ancestry: AncestryCheck? = ancestry()) -> Deployer.Target {
        var target = Deployer.Target(function: "pr", region: "us-east-1", alias: "dev", commit: commit)
        target.buildOrder = build
        target.branch = branch
        target.allowOlder = allowOlder
        target.isAncestor = ancestry
        return target
    }

    /// The description another deploy of `commit` would have given its version.
    static func description(commit: String, build: BuildOrder? = nil, branch: String? = "main") -> String {
        Deployer.versionDescription(commit: commit, contentDigest: "digest-of-\(commit)", build: build, branch: branch, extra: nil)
    }

    /// A function whose alias `dev` runs `code` published by a deploy of `commit`.
    static func lambda(aliasRuns code: String, commit: String, build: BuildOrder? = nil, branch: String? = "main") async -> FakeLambda {
        let lambda = FakeLambda(latestCode: code)
        let version = await lambda.addVersion(code: code, description: description(commit: commit, build: build, branch: branch))
        await lambda.setAlias("dev", version: version)
        return lambda
    }

    static func travis(_ number: UInt64, scope: String = "0123abcd") -> BuildOrder { BuildOrder(service: .travis, number: number, scope: scope) }

    // MARK: - Never backwards

    @Test func anOlderDeployLeavesTheAliasOnADescendantAndUploadsNothing() async throws {
        let lambda = await Self.lambda(aliasRuns: "C3", commit: Self.c[2])
        let outcome = try await Self.deployer(lambda).deploy(try DeployerTests.package("C1"), to: Self.target(commit: Self.c[0]))
        #expect(outcome.result == .superseded)
        #expect(outcome.supersededByVersion == "1")
        #expect(outcome.supersededByCommit == Self.c[2])
        #expect(outcome.version == nil, "nothing was published")
        #expect(await lambda.aliases["dev"]?.version == "1")
        let calls = await lambda.calls
        #expect(!calls.contains { $0.hasPrefix("upload") || $0 == "publish" || $0.hasPrefix("updateAlias") }, "\(calls)")
    }

    @Test func allowOlderMovesTheAliasBackOnPurpose() async throws {
        let lambda = await Self.lambda(aliasRuns: "C3", commit: Self.c[2])
        let outcome = try await Self.deployer(lambda).deploy(try DeployerTests.package("C1"), to: Self.target(commit: Self.c[0], allowOlder: true))
        #expect(outcome.result == .deployed)
        #expect(outcome.version == "2")
        #expect(await lambda.aliases["dev"]?.version == "2")
    }

    @Test func aNewerCommitMovesTheAliasForward() async throws {
        let lambda = await Self.lambda(aliasRuns: "C1", commit: Self.c[0])
        let outcome = try await Self.deployer(lambda).deploy(try DeployerTests.package("C2"), to: Self.target(commit: Self.c[1]))
        #expect(outcome.result == .deployed)
        #expect(await lambda.aliases["dev"]?.version == outcome.version)
    }

    @Test func unrelatedCommitsAreLastWriterWins() async throws {
        let lambda = await Self.lambda(aliasRuns: "A", commit: Self.unrelatedA)
        let outcome = try await Self.deployer(lambda).deploy(try DeployerTests.package("B"), to: Self.target(commit: Self.unrelatedB))
        #expect(outcome.result == .deployed)
        #expect(outcome.previousVersion == "1")
        #expect(await lambda.aliases["dev"]?.version == outcome.version)
    }

    @Test func aVersionLambdaDeployDidNotDescribeIsReplaced() async throws {
        let lambda = FakeLambda(latestCode: "HAND")
        let version = await lambda.addVersion(code: "HAND", description: "uploaded by hand, commit=main build=soon branch=xyz")
        await lambda.setAlias("dev", version: version)
        let outcome = try await Self.deployer(lambda).deploy(try DeployerTests.package("C1"), to: Self.target(commit: Self.c[0], build: Self.travis(1)))
        #expect(outcome.result == .deployed)
        #expect(await lambda.aliases["dev"]?.version == outcome.version)
    }

    struct BuildCase: Sendable, CustomTestStringConvertible {
        var theirs: BuildOrder?
        var theirBranch: String?
        var ours: BuildOrder?
        var expected: DeployOutcome.Result
        var testDescription: String { "theirs \(theirs?.text ?? "none") on \(theirBranch ?? "?"), ours \(ours?.text ?? "none") -> \(expected)" }
    }

    /// A depth-1 clone: neither commit's history is here, so the build numbers decide.
    @Test(arguments: [
        BuildCase(theirs: travis(12), theirBranch: "main", ours: travis(11), expected: .superseded),
        BuildCase(theirs: travis(10), theirBranch: "main", ours: travis(11), expected: .deployed),
        BuildCase(theirs: travis(12), theirBranch: "feature", ours: travis(11), expected: .deployed),
        BuildCase(theirs: travis(12, scope: "ffff0000"), theirBranch: "main", ours: travis(11), expected: .deployed),
        BuildCase(theirs: BuildOrder(service: .githubActions, number: 12, scope: "0123abcd"), theirBranch: "main", ours: travis(11), expected: .deployed),
        BuildCase(theirs: nil, theirBranch: "main", ours: travis(11), expected: .deployed),
        BuildCase(theirs: travis(12), theirBranch: nil, ours: travis(11), expected: .deployed),
        BuildCase(theirs: BuildOrder(service: .githubActions, number: 7, attempt: 2, scope: "0123abcd"), theirBranch: "main",
                  ours: BuildOrder(service: .githubActions, number: 7, attempt: 1, scope: "0123abcd"), expected: .superseded),
    ])
    func whereAncestryIsUnknownALaterBuildOfTheSameBranchWins(_ race: BuildCase) async throws {
        let lambda = await Self.lambda(aliasRuns: "THEIRS", commit: Self.c[3], build: race.theirs, branch: race.theirBranch)
        let shallow = Self.ancestry(known: [])
        let outcome = try await Self.deployer(lambda).deploy(
            try DeployerTests.package("OURS"), to: Self.target(commit: Self.c[0], build: race.ours, branch: "main", ancestry: shallow))
        #expect(outcome.result == race.expected)
        #expect(await lambda.aliases["dev"]?.version == (race.expected == .superseded ? "1" : "2"))
    }

    @Test func aNewerDeployTakingTheAliasDuringTheMoveStopsOurs() async throws {
        let lambda = await Self.lambda(aliasRuns: "C1", commit: Self.c[0])
        // Right as our UpdateAlias goes out, a deploy of c4 publishes and moves the alias.
        await lambda.setBeforeUpdateAlias { fake in
            let newer = await fake.addVersion(code: "C4", description: RaceTests.description(commit: RaceTests.c[3]))
            await fake.setAlias("dev", version: newer)
        }
        let outcome = try await Self.deployer(lambda).deploy(try DeployerTests.package("C2"), to: Self.target(commit: Self.c[1]))
        #expect(outcome.result == .superseded)
        #expect(outcome.version == "2", "our version was published before the newer deploy showed")
        #expect(outcome.supersededByVersion == "3")
        #expect(outcome.supersededByCommit == Self.c[3])
        #expect(await lambda.aliases["dev"]?.version == "3", "the alias stays on the newer deploy")
    }

    @Test func aNewerDeployThatTookTheAliasWhileWeWaitedEndsOursBeforeItUploads() async throws {
        let lambda = await Self.lambda(aliasRuns: "C1", commit: Self.c[0])
        // A deploy of c4 is updating $LATEST when ours starts; it publishes and moves dev meanwhile.
        await lambda.externalUpload("C4", busyReads: 2)
        await lambda.setWhileUpdating { fake in
            let newer = await fake.addVersion(code: "C4", description: RaceTests.description(commit: RaceTests.c[3]))
            await fake.setAlias("dev", version: newer)
        }
        await lambda.setBeforeUpload { _ in Issue.record("an older deploy uploaded") }
        let outcome = try await Self.deployer(lambda).deploy(try DeployerTests.package("C2"), to: Self.target(commit: Self.c[1]))
        #expect(outcome.result == .superseded)
        #expect(outcome.supersededByVersion == "2")
        #expect(outcome.supersededByCommit == Self.c[3])
        #expect(await lambda.aliases["dev"]?.version == "2")
    }

    @Test func aMoveReplacedRightAfterItLandedEndsSupersededNotFailed() async throws {
        let lambda = await Self.lambda(aliasRuns: "A", commit: Self.unrelatedA)
        // Our UpdateAlias lands; before we read the alias back, another deploy moves it on.
        await lambda.setAfterUpdateAlias { fake in
            let other = await fake.addVersion(code: "C", description: RaceTests.description(commit: RaceTests.c[0]))
            await fake.setAlias("dev", version: other)
        }
        let outcome = try await Self.deployer(lambda).deploy(try DeployerTests.package("B"), to: Self.target(commit: Self.unrelatedB))
        #expect(outcome.result == .superseded)
        #expect(outcome.version == "2")
        #expect(outcome.supersededByVersion == "3")
        #expect(outcome.supersededByCommit == Self.c[0])
    }

    // MARK: - Taking turns on $LATEST

    @Test func anUpdateInProgressIsWaitedOutNotUploadedInto() async throws {
        let lambda = FakeLambda(latestCode: "OLD")
        await lambda.externalUpload("FOREIGN", busyReads: 3)
        let outcome = try await Self.deployer(lambda).deploy(try DeployerTests.package("NEW"), to: Self.target(commit: Self.unrelatedB))
        #expect(outcome.result == .deployed)
        #expect(await lambda.uploadsIntoUpdates == 0, "a body was sent into an update in progress")
        #expect(await lambda.acceptedUploads == 1)
        #expect(await lambda.versions.map(\.codeSha256) == ["NEW"])
    }

    @Test func aLostRaceFor412BacksOffAndUploadsOnceTheWinnerIsDone() async throws {
        let lambda = FakeLambda(latestCode: "OLD")
        // Between our read of $LATEST and our upload, another deploy's upload lands and ends.
        await lambda.setBeforeUpload { fake in
            await fake.externalUpload("FOREIGN")
            _ = await fake.externalPublish(description: RaceTests.description(commit: RaceTests.unrelatedA))
        }
        let outcome = try await Self.deployer(lambda).deploy(try DeployerTests.package("NEW"), to: Self.target(commit: Self.unrelatedB))
        #expect(outcome.result == .deployed)
        #expect(await lambda.staleUploads == 1, "our first upload carried the RevisionId it was decided from")
        #expect(await lambda.uploadsIntoUpdates == 0)
        let versions = await lambda.versions
        #expect(versions.map(\.codeSha256) == ["FOREIGN", "NEW"], "the winner's version stands; ours holds our code")
        #expect(outcome.version == "2")
    }

    @Test func a409OnTheUploadIsNeverSentAgainIntoTheUpdate() async throws {
        let lambda = FakeLambda(latestCode: "OLD")
        // Another deploy's upload is accepted right before ours, and its update is still running.
        await lambda.setBeforeUpload { fake in await fake.externalUpload("FOREIGN", busyReads: 3) }
        let outcome = try await Self.deployer(lambda).deploy(try DeployerTests.package("NEW"), to: Self.target(commit: Self.unrelatedB))
        #expect(outcome.result == .deployed)
        #expect(await lambda.uploadsIntoUpdates == 1, "one refused upload, then waiting, not another body into the update")
        #expect(await lambda.acceptedUploads == 1)
        #expect(await lambda.versions.map(\.codeSha256) == ["NEW"])
    }

    @Test func a409OnThePublishIsWaitedOutAndOurCodeStillPublished() async throws {
        let lambda = FakeLambda(latestCode: "OLD")
        // After our update ended, another deploy's upload started before our publish.
        await lambda.setBeforePublish { fake in await fake.externalUpload("FOREIGN", busyReads: 2) }
        let outcome = try await Self.deployer(lambda).deploy(try DeployerTests.package("NEW"), to: Self.target(commit: Self.unrelatedB))
        #expect(outcome.result == .deployed)
        #expect(await lambda.publishesIntoUpdates == 1)
        #expect(await lambda.uploadsIntoUpdates == 0)
        let versions = await lambda.versions
        #expect(versions.map(\.codeSha256) == ["NEW"], "no version holds another deploy's code")
        #expect(await lambda.aliases["dev"]?.version == outcome.version)
    }

    @Test func aLambdaThatIgnoresCodeSha256StillEndsWithOurOwnVersion() async throws {
        // moto publishes $LATEST whatever CodeSha256 the request names.
        let lambda = FakeLambda(latestCode: "OLD")
        await lambda.setIgnoresCodeSha256(true)
        await lambda.setBeforePublish { fake in await fake.externalUpload("FOREIGN") }
        let outcome = try await Self.deployer(lambda).deploy(try DeployerTests.package("NEW"), to: Self.target(commit: Self.unrelatedB))
        #expect(outcome.result == .deployed)
        let versions = await lambda.versions
        #expect(versions.first { $0.version == outcome.version }?.codeSha256 == "NEW")
        #expect(await lambda.aliases["dev"]?.version == outcome.version)
    }

    // MARK: - Bounded

    @Test func aDeployThatNeverGetsItsTurnSaysWhoHeldItAndChangesNothing() async throws {
        let lambda = FakeLambda(latestCode: "OLD")
        await lambda.externalUpload("FOREIGN", busyReads: 1_000_000)
        await lambda.externalPublish(description: Self.description(commit: Self.c[3]))
        let error = await #expect(throws: DeployFailure.self) {
            _ = try await Self.deployer(lambda, budget: .milliseconds(60)).deploy(
                try DeployerTests.package("NEW"), to: Self.target(commit: Self.unrelatedB))
        }
        #expect(error?.changedAWS == false, "nothing was uploaded: no failed record")
        #expect(error?.underlying as? WorkflowError == .noTurn(function: "pr", seconds: 0, other: Self.c[3]))
        let message = error?.errorDescription ?? ""
        #expect(message.contains("commit \(Self.c[3].prefix(12))"))
        #expect(!message.contains("\n"))
        #expect(await lambda.acceptedUploads == 0)
    }

    // MARK: - Several at once

    @Test(arguments: [2, 4, 8])
    func unrelatedDeploysAtOnceAllDeployAndEachVersionHoldsItsOwnCode(_ count: Int) async throws {
        let lambda = FakeLambda(latestCode: "OLD", publishedCodes: ["OLD"])
        await lambda.setAlias("dev", version: "1")
        await lambda.setUpdateWindow(.milliseconds(15))
        let commits = (0..<count).map { String(format: "%040x", 0xc0ffee + $0) }
        let outcomes = try await withThrowingTaskGroup(of: (Int, DeployOutcome).self) { group in
            for index in 0..<count {
                group.addTask {
                    let unrelated: AncestryCheck = { ancestor, descendant in ancestor == descendant }
                    return (index, try await Self.deployer(lambda).deploy(
                        try DeployerTests.package("CODE\(index)"), to: Self.target(commit: commits[index], ancestry: unrelated)))
                }
            }
            var all: [Int: DeployOutcome] = [:]
            for try await (index, outcome) in group { all[index] = outcome }
            return all
        }
        let versions = await lambda.versions
        for (index, outcome) in outcomes {
            #expect(outcome.result == .deployed, "deploy \(index)")
            #expect(versions.first { $0.version == outcome.version }?.codeSha256 == "CODE\(index)", "deploy \(index)'s version holds its code")
        }
        #expect(Set(versions.dropFirst().map(\.codeSha256)).count == versions.count - 1, "no code published twice, none foreign")
        let alias = await lambda.aliases["dev"]?.version
        let running = versions.first { $0.version == alias }?.codeSha256
        #expect(running.map { $0.hasPrefix("CODE") } == true)
        // (Deploys that start at the same instant may all send their first upload: only one is
        // accepted. What follows a refusal is each race's own test above.)
    }

    @Test func orderedDeploysAtOnceLeaveTheAliasOnTheNewest() async throws {
        let lambda = FakeLambda(latestCode: "OLD", publishedCodes: ["OLD"])
        await lambda.setAlias("dev", version: "1")
        await lambda.setUpdateWindow(.milliseconds(15))
        let outcomes = try await withThrowingTaskGroup(of: DeployOutcome.self) { group in
            for index in (0..<4).reversed() {
                group.addTask { try await Self.deployer(lambda).deploy(try DeployerTests.package("C\(index + 1)"), to: Self.target(commit: Self.c[index])) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let versions = await lambda.versions
        let running = await lambda.aliases["dev"]?.version
        #expect(versions.first { $0.version == running }?.codeSha256 == "C4")
        #expect(outcomes.allSatisfy { $0.result == .deployed || $0.result == .superseded })
        #expect(outcomes.first { $0.codeSha256 == "C4" }?.result == .deployed)
    }
}
