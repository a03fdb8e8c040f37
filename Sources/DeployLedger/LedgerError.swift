public import Foundation

/// Everything that can go wrong while reading, writing or sharing deployment records.
///
/// Each description is one line that names the commit, ref or remote involved and says what to
/// do next, because the executable prints it as-is.
public enum LedgerError: LocalizedError, Equatable, Sendable {
    /// The path is not inside a git repository (only thrown where a repository is required).
    case noRepository(path: String)
    /// A revision did not resolve to a commit in this repository.
    case commitNotFound(revision: String)
    /// A libgit2 call failed; `call` names the C function, `message` is `git_error_last()`.
    case libgit2(call: String, code: Int32, message: String)
    /// The note could not be written to the notes ref.
    case cannotWriteNote(commit: String, notesRef: String, reason: String)
    /// A record could not be encoded as JSON.
    case cannotEncodeRecord(reason: String)
    /// The `git` executable could not be started.
    case gitNotRunnable(path: String, reason: String)
    /// `git fetch` failed; `detail` is the last line git wrote to stderr.
    case fetchFailed(remote: String, notesRef: String, detail: String)
    /// `git push` failed for a reason other than a non-fast-forward rejection.
    case pushFailed(remote: String, notesRef: String, detail: String)
    /// The push kept being rejected as non-fast-forward (other jobs pushing at the same time).
    case pushRejected(remote: String, notesRef: String, attempts: Int)
    /// The record was written locally but could not be shared; `reason` is the underlying failure.
    case recordNotShared(commit: String, remote: String, reason: String)
    /// The repository is shallow and the history needed to answer is missing.
    case shallowHistory(revision: String)

    public var errorDescription: String? {
        switch self {
        case let .noRepository(path):
            return "\(path) is not inside a git repository: run lambda-deploy from the repository that holds the function, or pass its path"
        case let .commitNotFound(revision):
            return "commit '\(revision)' not found in this repository: fetch it (git fetch) or name an existing commit"
        case let .libgit2(call, code, message):
            return "\(call) failed (libgit2 error \(code)): \(message)"
        case let .cannotWriteNote(commit, notesRef, reason):
            return "cannot write the deploy record note on \(commit) in \(notesRef): \(reason)"
        case let .cannotEncodeRecord(reason):
            return "cannot encode the deploy record as JSON: \(reason)"
        case let .gitNotRunnable(path, reason):
            return "cannot run git at \(path): \(reason); install git or put it on PATH"
        case let .fetchFailed(remote, notesRef, detail):
            return "git fetch of \(notesRef) from \(remote) failed: \(detail)"
        case let .pushFailed(remote, notesRef, detail):
            return "git push of \(notesRef) to \(remote) failed: \(detail)"
        case let .pushRejected(remote, notesRef, attempts):
            return "push of \(notesRef) to \(remote) was rejected as non-fast-forward \(attempts) times (other jobs are pushing records): run `lambda-deploy notes push` later"
        case let .recordNotShared(commit, remote, reason):
            return "the deploy record on \(commit) is kept locally but was not pushed to \(remote) (\(reason)); run `lambda-deploy notes push` to send it later"
        case let .shallowHistory(revision):
            return "the history needed to check '\(revision)' is missing from this shallow clone: run `git fetch --unshallow` (or clone with more depth)"
        }
    }
}

/// Removes `user:password@` from URLs inside a message so credentials never reach output.
func redactingCredentials(_ text: String) -> String {
    // Matches scheme://userinfo@ and keeps scheme:// only.
    var result = ""
    var rest = Substring(text)
    while let schemeRange = rest.range(of: "://") {
        result += rest[..<schemeRange.upperBound]
        rest = rest[schemeRange.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == " " || $0 == "\t" || $0 == "'" || $0 == "\"" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") {
            rest = rest[rest.index(after: at)...]
        }
    }
    result += rest
    return result
}
