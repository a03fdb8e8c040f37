import Safety

/// Branch names as CI services report them, reduced to the name a user writes in `branches:`.
public enum BranchName {
    /// The outcome of normalising a reported branch.
    public enum Normalized: Sendable, Equatable {
        case branch(String)
        /// Not a branch at all: a pull-request ref, a Jenkins `PR-123`, a detached `HEAD`, a tag ref.
        case refused(reason: String)
    }

    /// Strips `refs/heads/` and a leading `origin/` (Jenkins' `GIT_BRANCH`), and refuses what only
    /// looks like a branch: `refs/pull/*` (GitHub/Azure PR merge refs), `PR-*` (Jenkins
    /// multibranch PR jobs), `HEAD` (a detached checkout), `refs/tags/*`, `refs/merge-requests/*`.
    public static func normalize(_ raw: String) -> Normalized {
        var name = raw.trimmingWhitespace()
        let raw = DisplayText.excerpt(raw, limit: 100)  // quoted in reasons only
        if name.isEmpty { return .refused(reason: "the branch name is empty") }
        if name.hasPrefix("refs/heads/") {
            name = String(name.dropFirst("refs/heads/".count))
        } else if name.hasPrefix("refs/remotes/origin/") {
            name = String(name.dropFirst("refs/remotes/origin/".count))
        } else if name.hasPrefix("origin/") {
            name = String(name.dropFirst("origin/".count))
        }
        if name.hasPrefix("refs/pull/") || name.hasPrefix("pull/") {
            return .refused(reason: "`\(raw)` is a pull-request ref, not a branch")
        }
        if name.hasPrefix("refs/merge-requests/") {
            return .refused(reason: "`\(raw)` is a merge-request ref, not a branch")
        }
        if name.hasPrefix("refs/tags/") {
            return .refused(reason: "`\(raw)` is a tag ref, not a branch")
        }
        if name.hasPrefix("refs/") {
            return .refused(reason: "`\(raw)` is not a branch ref")
        }
        if name == "HEAD" || name.isEmpty {
            return .refused(reason: "`\(raw)` is a detached HEAD, not a branch")
        }
        if name.hasPrefix("PR-"), name.dropFirst(3).allSatisfy(\.isNumber), name.count > 3 {
            return .refused(reason: "`\(raw)` is a Jenkins pull-request job, not a branch")
        }
        return .branch(name)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.isWhitespace { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
