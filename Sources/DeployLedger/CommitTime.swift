internal import CLibgit2

extension GitRepository {
    /// The committer time of `revision`, in seconds since the epoch: what `git log -1
    /// --format=%ct REVISION` prints, and the `SOURCE_DATE_EPOCH` reproducible builds expect
    /// (https://reproducible-builds.org/docs/source-date-epoch/). The committer time, not the
    /// author's: a rebase or cherry-pick makes a new commit, and its build should say so.
    public func commitTime(_ revision: String) throws -> Int64 {
        let commit = try commitObject(revision)
        return Int64(git_commit_time(commit.pointer))
    }
}
