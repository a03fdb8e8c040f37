import Foundation
import Testing

/// The pre-push hook as a developer meets it: `lambda-deploy hook install`, then a real
/// `git push` to a bare local remote runs the installed hook, which deploys `dev` in moto.
@Suite struct HookEndToEndTests {
    /// A hook that records its arguments and stdin in `directory`, then exits with the code in
    /// `directory/exit-code` (0 when absent).
    static func recordingHook(_ directory: String) -> String {
        """
        #!/bin/sh
        printf '%s\\n' "$*" > '\(directory)/chained-args'
        cat > '\(directory)/chained-stdin'
        exit "$(cat '\(directory)/exit-code' 2>/dev/null || echo 0)"
        """ + "\n"
    }

    func install(_ space: GitWorkspace, json: Bool = false) throws -> RunResult {
        let result = try space.tool(["hook", "install"] + (json ? ["--json"] : []))
        #expect(result.status == 0, "\(result.output)")
        return result
    }

    @Test func aPushOfMainThenOfAFeatureBranchRunsTheHookAndDeploysDev() async throws {
        let space = try await GitWorkspace()
        _ = try install(space)
        let mainCommit = try space.commitChange("main-2")
        let push = try space.gitResult(["push", "origin", "main"])
        #expect(push.status == 0, "\(push.output)")
        #expect(push.stderr.contains("deployed \(space.function):dev -> version"), "\(push.stderr)")
        let first = try #require(try space.alias("dev"))
        #expect(try space.remoteRef("refs/heads/main") == mainCommit)
        let record = try #require(try space.noteRecords(mainCommit).first)
        #expect(record["trigger"] as? String == "hook")
        #expect(record["alias"] as? String == "dev")
        #expect(record["version"] as? String == first.version)

        try space.git(["checkout", "-q", "-b", "feature/login"])
        let featureCommit = try space.commitChange("feature")
        let featurePush = try space.gitResult(["push", "-u", "origin", "feature/login"])
        #expect(featurePush.status == 0, "\(featurePush.output)")
        let second = try #require(try space.alias("dev"))
        #expect(second.version != first.version, "the feature push moved dev")
        let featureRecord = try #require(try space.noteRecords(featureCommit).first)
        #expect(featureRecord["branch"] as? String == "feature/login")
        #expect(featureRecord["version"] as? String == second.version)
    }

    @Test func aBranchOutsideHookBranchesDeploysNothing() async throws {
        let space = try await GitWorkspace(config: "hook:\n  branches: [\"main\"]\n")
        _ = try install(space)
        try space.git(["checkout", "-q", "-b", "feature"])
        let commit = try space.commitChange("feature")
        let push = try space.gitResult(["push", "origin", "feature"])
        #expect(push.status == 0, "\(push.output)")
        #expect(push.stderr.contains("matches nothing in hook.branches"), "\(push.stderr)")
        #expect(try space.alias("dev") == nil)
        #expect(try space.versions().isEmpty)
        #expect(try space.remoteRef("refs/heads/feature") == commit, "the push itself went through")
    }

    @Test func anExistingHookIsChainedRunsFirstWithTheSameStdinAndCanStopThePush() async throws {
        let space = try await GitWorkspace()
        let hooks = space.work + "/.git/hooks"
        try space.write("pre-push", Self.recordingHook(space.root.path), in: hooks, mode: 0o755)
        let installed = try install(space, json: true)
        #expect(try installed.json()["action"] as? String == "chained")
        #expect(space.read(HookChainName.chained, in: hooks) == Self.recordingHook(space.root.path))

        // The chained hook fails: the push stops before lambda-deploy deploys anything.
        try space.write("exit-code", "1\n", in: space.root.path)
        let before = try space.head()
        let commit = try space.commitChange("chained")
        let stopped = try space.gitResult(["push", "origin", "main"])
        #expect(stopped.status != 0, "\(stopped.output)")
        #expect(try space.alias("dev") == nil, "lambda-deploy must not run when the chained hook fails")
        #expect(try space.remoteRef("refs/heads/main") == before)

        // It succeeds: both run, the chained one seeing git's own arguments and stdin.
        try space.write("exit-code", "0\n", in: space.root.path)
        let push = try space.gitResult(["push", "origin", "main"])
        #expect(push.status == 0, "\(push.output)")
        #expect(space.read("chained-args", in: space.root.path) == "origin \(space.remote)\n")
        #expect(space.read("chained-stdin", in: space.root.path) == "refs/heads/main \(commit) refs/heads/main \(before)\n")
        #expect(try space.alias("dev") != nil)
        #expect(try space.remoteRef("refs/heads/main") == commit)
    }

    @Test func installingTwiceChangesNothingAndUninstallRestoresTheChainedHook() async throws {
        let space = try await GitWorkspace()
        let hooks = space.work + "/.git/hooks"
        try space.write("pre-push", Self.recordingHook(space.root.path), in: hooks, mode: 0o755)
        _ = try install(space)
        let script = try #require(space.read("pre-push", in: hooks))
        #expect(script.contains("hook pre-push"))

        let again = try install(space, json: true)
        #expect(try again.json()["action"] as? String == "already-installed")
        #expect(space.read("pre-push", in: hooks) == script)
        #expect(space.read(HookChainName.chained, in: hooks) == Self.recordingHook(space.root.path), "the chained hook is not wrapped twice")

        let removed = try space.tool(["hook", "uninstall"])
        #expect(removed.status == 0, "\(removed.output)")
        #expect(removed.stdout.contains("restored"))
        #expect(space.read("pre-push", in: hooks) == Self.recordingHook(space.root.path))
        #expect(!FileManager.default.fileExists(atPath: hooks + "/" + HookChainName.chained))
        #expect(FileManager.default.isExecutableFile(atPath: hooks + "/pre-push"))

        let twice = try space.tool(["hook", "uninstall", "--json"])
        #expect(twice.status == 0)
        #expect(try twice.json()["action"] as? String == "not-installed")
        #expect(space.read("pre-push", in: hooks) == Self.recordingHook(space.root.path))
    }

    @Test func aDirtyFunctionDirectoryIsRefusedAndThePushGoesOnWithAWarning() async throws {
        let space = try await GitWorkspace()
        _ = try install(space)
        let commit = try space.commitChange("committed")
        try space.write("src/app.py", GitWorkspace.handler("not committed"))
        let push = try space.gitResult(["push", "origin", "main"])
        #expect(push.status == 0, "\(push.output)")
        #expect(push.stderr.contains("WARNING"), "\(push.stderr)")
        #expect(push.stderr.contains("uncommitted changes"), "\(push.stderr)")
        #expect(try space.alias("dev") == nil)
        #expect(try space.remoteRef("refs/heads/main") == commit)
    }

    /// The network is down (nothing listens at the endpoint): the deploy fails, the push goes on.
    @Test func aFailedDeployWarnsAndLetsThePushGoOn() async throws {
        let space = try await GitWorkspace(createFunctionInMoto: false)
        _ = try install(space)
        let commit = try space.commitChange("offline")
        let offline = ["AWS_ENDPOINT_URL": "http://127.0.0.1:9", "LAMBDA_DEPLOY_MAX_ATTEMPTS": "1"]
        let push = try space.gitResult(["push", "origin", "main"], extraEnv: offline)
        #expect(push.status == 0, "\(push.output)")
        #expect(push.stderr.contains("WARNING: the dev deploy failed; the push goes on"), "\(push.stderr)")
        #expect(!push.output.contains("test-secret-value-never-printed"))
        #expect(try space.remoteRef("refs/heads/main") == commit)
    }

    @Test func blockPushOnFailureStopsThePushOfADirtyTree() async throws {
        let space = try await GitWorkspace(config: "hook:\n  blockPushOnFailure: true\n")
        _ = try install(space)
        let before = try space.head()
        try space.commitChange("committed")
        try space.write("src/app.py", GitWorkspace.handler("not committed"))
        let push = try space.gitResult(["push", "origin", "main"])
        #expect(push.status != 0, "\(push.output)")
        #expect(push.stderr.contains("blockPushOnFailure"), "\(push.stderr)")
        #expect(try space.alias("dev") == nil)
        #expect(try space.remoteRef("refs/heads/main") == before)
    }

    @Test func pushingABranchThatIsNotCheckedOutDeploysNothingAndSaysWhy() async throws {
        let space = try await GitWorkspace()
        _ = try install(space)
        try space.git(["checkout", "-q", "-b", "other"])
        let other = try space.commitChange("other")
        try space.git(["checkout", "-q", "main"])
        let push = try space.gitResult(["push", "origin", "other"])
        #expect(push.status == 0, "\(push.output)")
        #expect(push.stderr.contains("but HEAD is"), "\(push.stderr)")
        #expect(try space.alias("dev") == nil)
        #expect(try space.remoteRef("refs/heads/other") == other)
    }

    /// git rejects a non-fast-forward push itself, before the hook, which then sees no ref line;
    /// a forced push reaches the hook, which does not deploy (the remote may still refuse it).
    @Test func aNonFastForwardPushDeploysNothingForcedOrNot() async throws {
        let space = try await GitWorkspace()
        let colleague = space.root.path + "/colleague"
        try space.git(["clone", "-q", space.remote, colleague], cwd: space.root.path)
        let theirs = try space.commitChange("theirs", cwd: colleague)
        try space.git(["push", "-q", "origin", "main"], cwd: colleague)
        _ = try install(space)
        try space.git(["fetch", "-q", "origin"])
        try space.commitChange("mine")
        let push = try space.gitResult(["push", "origin", "main"])
        #expect(push.status != 0, "git rejects the push: \(push.output)")
        #expect(push.stderr.contains("non-fast-forward"), "\(push.stderr)")
        #expect(try space.alias("dev") == nil)
        #expect(try space.remoteRef("refs/heads/main") == theirs)

        let forced = try space.gitResult(["push", "--force", "origin", "main"])
        #expect(forced.status == 0, "\(forced.output)")
        #expect(forced.stderr.contains("forced push would drop"), "\(forced.stderr)")
        #expect(try space.alias("dev") == nil)
        #expect(try space.remoteRef("refs/heads/main") == space.head())
    }

    @Test func deletingARemoteBranchIsIgnored() async throws {
        let space = try await GitWorkspace()
        try space.git(["push", "-q", "origin", "main:gone"])
        _ = try install(space)
        let push = try space.gitResult(["push", "origin", ":gone"])
        #expect(push.status == 0, "\(push.output)")
        #expect(push.stderr.contains("deletion of refs/heads/gone"), "\(push.stderr)")
        #expect(try space.remoteRef("refs/heads/gone") == nil)
        #expect(try space.alias("dev") == nil)
    }

    /// With `notes.push: true` the hook's deploy pushes its record from inside the pre-push hook,
    /// which runs the hook again for `refs/notes/deploys`: that run, and a later push of the
    /// notes ref by hand, must not deploy (nor record) again.
    @Test func pushingTheNotesRefDoesNotDeployAgain() async throws {
        let space = try await GitWorkspace(config: "notes:\n  push: true\n")
        _ = try install(space)
        let commit = try space.commitChange("notes")
        let push = try space.gitResult(["push", "origin", "main"])
        #expect(push.status == 0, "\(push.output)")
        let dev = try #require(try space.alias("dev"))
        #expect(try space.remoteRef("refs/notes/deploys") != nil, "the hook shared its record")
        #expect(try space.noteRecords(commit).count == 1)

        let notesPush = try space.gitResult(["push", "origin", "refs/notes/deploys"])
        #expect(notesPush.status == 0, "\(notesPush.output)")
        #expect(try space.noteRecords(commit).count == 1, "no second record: the hook did not deploy")
        #expect(try space.alias("dev") == dev)
        #expect(try space.versions().count == 1)
    }

    @Test func lambdaDeploySkipAndNoVerifySkipTheHook() async throws {
        let space = try await GitWorkspace()
        _ = try install(space)
        let first = try space.commitChange("skip-1")
        let skipped = try space.gitResult(["push", "origin", "main"], extraEnv: ["LAMBDA_DEPLOY_SKIP": "1"])
        #expect(skipped.status == 0, "\(skipped.output)")
        #expect(skipped.stderr.contains("LAMBDA_DEPLOY_SKIP"))
        #expect(try space.remoteRef("refs/heads/main") == first)

        let second = try space.commitChange("skip-2")
        let noVerify = try space.gitResult(["push", "--no-verify", "origin", "main"])
        #expect(noVerify.status == 0, "\(noVerify.output)")
        #expect(try space.remoteRef("refs/heads/main") == second)
        #expect(try space.alias("dev") == nil)
    }

    struct GarbageCase: Sendable, CustomTestStringConvertible {
        var stdin: String
        var testDescription: String { stdin.debugDescription }
    }

    @Test(arguments: [
        GarbageCase(stdin: "hello\n"),
        GarbageCase(stdin: "refs/heads/main abc refs/heads/main def\n"),
        GarbageCase(stdin: "refs/heads/main \(String(repeating: "a", count: 40)) main \(String(repeating: "0", count: 40))\n"),
        GarbageCase(stdin: "refs/heads/main \(String(repeating: "z", count: 40)) refs/heads/main \(String(repeating: "0", count: 40))\n"),
    ])
    func garbageOnStdinIsAOneLineErrorWhenRunDirectly(_ garbage: GarbageCase) async throws {
        let space = try await GitWorkspace(createFunctionInMoto: false)
        let result = try space.tool(["hook", "pre-push", "origin", space.remote], stdin: garbage.stdin)
        #expect(result.status != 0)
        #expect(result.stderrLines.count == 1, "one line: \(result.stderr)")
        #expect(result.stderr.hasPrefix("error: "), "\(result.stderr)")
    }

    @Test func coreHooksPathIsHonoured() async throws {
        let space = try await GitWorkspace()
        try space.git(["config", "core.hooksPath", ".githooks"])
        let installed = try install(space, json: true)
        #expect(try installed.json()["path"] as? String == space.work + "/.githooks/pre-push")
        #expect(FileManager.default.isExecutableFile(atPath: space.work + "/.githooks/pre-push"))
        #expect(!FileManager.default.fileExists(atPath: space.work + "/.git/hooks/pre-push"))

        try space.write(".gitignore", ".githooks/\n")
        try space.git(["add", ".gitignore"])
        try space.commitChange("hooks-path")
        let push = try space.gitResult(["push", "origin", "main"])
        #expect(push.status == 0, "\(push.output)")
        #expect(try space.alias("dev") != nil, "git ran the hook from core.hooksPath: \(push.stderr)")
    }

    @Test func huskyGetsTheLineToAddInsteadOfAFile() async throws {
        let space = try await GitWorkspace(createFunctionInMoto: false)
        try FileManager.default.createDirectory(atPath: space.work + "/.husky", withIntermediateDirectories: true)
        let result = try install(space, json: true)
        let json = try result.json()
        #expect(json["action"] as? String == "manager")
        let message = try #require(json["message"] as? String)
        #expect(message.contains(".husky/pre-push"))
        #expect(message.contains("lambda-deploy hook pre-push \"$@\""))
        #expect(!FileManager.default.fileExists(atPath: space.work + "/.git/hooks/pre-push"))
        #expect(!FileManager.default.fileExists(atPath: space.work + "/.husky/pre-push"))
        let human = try install(space)
        #expect(human.stdout.contains("husky"))
    }
}

/// The file name lambda-deploy keeps a chained hook under (part of what users see in .git/hooks).
enum HookChainName {
    static let chained = "pre-push.lambda-deploy-chained"
}
