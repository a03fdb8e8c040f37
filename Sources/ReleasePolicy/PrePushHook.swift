import Safety

/// One line of what git writes to a pre-push hook's stdin:
/// `<local ref> SP <local sha> SP <remote ref> SP <remote sha> LF` (githooks(5), "pre-push").
public struct PrePushUpdate: Sendable, Equatable {
    /// The local ref being pushed (`refs/heads/x`), or `(delete)` for a deletion.
    public var localRef: String
    public var localSha: String
    /// The ref updated on the remote.
    public var remoteRef: String
    /// The remote's current sha (all zeros when the ref is new there).
    public var remoteSha: String

    public init(localRef: String, localSha: String, remoteRef: String, remoteSha: String) {
        self.localRef = localRef
        self.localSha = localSha
        self.remoteRef = remoteRef
        self.remoteSha = remoteSha
    }

    /// A deletion (`git push origin :branch` or `--delete`): git sends an all-zero local sha.
    public var isDeletion: Bool { Self.isZero(localSha) }

    /// The ref does not exist on the remote yet.
    public var isNewOnRemote: Bool { Self.isZero(remoteSha) }

    /// Parses git's stdin. Empty input is normal (nothing to push, e.g. everything up to date).
    ///
    /// Each line is split from the right: the last three fields are fixed-format (sha, ref, sha,
    /// and refs cannot contain spaces), so whatever stands before them is the local ref, which
    /// keeps us robust if git ever passes a local expression with spaces. Blank lines and a
    /// trailing `\r` are tolerated; anything else malformed is an error naming the line.
    public static func parse(stdin: String) throws(PolicyError) -> [PrePushUpdate] {
        var updates: [PrePushUpdate] = []
        // "\r\n" is one Character in Swift, so split on any newline rather than on "\n".
        let lines = stdin.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        for (index, rawLine) in lines.enumerated() {
            var line = String(rawLine)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.trimmingWhitespace().isEmpty { continue }
            var fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count >= 4 else {
                throw .malformedPrePushLine(
                    lineNumber: index + 1, line: line, problem: "expected 4 fields, found \(fields.count)")
            }
            let remoteSha = fields.removeLast()
            let remoteRef = fields.removeLast()
            let localSha = fields.removeLast()
            let localRef = fields.joined(separator: " ")
            for (name, sha) in [("local sha", localSha), ("remote sha", remoteSha)] where !GitNames.isObjectID(sha) {
                throw .malformedPrePushLine(
                    lineNumber: index + 1, line: line,
                    problem: "\(name) \"\(sha)\" is not a 40- or 64-digit hex object id")
            }
            if let problem = GitNames.refProblem(remoteRef) {
                throw .malformedPrePushLine(
                    lineNumber: index + 1, line: line, problem: "remote ref \"\(remoteRef)\" is not a full ref name (\(problem))")
            }
            updates.append(PrePushUpdate(localRef: localRef, localSha: localSha, remoteRef: remoteRef, remoteSha: remoteSha))
        }
        return updates
    }

    static func isZero(_ sha: String) -> Bool {
        !sha.isEmpty && sha.utf8.allSatisfy { $0 == 48 }
    }
}

/// What the pre-push hook should do.
public struct HookDecision: Sendable, Equatable {
    public enum Action: String, Sendable, Equatable, Codable {
        case deploy
        case skip
    }

    public var action: Action
    /// The function this is for; nil when the config names at most one.
    public var function: String?
    /// `hook.alias` when deploying.
    public var alias: String?
    /// The pushed branch (as named on the remote) that matched `hook.branches`.
    public var branch: String?
    /// The local commit being pushed: the one to deploy (the caller checks it is HEAD and clean).
    public var commit: String?
    /// The remote's current sha for that branch, nil when the branch is new there: the caller
    /// checks it is an ancestor of `commit`, since a non-fast-forward push will be rejected.
    public var remoteSha: String?
    /// One sentence: why.
    public var reason: String

    public init(
        action: Action, alias: String?, branch: String?, commit: String?, remoteSha: String?, reason: String,
        function: String? = nil
    ) {
        self.action = action
        self.function = function
        self.alias = alias
        self.branch = branch
        self.commit = commit
        self.remoteSha = remoteSha
        self.reason = reason
    }

    static func skip(_ reason: String) -> HookDecision {
        HookDecision(action: .skip, alias: nil, branch: nil, commit: nil, remoteSha: nil, reason: reason)
    }
}

extension ReleasePolicy {
    /// Decides what a pre-push hook deploys, from git's stdin lines and the remote's name (the
    /// hook's first argument; git passes the URL instead when pushing to a URL).
    ///
    /// Ignores deletions, tags, `refs/notes/*` (pushing the notes ref runs the hook again), any
    /// non-branch ref, and remotes other than `hook.remote`. Deploys `hook.alias` for the first
    /// pushed branch matching `hook.branches`; when several match, the others are named in the
    /// reason (one push deploys one commit).
    /// A protected `hook.alias` is never deployed: the hook runs on developers' machines.
    public func decideHook(updates: [PrePushUpdate], remoteName: String) -> HookDecision {
        var decision = decideHookForConfig(updates: updates, remoteName: remoteName)
        decision.function = config.function
        return decision
    }

    /// The hook's decision for every function the config names, each with its own `hook:` keys
    /// (alias, branches) and `protected:`; the config as it is when it names none.
    public func decideHookAll(updates: [PrePushUpdate], remoteName: String) -> [HookDecision] {
        let targets = config.resolvedTargets
        guard !targets.isEmpty else { return [decideHook(updates: updates, remoteName: remoteName)] }
        return targets.map { ReleasePolicy(config: $0).decideHook(updates: updates, remoteName: remoteName) }
    }

    /// The decision the deploy checks protection from (`checkProtection`) for what the hook
    /// decided, as a deploy from this machine: `context` is the local one, its branch filled
    /// from the push.
    public func decision(forHook hook: HookDecision, context: CIContext) -> Decision {
        guard hook.action == .deploy, let alias = hook.alias else {
            return Decision(action: .skip, alias: nil, reason: hook.reason, context: context, function: hook.function, trigger: .hook)
        }
        var local = context
        if let branch = hook.branch { local.branch = branch }
        if let commit = hook.commit { local.commit = commit }
        var decision = decide(alias: alias, context: local, trigger: .hook)
        decision.function = hook.function ?? decision.function
        return decision
    }

    private func decideHookForConfig(updates: [PrePushUpdate], remoteName: String) -> HookDecision {
        let hook = config.hook
        guard remoteName == hook.remote else {
            return .skip("pushing to `\(Self.shown(remoteName))`, and the hook deploys only for pushes to `\(Self.shown(hook.remote))` (hook.remote)")
        }
        if config.isProtected(hook.alias) {
            return .skip("`\(hook.alias)` (hook.alias) is protected, and the hook runs on this machine, not in CI: it never deploys a protected alias")
        }
        if updates.isEmpty {
            return .skip("nothing is being pushed")
        }
        var ignored: [String] = []
        var candidates: [(branch: String, update: PrePushUpdate)] = []
        for update in updates {
            if update.isDeletion {
                ignored.append("deletion of \(update.remoteRef)")
                continue
            }
            if update.remoteRef.hasPrefix("refs/tags/") {
                ignored.append("tag \(Self.shown(String(update.remoteRef.dropFirst("refs/tags/".count))))")
                continue
            }
            if update.remoteRef.hasPrefix("refs/notes/") {
                ignored.append("notes \(Self.shown(update.remoteRef))")
                continue
            }
            guard update.remoteRef.hasPrefix("refs/heads/") else {
                ignored.append("\(Self.shown(update.remoteRef)) (not a branch)")
                continue
            }
            let branch = String(update.remoteRef.dropFirst("refs/heads/".count))
            if hook.branches.contains(where: { Glob($0).matches(branch) }) {
                candidates.append((branch, update))
            } else {
                ignored.append("branch \(Self.shown(branch)) (matches nothing in hook.branches)")
            }
        }
        guard let chosen = candidates.first else {
            return .skip("no pushed branch deploys: ignored \(ignored.joined(separator: ", "))")
        }
        var reason = "pushing branch `\(Self.shown(chosen.branch))` to `\(Self.shown(remoteName))` deploys `\(hook.alias)`"
        if candidates.count > 1 {
            reason += " (also pushed, not deployed: \(candidates.dropFirst().map { Self.shown($0.branch) }.joined(separator: ", ")))"
        }
        return HookDecision(
            action: .deploy, alias: hook.alias, branch: chosen.branch, commit: chosen.update.localSha,
            remoteSha: chosen.update.isNewOnRemote ? nil : chosen.update.remoteSha, reason: reason)
    }
}
