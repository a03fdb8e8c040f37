import Foundation
import Testing

/// `lambda-deploy status` (issue 16): which commit runs where.
@Suite struct StatusTests {
    @Test func statusSaysWhichCommitRunsWhereAndHowItRelatesToTheBranch() async throws {
        let space = try await GitWorkspace()
        let first = try space.head()
        #expect(try space.tool(["deploy", "--alias", "dev"]).status == 0)
        let prodDeploy = try space.tool(["--json"], extraEnv: space.travis(commit: first))
        #expect(prodDeploy.status == 0, "\(prodDeploy.output)")
        let prodVersion = try prodDeploy.json()["version"] as? String
        let second = try space.commitChange("v2")
        let devDeploy = try space.tool(["deploy", "--alias", "dev", "--json"])
        let devVersion = try devDeploy.json()["version"] as? String

        let result = try space.tool(["status", "--json"])
        #expect(result.status == 0, "\(result.output)")
        let report = try result.json()
        let rows = try #require(report["rows"] as? [[String: Any]])
        let prod = try #require(rows.first { $0["alias"] as? String == "prod" })
        let dev = try #require(rows.first { $0["alias"] as? String == "dev" })
        #expect(prod["commit"] as? String == first)
        #expect(prod["version"] as? String == prodVersion)
        #expect(prod["commitConfirmed"] as? Bool == true)
        #expect(prod["relation"] as? String == "1 commit behind main")
        #expect(prod["trigger"] as? String == "ci")
        #expect(dev["commit"] as? String == second)
        #expect(dev["version"] as? String == devVersion)
        #expect((dev["flags"] as? [String])?.isEmpty == true)
        let comparisons = report["comparisons"] as? [String] ?? []
        #expect(comparisons.contains("\(space.function): prod is 1 commit behind dev"), "\(comparisons)")

        let human = try space.tool(["status"])
        #expect(human.status == 0)
        #expect(human.stdout.contains("\(space.function):prod  v\(prodVersion ?? "?")  \(first.prefix(12))"), "\(human.stdout)")
    }

    @Test func anAliasMovedByHandIsFlaggedAndExitsFour() async throws {
        let space = try await GitWorkspace()
        #expect(try space.tool(["deploy", "--alias", "dev"]).status == 0)
        try space.commitChange("v2")
        #expect(try space.tool(["deploy", "--alias", "dev"]).status == 0)
        _ = try space.moto(["update-alias", space.function, "dev", "1"])
        let result = try space.tool(["status", "--json"])
        #expect(result.status == 4, "\(result.output)")
        let rows = try #require(try result.json()["rows"] as? [[String: Any]])
        let dev = try #require(rows.first { $0["alias"] as? String == "dev" })
        #expect((dev["flags"] as? [String])?.contains("drift") == true)
    }

    /// A commit that does not touch the function redeploys as `unchanged`: the alias keeps the
    /// description of the deploy that moved it, and that is no mismatch (found by ci/bench-fleet.sh).
    @Test func anUnchangedRedeployOnALaterCommitIsNoMismatch() async throws {
        let space = try await GitWorkspace()
        let first = try space.head()
        #expect(try space.tool(["deploy", "--alias", "dev"]).status == 0)
        try space.write("NOTES.md", "not part of the function\n")
        _ = try space.git(["add", "NOTES.md"])
        _ = try space.git(["commit", "-q", "-m", "docs only"])
        let second = try space.head()
        let again = try space.tool(["deploy", "--alias", "dev", "--json"])
        #expect(try again.json()["result"] as? String == "unchanged", "\(again.output)")

        let result = try space.tool(["status", "--json"])
        #expect(result.status == 0, "\(result.output)")
        let rows = try #require(try result.json()["rows"] as? [[String: Any]])
        let dev = try #require(rows.first { $0["alias"] as? String == "dev" })
        #expect((dev["flags"] as? [String]) == [], "\(dev)")
        #expect(dev["commitConfirmed"] as? Bool == true)
        #expect(dev["commit"] as? String == second, "the newest commit whose code it runs (moved at \(first))")
        #expect(dev["relation"] as? String == "on main")
    }

    @Test func offlineStatusNeedsNoAWS() async throws {
        let space = try await GitWorkspace()
        #expect(try space.tool(["deploy", "--alias", "dev"]).status == 0)
        let result = try space.tool(["status", "--offline", "--json"], extraEnv: ["AWS_ENDPOINT_URL": "http://127.0.0.1:9"])
        #expect(result.status == 0, "\(result.output)")
        let report = try result.json()
        #expect(report["offline"] as? Bool == true)
        let rows = try #require(report["rows"] as? [[String: Any]])
        #expect(rows.map { $0["alias"] as? String } == ["dev"])
    }
}
