public import Foundation

/// What `NotesSync.fetch()` found.
public enum FetchOutcome: Sendable, Equatable {
    /// The remote's notes are now in the private ref.
    case fetched
    /// The remote has no notes ref yet (nobody pushed a record): not an error.
    case remoteHasNoNotes
}

/// What `NotesSync.push()` did.
public enum PushOutcome: Sendable, Equatable {
    /// The remote ref moved to our notes commit (or was created).
    case pushed
    /// The remote already had our notes commit.
    case upToDate
    /// Someone pushed first (non-fast-forward, or the server lost a ref-lock race to a
    /// concurrent push); fetch, merge and push again.
    case rejectedNonFastForward
    /// There is no local notes ref to push.
    case nothingToPush
}

/// The result of a successful share.
public struct ShareOutcome: Sendable, Equatable {
    /// How many fetch-merge-push rounds it took (1 without contention).
    public var attempts: Int
    public var push: PushOutcome
}

/// Shares the notes ref with a remote through the `git` CLI, never force-pushing and never
/// dropping a record.
///
/// The remote's notes are fetched into a private ref (`refs/notes/remotes/<remote>/<name>`),
/// never into the live ref, then merged line-wise into it (``Ledger/mergeNotes(from:author:)``),
/// so fetching can never overwrite records that were not pushed yet.
public struct NotesSync {
    public let ledger: Ledger
    public let remote: String
    /// Where the remote's notes are fetched to, e.g. `refs/notes/remotes/origin/deploys`.
    public let privateRef: String
    /// Pause before retrying after a rejected push: the attempt number times this, plus jitter.
    public var retryDelay: TimeInterval
    private let git: GitCommand

    /// - Parameters:
    ///   - git: path of the git executable (``NotesSync/locateGit(environment:)`` finds it on PATH).
    ///   - environment: the process environment git runs with (credentials helpers, HOME, PATH);
    ///     passed in, never read here. `GIT_TERMINAL_PROMPT=0` is always added.
    public init(
        repository: GitRepository, notesRef: String = "refs/notes/deploys", remote: String = "origin",
        git: String, environment: [String: String], retryDelay: TimeInterval = 0.2
    ) {
        ledger = Ledger(repository: repository, notesRef: notesRef)
        self.remote = remote
        let name = ledger.notesRef.hasPrefix("refs/notes/")
            ? String(ledger.notesRef.dropFirst("refs/notes/".count))
            : String(ledger.notesRef.dropFirst("refs/".count))
        let safeRemote = String(remote.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        privateRef = "refs/notes/remotes/\(safeRemote)/\(name)"
        self.retryDelay = retryDelay
        self.git = GitCommand(
            executable: git, directory: repository.workdir ?? repository.gitDir, environment: environment)
    }

    /// The git executable on the environment's PATH, nil when there is none.
    public static func locateGit(environment: [String: String]) -> String? {
        GitCommand.locate(environment: environment)
    }

    /// Fetches the remote's notes into ``privateRef`` (forced: it mirrors the remote).
    @discardableResult
    public func fetch() throws -> FetchOutcome {
        let refspec = "+\(ledger.notesRef):\(privateRef)"
        let output = try git.run(["fetch", "--quiet", "--no-tags", remote, refspec])
        if output.status == 0 { return .fetched }
        if output.stderr.contains("couldn't find remote ref") { return .remoteHasNoNotes }
        throw LedgerError.fetchFailed(remote: redactingCredentials(remote), notesRef: ledger.notesRef, detail: output.lastErrorLine)
    }

    /// Fetches and merges the remote's records into the live ref; local records always survive.
    ///
    /// This is `lambda-deploy notes fetch`.
    @discardableResult
    public func fetchAndMerge(author: Signature = .lambdaDeploy) throws -> MergeOutcome {
        switch try fetch() {
        case .remoteHasNoNotes: return .nothingToMerge
        case .fetched: return try ledger.mergeNotes(from: privateRef, author: author)
        }
    }

    /// Pushes the live ref to the same ref on the remote, without force.
    ///
    /// Reads `git push --porcelain` itself: a non-fast-forward rejection (or a lost ref-lock
    /// race) is an outcome the caller retries; a hook's `[remote rejected]`, authentication or
    /// network failures throw.
    public func push() throws -> PushOutcome {
        guard try ledger.repository.referenceTarget(ledger.notesRef) != nil else { return .nothingToPush }
        let refspec = "\(ledger.notesRef):\(ledger.notesRef)"
        let output = try git.run(["push", "--porcelain", "--no-verify", remote, refspec])
        return try Self.interpretPush(output, notesRef: ledger.notesRef, remote: remote)
    }

    /// Rejections meaning "someone else updated the ref first": a non-fast-forward, or the
    /// server losing the ref-lock race against a concurrent push (`[remote rejected] (failed to
    /// update ref)`, `cannot lock ref`). Fetching, merging and pushing again fixes them.
    private static let retryableRejections = [
        "non-fast-forward", "fetch first", "stale info", "failed to update ref", "cannot lock ref",
        "incorrect old value",
    ]

    static func interpretPush(_ output: GitCommand.Output, notesRef: String, remote: String) throws -> PushOutcome {
        // Porcelain status lines: "<flag>\t<from>:<to>\t<summary> (<reason>)" (git-push(1), OUTPUT).
        for line in output.stdout.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 3, let flag = fields[0].first, fields[1].hasSuffix(":" + notesRef) else { continue }
            let summary = String(fields[2])
            switch flag {
            case " ", "*", "+": return .pushed
            case "=": return .upToDate
            case "!":
                if retryableRejections.contains(where: summary.contains) { return .rejectedNonFastForward }
                throw LedgerError.pushFailed(
                    remote: redactingCredentials(remote), notesRef: notesRef, detail: redactingCredentials(summary))
            default:
                continue
            }
        }
        if output.status == 0 { return .pushed }
        throw LedgerError.pushFailed(remote: redactingCredentials(remote), notesRef: notesRef, detail: output.lastErrorLine)
    }

    /// Fetch, merge, push until the push is accepted, at most `maxAttempts` rounds.
    ///
    /// This is `lambda-deploy notes push`: local records are merged with the remote's, never
    /// replaced by them, and the push is never forced.
    public func share(author: Signature = .lambdaDeploy, maxAttempts: Int = 5) throws -> ShareOutcome {
        let rounds = max(1, maxAttempts)
        for attempt in 1...rounds {
            if try fetch() == .fetched {
                try ledger.mergeNotes(from: privateRef, author: author)
            }
            let outcome = try push()
            if outcome != .rejectedNonFastForward {
                return ShareOutcome(attempts: attempt, push: outcome)
            }
            if attempt < rounds {
                // Spread the racers out so they do not collide again in lockstep.
                Thread.sleep(forTimeInterval: retryDelay * Double(attempt) * Double.random(in: 0.5...1.5))
            }
        }
        throw LedgerError.pushRejected(remote: redactingCredentials(remote), notesRef: ledger.notesRef, attempts: rounds)
    }

    /// Appends the record locally, then shares it; the record is written before any network I/O
    /// so a failed fetch or push never loses it.
    ///
    /// Throws ``LedgerError/recordNotShared(commit:remote:reason:)`` when the record is stored
    /// locally but did not reach the remote (the caller exits with its distinct code).
    @discardableResult
    public func appendAndShare(
        _ record: DeployRecord, to commit: String, author: Signature, maxAttempts: Int = 5
    ) throws -> ShareOutcome {
        let resolved = try ledger.repository.resolveCommit(commit)
        try ledger.append(record, to: resolved, author: author)
        do {
            return try share(author: author, maxAttempts: maxAttempts)
        } catch let error as LedgerError {
            throw LedgerError.recordNotShared(
                commit: resolved, remote: redactingCredentials(remote), reason: Self.reason(error))
        }
    }

    private static func reason(_ error: LedgerError) -> String {
        switch error {
        case let .pushRejected(_, _, attempts): return "push rejected as non-fast-forward \(attempts) times"
        case let .fetchFailed(_, _, detail): return "fetch failed: \(detail)"
        case let .pushFailed(_, _, detail): return "push failed: \(detail)"
        default: return error.errorDescription ?? "unknown error"
        }
    }
}
