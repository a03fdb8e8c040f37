import AWSClient
import Foundation
import Testing
@testable import Workflow

/// `prune` against the in-memory Lambda model: what is never deleted, and races.
@Suite struct PruneTests {
    static func lambda(versions: Int) -> FakeLambda {
        FakeLambda(latestCode: "C\(versions)", publishedCodes: (1...versions).map { "C\($0)" })
    }

    static func services(_ lambda: FakeLambda) -> Services { Services(region: "us-east-1", lambda: lambda) }

    @Test func keepsAliasedWeightedNewestProvisionedAndRollbackTargets() async throws {
        let repository = try TestRepository()
        let head = try repository.git(["rev-parse", "HEAD"])
        // The ledger: prod moved 30 -> 40 -> 50 -> 60 -> 70 (the last three moves keep 40..70).
        for (from, to) in [(30, 40), (40, 50), (50, 60), (60, 70)] {
            let line = #"{"alias":"prod","function":"pr","region":"us-east-1","result":"deployed","schema":1,"time":"2026-12-0\#(from / 10)T10:00:00.000Z","tool":"t","trigger":"ci","version":"\#(to)","previousVersion":"\#(from)"}"#
            try repository.git(["notes", "--ref=deploys", "append", "-m", line, head])
        }
        let lambda = Self.lambda(versions: 120)
        await lambda.setAlias("prod", version: "70")
        await lambda.setAlias("dev", version: "100", weights: ["101": 0.1])
        await lambda.setProvisioned(["5"])

        let report = try await Prune(project: try repository.project(), reporter: .silent)
            .run(PruneRequest(keep: 10), services: Self.services(lambda))
        let kept = Set(report.versions.filter { $0.action == "kept" }.map(\.version))
        let expected: Set<String> = Set(["70", "100", "101", "5", "40", "50", "60"] + (111...120).map(String.init))
        #expect(kept == expected)
        #expect(!kept.contains("30"))  // the fourth move back is no longer a rollback target
        let remaining = Set(await lambda.versions.map(\.version))
        #expect(remaining == expected)
        #expect(report.deleted.count == 120 - expected.count)
        #expect(report.versions.first { $0.version == "101" }?.reason.contains("share of traffic") == true)
    }

    @Test func dryRunChangesNothing() async throws {
        let repository = try TestRepository()
        let lambda = Self.lambda(versions: 30)
        await lambda.setAlias("prod", version: "3")
        let report = try await Prune(project: try repository.project(), reporter: .silent)
            .run(PruneRequest(keep: 5, dryRun: true), services: Self.services(lambda))
        #expect(await lambda.versions.count == 30)
        #expect(await lambda.deleted.isEmpty)
        #expect(report.deleted.count == 24)
        #expect(report.versions.allSatisfy { $0.action != "deleted" })
    }

    @Test func aVersionPublishedOrAliasedMeanwhileIsNeverDeleted() async throws {
        let repository = try TestRepository()
        let lambda = Self.lambda(versions: 20)
        await lambda.setAlias("prod", version: "20")
        // While prune deletes version 2, a deploy publishes version 21 and a rollback moves prod to 3.
        await lambda.setBeforeDelete { lambda, version in
            guard version == "2" else { return }
            _ = await lambda.externalPublish()
            await lambda.setAlias("prod", version: "3")
        }
        let report = try await Prune(project: try repository.project(), reporter: .silent)
            .run(PruneRequest(keep: 1), services: Self.services(lambda))
        let remaining = Set(await lambda.versions.map(\.version))
        #expect(remaining.contains("21"))
        #expect(remaining.contains("3"))
        #expect(report.versions.first { $0.version == "3" }?.reason == "an alias moved onto it meanwhile")
        #expect(!report.versions.contains { $0.version == "21" })
    }

    @Test func keepBelowOneIsRefused() async throws {
        let repository = try TestRepository()
        let lambda = Self.lambda(versions: 3)
        await #expect(throws: WorkflowError.invalidKeep(0)) {
            _ = try await Prune(project: try repository.project(), reporter: .silent).run(PruneRequest(keep: 0), services: Self.services(lambda))
        }
        #expect(await lambda.deleted.isEmpty)
    }
}
