import Foundation
import Testing

/// The built binary against a hostile ledger: a remote that is a git option (from a flag or from
/// lambda-deploy.yml), a notes ref that is not a notes commit, a note crafted to forge what
/// `history` prints. No AWS is involved: these paths only touch git.
@Suite struct HostileLedgerEndToEndTests {
    /// A repository with a lambda-deploy.yml (`extra` appended) and one commit; HOME private.
    final class Repo: @unchecked Sendable {
        let root: TemporaryDirectory
        let home: TemporaryDirectory
        let env: [String: String]
        var path: String { root.path + "/work" }

        init(config extra: String = "") throws {
            root = try TemporaryDirectory("hostile-ledger")
            home = try TemporaryDirectory("home")
            env = baseEnvironment(home: home.path)
            try EndToEndTests.git(["init", "-q", "-b", "main", path], cwd: root.path, env: env)
            try root.write("work/src/app.py", "def handler(e, c):\n    return 1\n")
            try root.write("work/lambda-deploy.yml", "function: orders\ndirectory: src\nregion: us-east-1\n" + extra)
            try git(["add", "-A"])
            try git(["commit", "-q", "-m", "first"])
        }

        @discardableResult
        func git(_ arguments: [String]) throws -> String {
            try EndToEndTests.git(arguments, cwd: path, env: env)
        }

        func tool(_ arguments: [String]) throws -> RunResult {
            try run(toolPath, arguments, cwd: path, env: env, timeout: 60)
        }
    }

    /// `notes fetch --remote=--upload-pack=CMD` and `notes push` the same way: CMD never runs;
    /// one error line names the remote, exit code below 128.
    @Test(arguments: ["fetch", "push"])
    func aRemoteFlagThatIsAGitOptionRunsNothing(_ subcommand: String) throws {
        let repo = try Repo()
        let marker = repo.root.path + "/pwned"
        for remote in ["--upload-pack=touch \(marker)", "--receive-pack=touch \(marker)", "ext::sh -c touch% \(marker)"] {
            let result = try repo.tool(["notes", subcommand, "--remote=\(remote)"])
            #expect(result.status != 0 && result.status < 128, "\(result.output)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(result.stderr.contains("remote"))
            #expect(!FileManager.default.fileExists(atPath: marker), "\(remote) ran a command")
        }
    }

    /// The same value in lambda-deploy.yml (`notes.remote`): fetch and push run nothing.
    @Test func aConfiguredRemoteThatIsAGitOptionRunsNothing() throws {
        let marker = NSTemporaryDirectory() + "pwned-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let repo = try Repo(config: "notes:\n  remote: \"--upload-pack=touch \(marker)\"\n  push: true\n")
        for arguments in [["notes", "fetch"], ["notes", "push"]] {
            let result = try repo.tool(arguments)
            #expect(result.status != 0 && result.status < 128, "\(arguments): \(result.output)")
            #expect(!result.stderr.isEmpty)
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    /// A notes ref that is a blob, a tree or a tag: history (text and JSON) and show fail with
    /// one line naming the ref and the repair, every time, never a crash.
    @Test(arguments: ["blob", "tree", "tag"])
    func aNotesRefThatIsNotACommitIsOneLine(_ kind: String) throws {
        let repo = try Repo()
        let object: String
        switch kind {
        case "blob": object = try repo.git(["hash-object", "-w", "lambda-deploy.yml"])
        case "tree": object = try repo.git(["write-tree"])
        default:
            try repo.git(["-c", "user.name=t", "-c", "user.email=t@t", "tag", "-a", "-m", "t", "v1"])
            object = try repo.git(["rev-parse", "v1"])
        }
        try repo.git(["update-ref", "refs/notes/deploys", object])
        for _ in 0..<3 {
            for arguments in [["history"], ["history", "--json"], ["show"]] {
                let result = try repo.tool(arguments)
                #expect(result.status != 0 && result.status < 128, "\(arguments) exit \(result.status): \(result.output)")
                #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
                #expect(result.stderr.contains("refs/notes/deploys"))
                #expect(result.stderr.contains("git update-ref -d refs/notes/deploys"))
            }
        }
    }

    /// A record whose branch holds a newline and a fake record, and whose actor holds escape
    /// sequences: `history` prints one line per record and no raw control byte; `--json` stays
    /// valid JSON.
    @Test func aForgedNoteCannotForgeAHistoryLine() throws {
        let repo = try Repo()
        let forged = #"{"actor":"eve\u001b]0;owned\u0007\u001b[2J","alias":"dev","branch":"main\n2099-01-01T00:00:00Z  pr:prod  v999  deadbeefdead  main  ci  deployed","function":"orders","region":"us-east-1","result":"deployed","schema":1,"time":"2024-05-01T12:00:00Z","tool":"x","trigger":"ci","version":"3"}"#
        try repo.git(["notes", "--ref=deploys", "add", "-m", forged, "HEAD"])
        let text = try repo.tool(["history"])
        #expect(text.status == 0, "\(text.output)")
        #expect(text.stdout.split(separator: "\n").count == 1, "\(text.stdout)")
        #expect(!text.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 })
        #expect(text.stdout.contains(#"main\n2099-01-01T00:00:00Z"#))
        let show = try repo.tool(["show"])
        #expect(show.status == 0)
        #expect(!show.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 })
        #expect(show.stdout.split(separator: "\n").count == 2, "\(show.stdout)")  // commit line + one record
        let json = try repo.tool(["history", "--json"])
        let array = try json.jsonArray()
        #expect(array.first?["branch"] as? String == "main\n2099-01-01T00:00:00Z  pr:prod  v999  deadbeefdead  main  ci  deployed")
    }
}
