import Foundation
import Testing

/// `promote`, `rollback` and traffic shifts against moto, from a repository whose `main` is on a
/// bare local remote (provenance is checked against the remote's branch).
@Suite struct PromoteEndToEndTests {
    func deployDev(_ space: GitWorkspace) throws -> String {
        let result = try space.tool(["deploy", "--alias", "dev", "--json"])
        #expect(result.status == 0, "\(result.output)")
        return try #require(try result.json()["version"] as? String)
    }

    @Test func promoteIsRefusedOnALaptopAndAllowedWithOverrideReusingDevsVersion() async throws {
        let space = try await GitWorkspace()
        let commit = try space.head()
        let version = try deployDev(space)
        let versionsBefore = try space.versions()

        let refused = try space.tool(["promote", "--from", "dev", "--to", "prod"])
        #expect(refused.status == 1, "\(refused.output)")
        #expect(refused.stderr.contains("protected"))
        #expect(refused.stderrLines.count == 1, "\(refused.stderr)")
        #expect(try space.alias("prod") == nil)

        let promoted = try space.tool(["promote", "--from", "dev", "--to", "prod", "--override-protection", "--json"])
        #expect(promoted.status == 0, "\(promoted.output)")
        let json = try promoted.json()
        #expect(json["result"] as? String == "promoted")
        #expect(json["commit"] as? String == commit)
        #expect(try space.alias("prod") == AliasSnapshot(version: version, weights: [:]))
        #expect(try space.versions() == versionsBefore, "no new version: the tested bytes are promoted")

        let record = try #require(try space.noteRecords(commit).last)
        #expect(record["trigger"] as? String == "promote")
        #expect(record["alias"] as? String == "prod")
        #expect(record["version"] as? String == version)
        #expect(record["promotedFrom"] as? String == "dev")
        #expect(record["overrideProtection"] as? Bool == true)

        let again = try space.tool(["promote", "--from", "dev", "--to", "prod", "--override-protection"])
        #expect(again.status == 0, "\(again.output)")
        #expect(again.stdout.contains("unchanged") && again.stdout.contains("already runs version \(version)"), "\(again.stdout)")
        #expect(try space.noteRecords(commit).count == 2, "a no-op writes no record")
    }

    @Test func promoteFromACIPushBuildOfMainNeedsNoOverride() async throws {
        let space = try await GitWorkspace()
        let commit = try space.head()
        let version = try deployDev(space)
        let result = try space.tool(["promote", "--from", "dev", "--to", "prod"], extraEnv: space.travis(commit: commit))
        #expect(result.status == 0, "\(result.output)")
        #expect(try space.alias("prod")?.version == version)
        #expect(result.stdout.contains("promoting commit \(commit.prefix(12))"))

        let pullRequest = space.travis(commit: commit).merging(["TRAVIS_PULL_REQUEST": "4", "TRAVIS_EVENT_TYPE": "pull_request"]) { $1 }
        try space.commitChange("pr")
        try space.git(["push", "-q", "origin", "main"])
        _ = try deployDev(space)
        let refused = try space.tool(["promote", "--from", "dev", "--to", "prod"], extraEnv: pullRequest)
        #expect(refused.status == 1, "\(refused.output)")
        #expect(refused.stderr.contains("protected"))
        #expect(try space.alias("prod")?.version == version)
    }

    @Test func aFeatureBranchDevDeployReachesProdOnlyWithAnyCommit() async throws {
        let space = try await GitWorkspace()
        let mainVersion = try deployDev(space)
        _ = try space.tool(["promote", "--from", "dev", "--to", "prod", "--override-protection"])
        try space.git(["checkout", "-q", "-b", "feature"])
        let feature = try space.commitChange("feature")
        let featureVersion = try deployDev(space)

        let refused = try space.tool(["promote", "--from", "dev", "--to", "prod", "--override-protection"])
        #expect(refused.status == 1, "\(refused.output)")
        #expect(refused.stderr.contains("not on branch 'main'"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--any-commit"))
        #expect(try space.alias("prod")?.version == mainVersion)

        let forced = try space.tool(["promote", "--from", "dev", "--to", "prod", "--override-protection", "--any-commit"])
        #expect(forced.status == 0, "\(forced.output)")
        #expect(try space.alias("prod")?.version == featureVersion)
        let record = try #require(try space.noteRecords(feature).last)
        #expect(record["trigger"] as? String == "promote")
        #expect(record["anyCommit"] as? Bool == true)
    }

    /// The default mapping sends both main and master to prod; a repository has only one of them.
    @Test func provenanceWorksInARepositoryWhoseMainBranchIsMaster() async throws {
        let space = try await GitWorkspace(branch: "master")
        let version = try deployDev(space)
        let promoted = try space.tool(["promote", "--from", "dev", "--to", "prod", "--override-protection"])
        #expect(promoted.status == 0, "\(promoted.output)")
        #expect(try space.alias("prod")?.version == version)

        try space.git(["checkout", "-q", "-b", "topic"])
        try space.commitChange("topic")
        _ = try deployDev(space)
        let refused = try space.tool(["promote", "--from", "dev", "--to", "prod", "--override-protection"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("is not on branch 'master' (mapped to prod)"), "\(refused.stderr)")
        #expect(try space.alias("prod")?.version == version)
    }

    @Test func rollbackReturnsProdToThePreviousVersionAndRefusesWithNoHistory() async throws {
        let space = try await GitWorkspace()
        let firstCommit = try space.head()
        let first = try space.tool(["deploy", "--alias", "prod", "--override-protection", "--json"])
        #expect(first.status == 0, "\(first.output)")
        let firstVersion = try #require(try first.json()["version"] as? String)

        let nothing = try space.tool(["rollback", "--alias", "prod", "--override-protection"])
        #expect(nothing.status == 1, "\(nothing.output)")
        #expect(nothing.stderr.contains("nothing to roll back"), "\(nothing.stderr)")
        #expect(nothing.stderrLines.count == 1)
        #expect(try space.alias("prod")?.version == firstVersion)

        let commit = try space.commitChange("v2")
        let second = try space.tool(["deploy", "--alias", "prod", "--override-protection", "--json"])
        let secondVersion = try #require(try second.json()["version"] as? String)
        #expect(secondVersion != firstVersion)

        let refused = try space.tool(["rollback", "--alias", "prod"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("protected"))
        #expect(try space.alias("prod")?.version == secondVersion)

        let back = try space.tool(["rollback", "--alias", "prod", "--override-protection", "--json"])
        #expect(back.status == 0, "\(back.output)")
        #expect(try back.json()["result"] as? String == "rolled-back")
        #expect(try space.alias("prod") == AliasSnapshot(version: firstVersion, weights: [:]))
        let records = try space.tool(["history", "--alias", "prod", "--json"]).jsonArray()
        #expect(records.first?["trigger"] as? String == "rollback")
        #expect(records.first?["version"] as? String == firstVersion)
        #expect(records.first?["previousVersion"] as? String == secondVersion)
        #expect(try space.noteRecords(commit).allSatisfy { $0["trigger"] as? String == "manual" }, "the rollback is recorded on the commit it returned to")
        #expect(try space.noteRecords(firstCommit).contains { $0["trigger"] as? String == "rollback" })
        let verify = try space.tool(["verify"])
        #expect(verify.status == 0, "the rollback record is the newest for prod: \(verify.output)")

        let missing = try space.tool(["rollback", "--alias", "staging"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("'staging' does not exist"), "\(missing.stderr)")
    }

    /// prod on the first version, dev on a second one built from a commit on main.
    func shiftSetUp(_ space: GitWorkspace) throws -> (old: String, new: String) {
        let old = try deployDev(space)
        let promoted = try space.tool(["promote", "--from", "dev", "--to", "prod", "--override-protection"])
        #expect(promoted.status == 0, "\(promoted.output)")
        try space.commitChange("v2")
        try space.git(["push", "-q", "origin", "main"])
        let new = try deployDev(space)
        #expect(new != old)
        return (old, new)
    }

    @Test func aWeightedPromoteRoutesTrafficAndFinishCompletesIt() async throws {
        let space = try await GitWorkspace()
        let (old, new) = try shiftSetUp(space)
        let shift = try space.tool(["promote", "--from", "dev", "--to", "prod", "--weight", "10", "--override-protection", "--json"])
        #expect(shift.status == 0, "\(shift.output)")
        #expect(try shift.json()["weight"] as? Double == 10)
        #expect(try space.alias("prod") == AliasSnapshot(version: old, weights: [new: 0.1]))

        let verify = try space.tool(["verify"])
        #expect(verify.status == 0, "a recorded shift is not drift: \(verify.output)")

        let finished = try space.tool(["promote", "--finish", "--to", "prod", "--override-protection"])
        #expect(finished.status == 0, "\(finished.output)")
        #expect(finished.stdout.contains("finished"))
        #expect(try space.alias("prod") == AliasSnapshot(version: new, weights: [:]))
        let verifyFinished = try space.tool(["verify"])
        #expect(verifyFinished.status == 0, "\(verifyFinished.output)")

        let nothingToFinish = try space.tool(["promote", "--finish", "--to", "prod", "--override-protection"])
        #expect(nothingToFinish.status == 1)
        #expect(nothingToFinish.stderr.contains("no traffic shift in progress"))
    }

    @Test func rollbackCancelsAShiftInProgress() async throws {
        let space = try await GitWorkspace()
        let (old, new) = try shiftSetUp(space)
        let shift = try space.tool(["promote", "--from", "dev", "--to", "prod", "--weight", "25", "--override-protection"])
        #expect(shift.status == 0, "\(shift.output)")
        #expect(try space.alias("prod") == AliasSnapshot(version: old, weights: [new: 0.25]))
        let cancelled = try space.tool(["rollback", "--alias", "prod", "--override-protection", "--json"])
        #expect(cancelled.status == 0, "\(cancelled.output)")
        #expect(try cancelled.json()["result"] as? String == "cancelled-shift")
        #expect(try space.alias("prod") == AliasSnapshot(version: old, weights: [:]))
        let verify = try space.tool(["verify"])
        #expect(verify.status == 0, "\(verify.output)")
    }

    struct WeightCase: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let badWeights = ["0", "100", "-5", "150"].flatMap { weight in
        [
            WeightCase(arguments: ["promote", "--from", "dev", "--to", "prod", "--override-protection", "--weight", weight]),
            WeightCase(arguments: ["promote", "--from", "dev", "--to", "prod", "--override-protection", "--weight=\(weight)"]),
            WeightCase(arguments: ["deploy", "--alias", "dev", "--weight", weight]),
        ]
    }

    @Test func aWeightOutOfRangeIsBadUsageAndChangesNothing() async throws {
        let space = try await GitWorkspace()
        let (old, new) = try shiftSetUp(space)
        try space.commitChange("v3")
        let versions = try space.versions()
        for bad in Self.badWeights {
            let result = try space.tool(bad.arguments)
            #expect(result.status == 64, "\(bad.testDescription): \(result.output)")
            #expect(result.stderr.contains("weight"), "\(bad.testDescription): \(result.stderr)")
        }
        #expect(try space.alias("prod") == AliasSnapshot(version: old, weights: [:]))
        #expect(try space.alias("dev") == AliasSnapshot(version: new, weights: [:]))
        #expect(try space.versions() == versions)
    }

    @Test func promotingFromAnAliasThatDoesNotExistNamesIt() async throws {
        let space = try await GitWorkspace()
        let result = try space.tool(["promote", "--from", "qa", "--to", "prod", "--override-protection"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("'qa' does not exist on \(space.function)"), "\(result.stderr)")
        #expect(try space.alias("prod") == nil)
    }
}
