import Foundation
import DeployLedger
import ReleasePolicy

extension DeployRecord {
    /// The record's time as seconds since 1970, for ordering (unreadable times sort oldest).
    var instant: Double { date?.timeIntervalSince1970 ?? -Double.infinity }
}

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

/// Writes deploy records into the ledger and shares them, after the outcome is known.
///
/// The record is appended locally first, so a failed push never loses it; sharing then runs the
/// fetch-merge-push loop (never forced). No repository, or a commit the repository does not
/// have, is not an error: the deploy happened, and the report says no record was written.
struct Recorder {
    let project: Project
    let reporter: Reporter

    var notesRef: String { project.config.notes.ref }

    func shouldPush(_ requested: Bool?) -> Bool {
        requested ?? project.config.notes.shouldPush(isCI: project.ci.isCI)
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

    /// A record skeleton filled with the context every trigger shares.
    func record(
        function: String, region: String, account: String?, alias: String, result: DeployRecord.Outcome,
        trigger: DeployRecord.Trigger
    ) -> DeployRecord {
        let ci = project.ci
        return DeployRecord(
            time: Self.timestamp(Date()), function: function, region: region, account: account, alias: alias,
            result: result, trigger: trigger,
            ci: ci.isCI ? ci.service.rawValue : nil, build: ci.jobNumber ?? ci.buildNumber,
            buildUrl: ci.buildURL, branch: ci.branch ?? project.repository?.currentBranch(), actor: actor(),
            tool: ToolInfo.nameAndVersion)
    }

    /// Appends `record` to the note on `commit` and shares it when asked. Returns the report and,
    /// when the record could not be pushed, the error the command should exit with (after printing
    /// its result: the deploy itself has happened).
    func write(_ record: DeployRecord, on commit: String?, push requested: Bool?) -> (RecordReport, WorkflowError?) {
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
            report.message = "not written: \((error as? any LocalizedError)?.errorDescription ?? "\(error)")"
            reporter.warning("the deploy record could not be written: \(report.message)")
            return (report, nil)
        }
        report.written = true
        report.message = "\(record.result.rawValue) record on \(commit.prefix(12)) in \(notesRef)"
        guard shouldPush(requested) else { return (report, nil) }

        let remote = project.config.notes.remote
        guard let git = NotesSync.locateGit(environment: project.environment.variables) else {
            report.pushed = false
            return (report, .notesNotPushed(reason: "git is not on PATH"))
        }
        do {
            let sync = try NotesSync(
                repository: repository, notesRef: notesRef, remote: remote, git: git,
                environment: project.environment.variables)
            let outcome = try sync.share(author: signature())
            report.pushed = true
            report.message += ", pushed to \(remote)" + (outcome.attempts > 1 ? " (after \(outcome.attempts) rounds: other jobs pushed meanwhile)" : "")
            return (report, nil)
        } catch {
            report.pushed = false
            let reason = (error as? any LocalizedError)?.errorDescription ?? "\(error)"
            report.message += ", NOT pushed to \(remote)"
            return (report, .notesNotPushed(reason: reason))
        }
    }
}
