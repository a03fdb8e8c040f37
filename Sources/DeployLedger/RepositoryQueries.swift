import Foundation
import Safety

/// The few questions about a repository the workflow asks through the `git` CLI, because git's
/// own answer is the one that counts (hook paths) or because they touch the network (a remote's
/// branch or notes ref). Every remote, branch and ref is checked before it reaches git and
/// passed after `--end-of-options`.
extension GitRepository {
    private func git(_ environment: [String: String]) throws -> GitCommand {
        try GitCommand.make(directory: workdir ?? gitDir, environment: environment)
    }

    /// The hooks directory exactly as git resolves it (`git rev-parse --git-path hooks`), so
    /// `core.hooksPath` and worktrees are honoured. Absolute.
    public func hooksDirectory(environment: [String: String]) throws -> String {
        let command = try git(environment)
        let output = try command.run(["rev-parse", "--git-path", "hooks"])
        guard output.status == 0 else {
            throw LedgerError.gitFailed(command: "git rev-parse --git-path hooks", detail: output.lastErrorLine)
        }
        let path = output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        if path.hasPrefix("/") { return path }
        let base = workdir ?? gitDir
        return URL(fileURLWithPath: (base.hasSuffix("/") ? base : base + "/") + path).standardizedFileURL.path
    }

    /// The tip of `branch`: the remote's (fetched now) when the repository has `remote`, else the
    /// local branch's. nil when neither exists.
    public func branchTip(_ branch: String, remote: String, environment: [String: String]) throws -> String? {
        if let problem = GitNames.branchProblem(branch) { throw LedgerError.invalidRef(ref: branch, problem: problem) }
        let remoteValue = try GitValue.remote(remote)
        let branchRef = try GitValue.ref("refs/heads/" + branch)
        let command = try git(environment)
        let remotes = try command.run(["remote"])
        if remotes.status == 0, remotes.stdout.split(whereSeparator: \.isNewline).contains(Substring(remote)) {
            let fetched = try command.run(["fetch", "--quiet", "--no-tags"], values: [remoteValue, branchRef])
            if fetched.status == 0 {
                let tip = try command.run(["rev-parse", "--verify", "--quiet", "FETCH_HEAD^{commit}"])
                if tip.status == 0 { return tip.stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
            }
            throw LedgerError.fetchFailed(remote: remote, notesRef: branchRef.text, detail: fetched.lastErrorLine)
        }
        do {
            return try resolveCommit(branchRef.text)
        } catch LedgerError.commitNotFound {
            return nil
        }
    }

    /// Whether `remote` has `ref`: nil when the remote cannot be asked (not a valid remote or
    /// ref, so never passed to git; it does not exist; it cannot be reached).
    public func remoteHasRef(_ ref: String, remote: String, environment: [String: String]) -> Bool? {
        guard let remoteValue = try? GitValue.remote(remote), let refValue = try? GitValue.ref(ref),
              let command = try? git(environment),
              let output = try? command.run(["ls-remote", "--exit-code"], values: [remoteValue, refValue])
        else { return nil }
        switch output.status {
        case 0: return true
        case 2: return false  // --exit-code: the remote answered, without that ref
        default: return nil
        }
    }
}
