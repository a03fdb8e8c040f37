import Foundation
import DeployLedger
import ReleasePolicy
import Safety

/// What happened to a deploy's record: written locally, shared with the remote, or why not.
public struct RecordReport: Encodable, Sendable, Equatable {
    public var written: Bool
    /// nil when sharing was not asked for.
    public var pushed: Bool?
    public var commit: String?
    public var ref: String
    public var message: String

    public var summary: String { message }
}

/// The facts of one deploy, promote or rollback that a record states; everything else (time,
/// CI service, build, branch, actor, tool) comes from the context in ``Recorder/record(_:now:)``.
struct RecordFacts {
    var function: String
    var region: String
    var alias: String
    var trigger: DeployRecord.Trigger
    var result: DeployRecord.Outcome = .deployed
    var account: String?
    var version: String?
    var previousVersion: String?
    var codeSha256: String?
    var weight: Double?
    var dirty: Bool?
    var overrideProtection = false
    var anyCommit = false
    var promotedFrom: String?
    var error: String?
    var skipCheck = false
    var allowOlder = false
    /// Lints that did not run (config `lint.disable`, `--no-lint`).
    var lintDisabled: Set<String> = []
    var supersededByCommit: String?
    var supersededByVersion: String?
}

/// Writes deploy records into the ledger and shares them, after the outcome is known.
///
/// The one place a record is built from an outcome and the CI context. The record is appended
/// locally first, so a failed push never loses it; sharing then runs the fetch-merge-push loop
/// (never forced). No repository, or a commit the repository does not have, is not an error: the
/// deploy happened, and the report says no record was written.
struct Recorder {
    let project: Project
    let reporter: Reporter

    var notesRef: String { project.config.notes.ref }

    func shouldPush(_ requested: Bool?) -> Bool {
        requested ?? project.config.notes.shouldPush(isCI: project.ci.isCI)
    }

    /// The branch a record names: the CI's branch as the policy normalised it (Azure's
    /// `refs/heads/main` and Jenkins' `origin/main` are `main`), else the checked-out branch.
    var branch: String? {
        if let raw = project.ci.branch, case .branch(let name) = BranchName.normalize(raw) { return name }
        return project.localBranch
    }

    /// The identity notes are written with: the CI actor, the git user, or lambda-deploy itself.
    /// Never depends on `user.name` being set (CI machines usually have none).
    func signature() -> Signature {
        if project.ci.isCI {
            return Signature(name: project.ci.actor.map { "\($0) via lambda-deploy" } ?? "lambda-deploy", email: "lambda-deploy@localhost")
        }
        if let repository = project.repository, let name = repository.configString("user.name"),
            let email = repository.configString("user.email")
        {
            return Signature(name: name, email: email)
        }
        return .lambdaDeploy
    }

    /// Who ran it: the CI actor, else the git user, else the login name.
    func actor() -> String? {
        if let actor = project.ci.actor, !actor.isEmpty { return actor }
        if let name = project.repository?.configString("user.name"), !name.isEmpty { return name }
        return project.environment.variables["USER"] ?? project.environment.variables["LOGNAME"]
    }

    /// The record time in UTC with milliseconds (`2026-11-24T20:39:17.123Z`, still ISO-8601).
    ///
    /// Second precision made records of consecutive commands (deploy then promote, or two quick
    /// deploys) tie, and `history`, `verify` and `rollback` then picked the "newest" arbitrarily.
    static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let (seconds, fraction) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        let whole = DeployRecord.timestamp(Date(timeIntervalSince1970: Double(seconds)))
        let digits = String(fraction)
        return whole.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    /// The record for `facts`, with the context every trigger shares. Values from outside (the
    /// build URL, error messages) are masked and redacted here, at the source, as well as at
    /// the output edge.
    func record(_ facts: RecordFacts, now: Date) -> DeployRecord {
        let ci = project.ci
        var record = DeployRecord(
            time: Self.timestamp(now), function: facts.function, region: facts.region, account: facts.account,
            alias: facts.alias, result: facts.result, trigger: facts.trigger,
            ci: ci.isCI ? ci.service.rawValue : nil, build: ci.buildNumber,
            buildUrl: ci.buildURL?.text, branch: branch, actor: actor(),
            tool: ToolInfo.nameAndVersion)
        record.version = facts.version
        record.previousVersion = facts.previousVersion
        record.codeSha256 = facts.codeSha256
        record.weight = facts.weight.map { Int($0.rounded()) }
        record.dirty = facts.dirty
        record.promotedFrom = facts.promotedFrom
        if facts.overrideProtection { record.overrideProtection = true }
        if facts.anyCommit { record.anyCommit = true }
        record.error = facts.error.map { Redactor.shared.redact(URLText.maskingUserinfo($0)) }
        record.job = ci.jobNumber
        record.attempt = ci.runAttempt.map(String.init)
        if facts.skipCheck { record.skipCheck = true }
        if facts.allowOlder { record.allowOlder = true }
        if !facts.lintDisabled.isEmpty { record.lintDisabled = facts.lintDisabled.sorted().joined(separator: ",") }
        record.supersededByCommit = facts.supersededByCommit
        record.supersededByVersion = facts.supersededByVersion
        return record
    }

    /// Checks, before any AWS call, what can be checked about writing a record on `commit`:
    /// the notes ref is a notes commit in git's layout (not a blob or a tree someone pushed) and
    /// the repository can be written (a read-only `.git` would otherwise be found only after
    /// the alias moved).
    func preflight(commit: String?) throws {
        guard let repository = project.repository, let commit, repository.contains(commit: commit) else { return }
        try Ledger(repository: repository, notesRef: notesRef).checkWritable()
    }

    /// Appends `record` to the note on `commit` and shares it when asked. Returns the report and,
    /// when the record could not be written or pushed, the error the command should exit with
    /// (after printing its result: the deploy itself has happened).
    func write(_ record: DeployRecord, on commit: String?, push requested: Bool?) -> (report: RecordReport, problem: WorkflowError?) {
        var report = RecordReport(written: false, pushed: nil, commit: commit, ref: notesRef, message: "")
        guard let repository = project.repository else {
            report.message = "not written: \(project.environment.currentDirectory) is not in a git repository"
            return (report, nil)
        }
        guard let commit, repository.contains(commit: commit) else {
            report.message = "not written: commit \(commit.map { String($0.prefix(12)) } ?? "(none)") is not in this repository"
            return (report, nil)
        }
        let ledger = Ledger(repository: repository, notesRef: notesRef)
        do {
            try ledger.append(record, to: commit, author: signature())
        } catch {
            report.message = "NOT written: \(describe(error))"
            reporter.warning("the deploy record could not be written: \(describe(error))")
            return (report, .recordNotWritten(reason: describe(error)))
        }
        report.written = true
        report.message = "\(record.result.rawValue) record on \(commit.prefix(12)) in \(notesRef)"
        guard shouldPush(requested) else { return (report, nil) }

        let shared = share()
        report.pushed = shared.pushed
        report.message += shared.message
        return (report, shared.problem)
    }

    /// Shares the notes ref with the remote once (fetch, merge, push; never forced): after one
    /// record, or after all the records of a run over many functions.
    func share() -> (pushed: Bool, message: String, problem: WorkflowError?) {
        let remote = project.config.notes.remote
        guard let repository = project.repository, let git = NotesSync.locateGit(environment: project.environment.variables) else {
            return (false, ", NOT pushed to \(remote)", .notesNotPushed(reason: "git is not on PATH"))
        }
        do {
            let sync = try NotesSync(
                repository: repository, notesRef: notesRef, remote: remote, git: git,
                environment: project.environment.variables)
            let outcome = try sync.share(author: signature())
            return (true, ", pushed to \(remote)" + (outcome.attempts > 1 ? " (after \(outcome.attempts) rounds: other jobs pushed meanwhile)" : ""), nil)
        } catch {
            return (false, ", NOT pushed to \(remote)", .notesNotPushed(reason: describe(error)))
        }
    }
}
