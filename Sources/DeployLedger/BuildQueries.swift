internal import CLibgit2

// What the build step asks the repository.
extension GitRepository {
    /// The committer time of `revision`, in seconds since the epoch: what `git log -1
    /// --format=%ct REVISION` prints, and the `SOURCE_DATE_EPOCH` reproducible builds expect
    /// (https://reproducible-builds.org/docs/source-date-epoch/). The committer time, not the
    /// author's: a rebase or cherry-pick makes a new commit, and its build should say so.
    public func commitTime(_ revision: String) throws -> Int64 {
        let commit = try commitObject(revision)
        return Int64(git_commit_time(commit.pointer))
    }

    /// Whether the ignore rules (`.gitignore` files, `.git/info/exclude`, `core.excludesFile`)
    /// take `relativePath` (relative to the work tree; it need not exist). A build's output that
    /// is not ignored shows as an untracked change, and the deploy is recorded as dirty.
    public func isIgnored(_ relativePath: String) throws -> Bool {
        var ignored: Int32 = 0
        try check(git_ignore_path_is_ignored(&ignored, pointer, relativePath), "git_ignore_path_is_ignored")
        return ignored == 1
    }
}
