import Foundation
import Testing

/// The deploy ledger read back after real deploys: `history`, `show`, `verify`, `notes push|fetch`
/// between clones of one bare remote, and the same records through plain git.
@Suite struct LedgerEndToEndTests {
    /// dev at the first commit, dev again at a second commit, then prod (overridden) there.
    func threeDeploys(_ space: GitWorkspace) throws -> (first: String, second: String) {
        let first = try space.head()
        let one = try space.tool(["deploy", "--alias", "dev"])
        #expect(one.status == 0, "\(one.output)")
        let second = try space.commitChange("v2")
        let two = try space.tool(["deploy", "--alias", "dev"])
        #expect(two.status == 0, "\(two.output)")
        let three = try space.tool(["deploy", "--alias", "prod", "--override-protection"])
        #expect(three.status == 0, "\(three.output)")
        return (first, second)
    }

    @Test func historyListsNewestFirstAndFiltersByAliasLimitAndDate() async throws {
        let space = try await GitWorkspace()
        let (first, second) = try threeDeploys(space)

        let all = try space.tool(["history", "--json"])
        #expect(all.status == 0, "\(all.output)")
        let records = try all.jsonArray()
        #expect(records.map { $0["alias"] as? String } == ["prod", "dev", "dev"])
        #expect(records.map { $0["commit"] as? String } == [second, second, first])
        #expect(records.first?["overrideProtection"] as? Bool == true)
        let times = records.compactMap { $0["time"] as? String }
        #expect(times == times.sorted(by: >), "newest first")

        let human = try space.tool(["history"])
        #expect(human.status == 0)
        let lines = human.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.first?.contains("\(space.function):prod") == true)
        #expect(lines.first?.contains(String(second.prefix(12))) == true)
        #expect(lines.first?.contains("OVERRIDE") == true)
        #expect(lines.last?.contains("\(space.function):dev") == true)
        #expect(lines.last?.contains(String(first.prefix(12))) == true)
        #expect(lines.allSatisfy { $0.contains("manual") && $0.contains("main") })

        let dev = try space.tool(["history", "--alias", "dev", "--json"]).jsonArray()
        #expect(dev.count == 2 && dev.allSatisfy { $0["alias"] as? String == "dev" })
        let limited = try space.tool(["history", "--limit", "1", "--json"]).jsonArray()
        #expect(limited.count == 1 && limited.first?["alias"] as? String == "prod")
        #expect(try space.tool(["history", "--since", "2000-01-01", "--json"]).jsonArray().count == 3)
        #expect(try space.tool(["history", "--since", "2999-01-01", "--json"]).jsonArray().isEmpty)
        let none = try space.tool(["history", "--alias", "staging"])
        #expect(none.status == 0)
        #expect(none.stdout.contains("no deploy records for alias staging"))

        let badDate = try space.tool(["history", "--since", "last tuesday"])
        #expect(badDate.status == 64, "\(badDate.output)")
        #expect(badDate.stderr.contains("--since"))
    }

    @Test func showListsACommitsRecordsAndLiveSaysWhichAliasesRunIt() async throws {
        let space = try await GitWorkspace()
        let (first, second) = try threeDeploys(space)

        let head = try space.tool(["show", "--json"])
        #expect(head.status == 0, "\(head.output)")
        let shown = try head.json()
        #expect(shown["commit"] as? String == second)
        #expect((shown["records"] as? [[String: Any]])?.compactMap { $0["alias"] as? String }.sorted() == ["dev", "prod"])
        #expect(shown["liveAliases"] == nil, "AWS is asked only with --live")

        let live = try space.tool(["show", "HEAD", "--live", "--json"]).json()
        #expect(live["liveAliases"] as? [String] == ["\(space.function):dev", "\(space.function):prod"])
        let old = try space.tool(["show", first, "--live"])
        #expect(old.status == 0, "\(old.output)")
        #expect(old.stdout.hasPrefix("commit \(first)"))
        #expect(old.stdout.contains("runs now: no alias"))

        let nothing = try space.tool(["show", "no-such-revision"])
        #expect(nothing.status == 1)
        #expect(nothing.stderrLines.count == 1, "\(nothing.stderr)")
    }

    @Test func verifyIsQuietThenFindsAnAliasMovedByHand() async throws {
        let space = try await GitWorkspace()
        let one = try space.tool(["deploy", "--alias", "dev", "--json"]).json()
        try space.commitChange("v2")
        let two = try space.tool(["deploy", "--alias", "dev", "--json"]).json()
        let firstVersion = try #require(one["version"] as? String)
        #expect(two["version"] as? String != firstVersion)

        let clean = try space.tool(["verify"])
        #expect(clean.status == 0, "\(clean.output)")
        #expect(clean.stdout.contains("no drift"))

        _ = try space.moto(["update-alias", space.function, "dev", firstVersion])
        let drift = try space.tool(["verify"])
        #expect(drift.status == 4, "\(drift.output)")
        #expect(drift.stdout.contains("DRIFT dev"), "\(drift.stdout)")
        let json = try space.tool(["verify", "--json"])
        #expect(json.status == 4)
        let checks = try #require(try json.json()["checks"] as? [[String: Any]])
        #expect(checks.first?["status"] as? String == "drift")
        #expect(checks.first?["actualVersion"] as? String == firstVersion)
        #expect(checks.first?["recordedVersion"] as? String == two["version"] as? String)
    }

    /// Two developers deploy the same commit from their own clones; after `notes push` from both
    /// and `notes fetch`, each clone has both records on that commit, readable by plain git.
    @Test func notesPushAndFetchBetweenTwoClonesKeepEveryRecord() async throws {
        let space = try await GitWorkspace()
        let commit = try space.head()
        let other = space.root.path + "/other"
        try space.git(["clone", "-q", space.remote, other], cwd: space.root.path)

        #expect(try space.tool(["deploy", "--alias", "dev"]).status == 0)
        #expect(try space.tool(["deploy", "--alias", "qa"], cwd: other).status == 0)
        let pushA = try space.tool(["notes", "push"])
        #expect(pushA.status == 0, "\(pushA.output)")
        let pushB = try space.tool(["notes", "push"], cwd: other)
        #expect(pushB.status == 0, "B merges A's records before pushing, never forcing: \(pushB.output)")
        let fetchA = try space.tool(["notes", "fetch"])
        #expect(fetchA.status == 0, "\(fetchA.output)")

        for clone in [space.work, other] {
            let aliases = try space.tool(["history", "--json"], cwd: clone).jsonArray().compactMap { $0["alias"] as? String }
            #expect(aliases.sorted() == ["dev", "qa"], "in \(clone)")
            #expect(try space.noteRecords(commit, cwd: clone).count == 2)
            let log = try space.git(["log", "--notes=deploys", "--format=%H%n%N"], cwd: clone)
            #expect(log.contains("\"alias\":\"dev\"") && log.contains("\"alias\":\"qa\""), "\(log)")
        }
        // A third clone sees them with plain git, as the README says.
        let third = space.root.path + "/third"
        try space.git(["clone", "-q", space.remote, third], cwd: space.root.path)
        try space.git(["fetch", "-q", "origin", "refs/notes/deploys:refs/notes/deploys"], cwd: third)
        #expect(try space.noteRecords(commit, cwd: third).count == 2)
    }

    @Test func aCIDeployPushesItsRecordToTheRemote() async throws {
        let space = try await GitWorkspace()
        let commit = try space.head()
        let result = try space.tool(["--json"], extraEnv: space.travis(commit: commit))
        #expect(result.status == 0, "\(result.output)")
        let json = try result.json()
        #expect(json["alias"] as? String == "prod")
        #expect((json["record"] as? [String: Any])?["pushed"] as? Bool == true)
        #expect(try space.remoteRef("refs/notes/deploys") != nil)

        let clone = space.root.path + "/clone"
        try space.git(["clone", "-q", space.remote, clone], cwd: space.root.path)
        try space.git(["fetch", "-q", "origin", "refs/notes/deploys:refs/notes/deploys"], cwd: clone)
        let record = try #require(try space.noteRecords(commit, cwd: clone).first)
        #expect(record["trigger"] as? String == "ci")
        #expect(record["ci"] as? String == "travis")
        #expect(record["alias"] as? String == "prod")
        // The build number names the build; the job (9.1) is the matrix job within it (issue 14, D4).
        #expect(record["build"] as? String == "9")
        #expect(record["job"] as? String == "9.1")
    }

    @Test func aRecordThatCannotBePushedExitsThreeAndStaysLocalForNotesPush() async throws {
        let space = try await GitWorkspace()
        let commit = try space.head()
        try space.git(["remote", "set-url", "origin", space.root.path + "/nowhere.git"])
        let result = try space.tool(["deploy", "--alias", "dev", "--push-notes", "--json"])
        #expect(result.status == 3, "\(result.output)")
        let json = try result.json()
        #expect(json["result"] as? String == "deployed")
        #expect((json["record"] as? [String: Any])?["pushed"] as? Bool == false)
        #expect(result.stderr.contains("lambda-deploy notes push"))
        #expect(try space.noteRecords(commit).count == 1, "kept locally")
        #expect(try space.alias("dev") != nil, "the deploy itself happened")

        try space.git(["remote", "set-url", "origin", space.remote])
        let later = try space.tool(["notes", "push"])
        #expect(later.status == 0, "\(later.output)")
        #expect(try space.remoteRef("refs/notes/deploys") != nil)
    }

    @Test func historyOutsideARepositoryIsOneLine() async throws {
        let space = try await GitWorkspace(createFunctionInMoto: false)
        let outside = try TemporaryDirectory("outside")
        let result = try space.tool(["history"], cwd: outside.path)
        #expect(result.status == 1)
        #expect(result.stderrLines.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("not inside a git repository"))
        #expect(result.stdout.isEmpty)
    }
}
