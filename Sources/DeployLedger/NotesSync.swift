public import Foundation
import Safety

/// What `NotesSync.fetch()` found.
public enum FetchOutcome: Sendable, Equatable {
    /// The remote's notes are now in the private ref.
    case fetched
    /// The remote has no notes ref yet.
    case remoteHasNoNotes
}

/// What one `git push` of the notes ref did.
public enum PushOutcome: Sendable, Equatable {
    /// The remote ref moved to our notes commit (or was created).
    case pushed
    /// The remote already had our notes commit.
    case upToDate
    /// Another push got there first: a non-fast-forward rejection, or the server losing the
    /// ref-lock race to a concurrent push. Fetch, merge and push again.
    case lostRace
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
/// so fetching can never overwrite records that were not pushed yet. The remote and the refs
/// are checked when the value is made (a remote like `--upload-pack=...` never reaches git) and
/// passed after `--end-of-options`.
public struct NotesSync {
    public let ledger: Ledger
    public let remote: String
    /// Where the remote's notes are fetched to, e.g. `refs/notes/remotes/origin/deploys`.
    public let privateRef: String
    /// The first pause before another round; it doubles each round up to ``maximumDelay``, with
    /// jitter (times 0.5 to 1.5) so racing jobs do not collide again in lockstep.
    public var retryDelay: TimeInterval
    public var maximumDelay: TimeInterval = 2
    private let git: GitCommand
    private let remoteValue: GitValue

    /// - Parameters:
    ///   - git: path of the git executable (``NotesSync/locateGit(environment:)`` finds it on PATH).
    ///   - environment: the process environment git runs with (credentials helpers, HOME, PATH);
    ///     passed in, never read here. `GIT_TERMINAL_PROMPT=0` is always added.
    /// - Throws: ``LedgerError/invalidRemote(remote:problem:)`` or
    ///   ``LedgerError/invalidRef(ref:problem:)`` before anything runs.
    public init(
        repository: GitRepository, notesRef: String = "refs/notes/deploys", remote: String = "origin",
        git: String, environment: [String: String], retryDelay: TimeInterval = 0.2
    ) throws {
        ledger = Ledger(repository: repository, notesRef: notesRef)
        let ref = try ledger.checkedRef()
        remoteValue = try GitValue.remote(remote)
        self.remote = remote
        let name = ref.hasPrefix("refs/notes/") ? String(ref.dropFirst("refs/notes/".count)) : String(ref.dropFirst("refs/".count))
        privateRef = try GitValue.ref("refs/notes/remotes/\(Self.privateName(remote))/\(name)").text
        self.retryDelay = retryDelay
        self.git = GitCommand(executable: git, directory: repository.workdir ?? repository.gitDir, environment: environment)
    }

    /// The private ref's directory for `remote`: the remote's name when it is one (git's own
    /// rule makes it a valid ref part), else `url-` and a hash of the URL, so two URLs never
    /// share a ref and no URL text (nor its credentials) ends up in a ref name.
    static func privateName(_ remote: String) -> String {
        if !remote.contains(":"), GitNames.refProblem("refs/remotes/" + remote + "/x") == nil { return remote }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in remote.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return "url-" + String(hash, radix: 16)
    }

    /// The git executable on the environment's PATH, nil when there is none.
    public static func locateGit(environment: [String: String]) -> String? {
        GitCommand.locate(environment: environment)
    }

    /// Fetches the remote's notes into ``privateRef`` (forced: it mirrors the remote).
    @discardableResult
    public func fetch() throws -> FetchOutcome {
        let refspec = try GitValue.refspec(ledger.notesRef, privateRef, force: true)
        let output = try git.run(["fetch", "--quiet", "--no-tags"], values: [remoteValue, refspec])
        if output.status == 0 { return .fetched }
        if output.stderr.contains("couldn't find remote ref") { return .remoteHasNoNotes }
        throw LedgerError.fetchFailed(remote: remote, notesRef: ledger.notesRef, detail: output.lastErrorLine)
    }

    /// Merges what ``fetch()`` brought; a remote ref that is not a notes commit is reported as
    /// the remote's problem.
    private func mergeFetched(author: Signature) throws -> MergeOutcome {
        do {
            return try ledger.mergeNotes(from: privateRef, author: author)
        } catch let error as LedgerError {
            switch error {
            case let .notesRefNotACommit(ref, kind) where ref == privateRef:
                throw LedgerError.remoteNotesUnusable(remote: remote, notesRef: ledger.notesRef, reason: "it points at \(kind), not a notes commit")
            case let .notesRefUnreadable(ref, detail) where ref == privateRef:
                throw LedgerError.remoteNotesUnusable(remote: remote, notesRef: ledger.notesRef, reason: "it cannot be read as a notes commit (\(detail))")
            case let .notesTreeHasForeignEntry(ref, path, kind) where ref == privateRef:
                throw LedgerError.remoteNotesUnusable(remote: remote, notesRef: ledger.notesRef, reason: "it holds \(kind) '\(path)' that is not a note")
            default:
                throw error
            }
        }
    }

    /// Fetches and merges the remote's records into the live ref; local records always survive.
    ///
    /// This is `lambda-deploy notes fetch`.
    @discardableResult
    public func fetchAndMerge(author: Signature = .lambdaDeploy) throws -> MergeOutcome {
        switch try fetch() {
        case .remoteHasNoNotes: return .nothingToMerge
        case .fetched: return try mergeFetched(author: author)
        }
    }

    /// Pushes the live ref to the same ref on the remote, without force.
    ///
    /// Reads `git push --porcelain` itself: losing a race to another push is an outcome the
    /// caller retries; a hook's `[remote rejected]`, authentication or network failures throw.
    public func push() throws -> PushOutcome {
        guard try ledger.tip() != nil else { return .nothingToPush }
        let refspec = try GitValue.refspec(ledger.notesRef, ledger.notesRef)
        let output = try git.run(["push", "--porcelain", "--no-verify"], values: [remoteValue, refspec])
        return try Self.interpretPush(output, notesRef: ledger.notesRef, remote: remote)
    }

    /// What git says when someone else updated the ref first: a non-fast-forward, or the server
    /// (or a local ref) losing the lock race against a concurrent update. Another
    /// fetch-merge-push round fixes them all.
    private static let racePhrases = [
        "non-fast-forward", "fetch first", "stale info", "failed to update ref", "cannot lock ref",
        "incorrect old value", "failed to lock",
    ]

    static func isRace(_ text: String) -> Bool {
        let lowered = text.lowercased()
        return racePhrases.contains { lowered.contains($0) }
    }

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
                if isRace(summary) { return .lostRace }
                throw LedgerError.pushFailed(remote: remote, notesRef: notesRef, detail: URLText.maskingUserinfo(summary))
            default:
                continue
            }
        }
        if output.status == 0 { return .pushed }
        if isRace(output.stderr) { return .lostRace }
        throw LedgerError.pushFailed(remote: remote, notesRef: notesRef, detail: output.lastErrorLine)
    }

    /// Fetch, merge, push until the push is accepted: the one retry loop for sharing records, at
    /// most `maxAttempts` rounds, treating a non-fast-forward and a lost lock race (on the
    /// server's ref, or on the local private ref while fetching) alike, with a doubling,
    /// jittered pause between rounds.
    ///
    /// This is `lambda-deploy notes push`, and what a deploy runs once after writing its
    /// records (``Ledger/append(_:author:)`` takes several): local records are merged with the
    /// remote's, never replaced by them, and the push is never forced.
    @discardableResult
    public func share(author: Signature = .lambdaDeploy, maxAttempts: Int = 8) throws -> ShareOutcome {
        let rounds = max(1, maxAttempts)
        for attempt in 1...rounds {
            do {
                if try fetch() == .fetched {
                    _ = try mergeFetched(author: author)
                }
                let outcome = try push()
                if outcome != .lostRace {
                    return ShareOutcome(attempts: attempt, push: outcome)
                }
            } catch let LedgerError.fetchFailed(_, _, detail) where Self.isRace(detail) {
                // Another fetch in this repository held the private ref's lock: another round.
            }
            if attempt < rounds {
                Thread.sleep(forTimeInterval: delay(afterRound: attempt))
            }
        }
        throw LedgerError.pushKeptLosingRace(remote: remote, notesRef: ledger.notesRef, attempts: rounds)
    }

    /// The pause after round `round` (1-based): ``retryDelay`` doubled per round, capped at
    /// ``maximumDelay``, times a random factor in 0.5...1.5.
    func delay(afterRound round: Int) -> TimeInterval {
        let base = min(maximumDelay, retryDelay * pow(2, Double(min(max(round - 1, 0), 30))))
        return base * Double.random(in: 0.5...1.5)
    }
}
