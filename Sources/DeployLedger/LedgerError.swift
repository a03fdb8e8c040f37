public import Foundation
import Safety

/// Everything that can go wrong while reading, writing or sharing deployment records.
///
/// Each description is one line that names the commit, ref or remote involved and says what to
/// do next, because the executable prints it as-is. Values from outside (a remote from the
/// config, a ref, git's own messages) are shown escaped and with URL credentials masked.
public enum LedgerError: LocalizedError, Equatable, Sendable {
    /// The path is not inside a git repository (only thrown where a repository is required).
    case noRepository(path: String)
    /// A revision did not resolve to a commit in this repository.
    case commitNotFound(revision: String)
    /// A libgit2 call failed; `call` names the C function, `message` is `git_error_last()`.
    case libgit2(call: String, code: Int32, message: String)
    /// The note could not be written to the notes ref.
    case cannotWriteNote(commit: String, notesRef: String, reason: String)
    /// The notes ref points at something that is not a commit (a blob, a tree, a tag).
    case notesRefNotACommit(ref: String, kind: String)
    /// The notes ref, or the commit it points at, cannot be read (malformed or missing).
    case notesRefUnreadable(ref: String, detail: String)
    /// The notes commit's tree holds an entry that is not a note or a fan-out directory.
    case notesTreeHasForeignEntry(ref: String, path: String, kind: String)
    /// The remote's notes (fetched into a private ref) cannot be merged; `reason` says why.
    case remoteNotesUnusable(remote: String, notesRef: String, reason: String)
    /// The repository cannot take a new record: `path` (its objects or refs) is not writable.
    case repositoryNotWritable(path: String)
    /// Memory ran out while reading every record of the ref.
    case outOfMemory(reading: String)
    /// A remote (from the config or a flag) is not a remote name or repository URL git accepts.
    case invalidRemote(remote: String, problem: String)
    /// A ref (the notes ref, a branch) is not a valid ref name.
    case invalidRef(ref: String, problem: String)
    /// `git` is not on PATH.
    case gitNotFound
    /// The `git` executable exists but could not be started.
    case gitNotRunnable(path: String, reason: String)
    /// git ran and failed; `command` is what ran (e.g. `git rev-parse --git-path hooks`).
    case gitFailed(command: String, detail: String)
    /// `git fetch` failed; `detail` is the last line git wrote to stderr.
    case fetchFailed(remote: String, notesRef: String, detail: String)
    /// `git push` failed for a reason other than losing a race to another push.
    case pushFailed(remote: String, notesRef: String, detail: String)
    /// Every round lost the race to other jobs pushing records (non-fast-forward or ref lock).
    case pushKeptLosingRace(remote: String, notesRef: String, attempts: Int)
    /// The repository is shallow and the history needed to answer is missing.
    case shallowHistory(revision: String)

    public var errorDescription: String? {
        switch self {
        case let .noRepository(path):
            return "\(shown(path)) is not inside a git repository: run lambda-deploy from the repository that holds the function, or pass its path"
        case let .commitNotFound(revision):
            return "commit '\(shown(revision))' not found in this repository: fetch it (git fetch) or name an existing commit"
        case let .libgit2(call, code, message):
            return "\(call) failed (libgit2 error \(code)): \(shown(message))"
        case let .cannotWriteNote(commit, notesRef, reason):
            return "cannot write the deploy record note on \(shown(commit)) in \(shown(notesRef)): \(shown(reason))"
        case let .notesRefNotACommit(ref, kind):
            let name = shown(ref)
            return "\(name) points at \(kind), not a notes commit, so it holds no deploy records: look at it with `git cat-file -p \(name)`, then delete it with `git update-ref -d \(name)` (or point it back at the notes commit it held)"
        case let .notesRefUnreadable(ref, detail):
            let name = shown(ref)
            return "\(name) cannot be read as a notes commit (\(shown(detail))): check it with `git fsck`, then delete it with `git update-ref -d \(name)` or point it back at a good notes commit"
        case let .notesTreeHasForeignEntry(ref, path, kind):
            let name = shown(ref)
            return "\(name) holds \(kind) '\(path)' that is not a note (git's notes layout: a file per annotated commit, named by its id, in two-digit directories): list it with `git ls-tree -r \(name)`, and restore a notes commit without it (or delete the ref with `git update-ref -d \(name)` after checking)"
        case let .remoteNotesUnusable(remote, notesRef, reason):
            return "\(shown(remote))'s \(shown(notesRef)) cannot be merged: \(shown(reason)); repair it on \(shown(remote)) (delete it there with `git push \(shown(remote)) :\(shown(notesRef))` after checking, if it holds no records), then run `lambda-deploy notes fetch` again"
        case let .repositoryNotWritable(path):
            return "deploy records cannot be written: \(shown(path)) is not writable; fix its permissions (or run as its owner) before deploying, or the deploy will happen without a record"
        case let .outOfMemory(ref):
            return "out of memory while reading the deploy records in \(shown(ref)): filter with --alias, --function or --since, or run where more memory is available"
        case let .invalidRemote(remote, problem):
            return "remote '\(shown(remote))' cannot be used: \(problem); set notes.remote in lambda-deploy.yml (or --remote) to a remote name such as origin or a repository URL"
        case let .invalidRef(ref, problem):
            return "ref '\(shown(ref))' cannot be used: \(problem); set notes.ref in lambda-deploy.yml to a ref such as refs/notes/deploys"
        case .gitNotFound:
            return "git is not on PATH: install git (the ledger fetches and pushes records with it) or add its directory to PATH"
        case let .gitNotRunnable(path, reason):
            return "cannot start git at \(shown(path)): \(shown(reason)); check that it is an executable git, or put a working git first on PATH"
        case let .gitFailed(command, detail):
            return "\(shown(command)) failed: \(shown(detail))"
        case let .fetchFailed(remote, notesRef, detail):
            return "git fetch of \(shown(notesRef)) from \(shown(remote)) failed: \(shown(detail)); check the remote and your access to it"
        case let .pushFailed(remote, notesRef, detail):
            return "git push of \(shown(notesRef)) to \(shown(remote)) failed: \(shown(detail)); the records stay local: run `lambda-deploy notes push` once that is fixed"
        case let .pushKeptLosingRace(remote, notesRef, attempts):
            return "push of \(shown(notesRef)) to \(shown(remote)) lost the race to other jobs pushing records \(attempts) times: the records stay local; run `lambda-deploy notes push` later"
        case let .shallowHistory(revision):
            return "the history needed to check '\(shown(revision))' is missing from this shallow clone: run `git fetch --unshallow` (or clone with more depth)"
        }
    }
}

/// A value from outside as it may appear in a message: URL credentials masked, control
/// characters made visible, so a message stays one line and never shows a password.
func shown(_ value: String) -> String {
    DisplayText.escaped(URLText.maskingUserinfo(value))
}
