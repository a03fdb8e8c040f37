internal import CLibgit2

/// How two commits relate, for `status` ("prod is 3 commits behind dev").
public struct CommitDistance: Sendable, Equatable {
    /// Commits reachable from the first and not from the second.
    public var ahead: Int
    /// Commits reachable from the second and not from the first.
    public var behind: Int
    // Built only by `GitRepository.distance` (the memberwise initializer).
}

extension GitRepository {
    /// How far `commit` is from `other`: commits only `commit` has (ahead) and only `other` has
    /// (behind), as `git rev-list --left-right --count commit...other`. nil when either commit is
    /// missing here (not fetched, a depth-1 clone).
    public func distance(from commit: String, to other: String) -> CommitDistance? {
        guard let a = try? commitObject(commit).id, let b = try? commitObject(other).id else { return nil }
        var ahead = 0, behind = 0
        var araw = a.raw, braw = b.raw
        guard git_graph_ahead_behind(&ahead, &behind, pointer, &araw, &braw) == 0 else { return nil }
        return CommitDistance(ahead: ahead, behind: behind)
    }

    /// The local branches (short names) whose tip is `commit` or a descendant of it.
    public func branchesContaining(_ commit: String) -> [String] {
        guard let target = try? commitObject(commit).id else { return [] }
        var iterator: OpaquePointer?
        guard git_branch_iterator_new(&iterator, pointer, GIT_BRANCH_LOCAL) == 0, let iterator else { return [] }
        defer { git_branch_iterator_free(iterator) }
        var names: [String] = []
        var reference: OpaquePointer?
        var type = GIT_BRANCH_LOCAL
        while git_branch_next(&reference, &type, iterator) == 0, let current = reference {
            defer { git_reference_free(current) }
            var name: UnsafePointer<CChar>?
            guard git_branch_name(&name, current) == 0, let name, let tip = git_reference_target(current) else { continue }
            var tipRaw = tip.pointee, targetRaw = target.raw
            let isTip = git_oid_equal(&tipRaw, &targetRaw) == 1
            if isTip || git_graph_descendant_of(pointer, &tipRaw, &targetRaw) == 1 { names.append(String(cString: name)) }
        }
        return names.sorted()
    }

    /// The tip of a local branch, else of its remote-tracking branch on `remote`; nil if neither.
    public func localTip(of branch: String, remote: String) -> String? {
        for ref in ["refs/heads/\(branch)", "refs/remotes/\(remote)/\(branch)"] {
            if let commit = try? resolveCommit(ref) { return commit }
        }
        return nil
    }
}
