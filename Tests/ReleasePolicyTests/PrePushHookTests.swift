import Testing
@testable import ReleasePolicy

let zero = String(repeating: "0", count: 40)
let a = String(repeating: "a", count: 40)
let b = String(repeating: "b", count: 40)

struct MalformedLine: Sendable, CustomTestStringConvertible {
    var stdin: String
    var lineNumber: Int
    var testDescription: String { stdin.debugDescription }
}

@Suite("Pre-push hook")
struct PrePushHookTests {
    let policy = ReleasePolicy(config: .default)

    @Test("empty stdin is normal", arguments: ["", "\n", "\n\n  \n"])
    func emptyStdin(_ stdin: String) throws {
        #expect(try PrePushUpdate.parse(stdin: stdin).isEmpty)
        #expect(policy.decideHook(updates: [], remoteName: "origin").action == .skip)
    }

    @Test("parses git's lines, including CRLF, slashes and unicode in branch names")
    func parsesLines() throws {
        let stdin = "refs/heads/feature/ü-login \(a) refs/heads/feature/ü-login \(b)\r\nrefs/heads/main \(b) refs/heads/main \(zero)\n"
        let updates = try PrePushUpdate.parse(stdin: stdin)
        #expect(updates == [
            PrePushUpdate(localRef: "refs/heads/feature/ü-login", localSha: a, remoteRef: "refs/heads/feature/ü-login", remoteSha: b),
            PrePushUpdate(localRef: "refs/heads/main", localSha: b, remoteRef: "refs/heads/main", remoteSha: zero),
        ])
        #expect(updates.last?.isNewOnRemote == true)
    }

    @Test("splits from the right: whatever precedes the last three fields is the local ref")
    func splitsFromRight() throws {
        let updates = try PrePushUpdate.parse(stdin: "HEAD~1 with space \(a) refs/heads/main \(b)\n")
        #expect(updates.first?.localRef == "HEAD~1 with space")
        #expect(updates.first?.remoteRef == "refs/heads/main")
    }

    @Test("accepts SHA-256 object ids")
    func sha256() throws {
        let long = String(repeating: "c", count: 64)
        #expect(try PrePushUpdate.parse(stdin: "refs/heads/x \(long) refs/heads/x \(long)").count == 1)
    }

    @Test("malformed lines are errors naming the line", arguments: [
        MalformedLine(stdin: "refs/heads/main \(a) refs/heads/main\n", lineNumber: 1),
        MalformedLine(stdin: "refs/heads/main \(a) refs/heads/main \(b)\ngarbage\n", lineNumber: 2),
        MalformedLine(stdin: "refs/heads/main notasha refs/heads/main \(b)\n", lineNumber: 1),
        MalformedLine(stdin: "refs/heads/main \(a) refs/heads/main 1234\n", lineNumber: 1),
        MalformedLine(stdin: "refs/heads/main \(a) main \(b)\n", lineNumber: 1),
    ])
    func malformed(_ c: MalformedLine) {
        do {
            _ = try PrePushUpdate.parse(stdin: c.stdin)
            Issue.record("expected an error")
        } catch {
            guard case let .malformedPrePushLine(lineNumber, _, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(lineNumber == c.lineNumber)
            #expect(error.localizedDescription.contains("line \(c.lineNumber)"))
        }
    }

    @Test("a pushed branch deploys dev with the commit being pushed")
    func deploysBranch() throws {
        let updates = try PrePushUpdate.parse(stdin: "refs/heads/feature/x \(a) refs/heads/feature/x \(b)\n")
        let decision = policy.decideHook(updates: updates, remoteName: "origin")
        #expect(decision == HookDecision(
            action: .deploy, alias: "dev", branch: "feature/x", commit: a, remoteSha: b,
            reason: "pushing branch `feature/x` to `origin` deploys `dev`"))
    }

    @Test("a new branch has no remote sha to check")
    func newBranch() throws {
        let updates = try PrePushUpdate.parse(stdin: "refs/heads/new \(a) refs/heads/new \(zero)\n")
        let decision = policy.decideHook(updates: updates, remoteName: "origin")
        #expect(decision.action == .deploy)
        #expect(decision.remoteSha == nil)
    }

    @Test("the remote branch name is what matches (git push origin feature:main)")
    func remoteRefMatches() throws {
        let policy = ReleasePolicy(config: try DeployConfig.parse(yaml: "hook: {branches: [main]}", file: "f"))
        let updates = try PrePushUpdate.parse(stdin: "refs/heads/feature \(a) refs/heads/main \(b)\n")
        #expect(policy.decideHook(updates: updates, remoteName: "origin").branch == "main")
    }

    @Test("deletions, tags, notes and non-branch refs are ignored", arguments: [
        "(delete) \(zero) refs/heads/feature/x \(a)",
        "refs/tags/v1 \(a) refs/tags/v1 \(zero)",
        "refs/notes/deploys \(a) refs/notes/deploys \(b)",
        "refs/heads/x \(a) refs/for/main \(zero)",
    ])
    func ignored(_ line: String) throws {
        let updates = try PrePushUpdate.parse(stdin: line + "\n")
        let decision = policy.decideHook(updates: updates, remoteName: "origin")
        #expect(decision.action == .skip)
        #expect(decision.reason.hasPrefix("no pushed branch deploys"))
    }

    @Test("only the configured remote deploys")
    func otherRemote() throws {
        let updates = try PrePushUpdate.parse(stdin: "refs/heads/main \(a) refs/heads/main \(b)\n")
        let decision = policy.decideHook(updates: updates, remoteName: "https://github.com/acme/api.git")
        #expect(decision.action == .skip)
        #expect(decision.reason.contains("hook.remote"))
    }

    @Test("hook.branches filters, and an unmatched branch says so")
    func branchFilter() throws {
        let policy = ReleasePolicy(config: try DeployConfig.parse(yaml: "hook: {branches: ['feature/*']}", file: "f"))
        let miss = try PrePushUpdate.parse(stdin: "refs/heads/fix/y \(a) refs/heads/fix/y \(b)\n")
        let decision = policy.decideHook(updates: miss, remoteName: "origin")
        #expect(decision.action == .skip)
        #expect(decision.reason.contains("fix/y (matches nothing in hook.branches)"))
        let hit = try PrePushUpdate.parse(stdin: "refs/heads/feature/y \(a) refs/heads/feature/y \(b)\n")
        #expect(policy.decideHook(updates: hit, remoteName: "origin").action == .deploy)
    }

    @Test("a push of a deletion and a branch deploys the branch; several branches deploy the first and name the rest")
    func mixedPush() throws {
        let updates = try PrePushUpdate.parse(stdin: """
            (delete) \(zero) refs/heads/old \(a)
            refs/notes/deploys \(a) refs/notes/deploys \(zero)
            refs/heads/one \(a) refs/heads/one \(zero)
            refs/heads/two \(b) refs/heads/two \(zero)
            """)
        let decision = policy.decideHook(updates: updates, remoteName: "origin")
        #expect(decision.action == .deploy)
        #expect(decision.branch == "one")
        #expect(decision.commit == a)
        #expect(decision.reason.contains("also pushed, not deployed: two"))
    }
}
