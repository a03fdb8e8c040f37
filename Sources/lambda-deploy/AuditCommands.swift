import ArgumentParser
import Foundation
import Workflow

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List deploy records from the ledger (git notes), newest first.",
        discussion: """
            One line per record: time, function:alias, version, commit, branch, trigger, who/where. \
            Records live in refs/notes/deploys; run `lambda-deploy notes fetch` first to see the \
            team's records. Plain git works too: git log --notes=deploys

            Examples:
              lambda-deploy history --alias prod --limit 10
              lambda-deploy history --since 2026-11-01 --json
            """
    )

    @Option(help: ArgumentHelp("Only records for this alias.", valueName: "ALIAS"))
    var alias: String?

    @Option(help: ArgumentHelp("Only records for this function.", valueName: "NAME"))
    var function: String?

    @Option(help: ArgumentHelp("Only records at or after this date (YYYY-MM-DD or ISO-8601).", valueName: "DATE"))
    var since: String?

    @Option(help: ArgumentHelp("At most N records.", valueName: "N"))
    var limit: Int?

    @OptionGroup var project: ProjectOptions

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1; got \(limit)") }
        if let since, parseDate(since) == nil {
            throw ValidationError("cannot read --since '\(since)': use a date like 2026-11-01 or 2026-11-01T12:00:00Z")
        }
    }

    /// Synchronous, so it runs on the main thread (see `Entrypoint`): no network, only notes.
    func run() throws {
        try reportingErrors(json: project.json) {
            let audit = try Audit(environment: .current(), configPath: project.config)
            let output = try audit.history(
                alias: alias, function: function, since: since.flatMap(parseDate), limit: limit, format: project.json ? .json : .text)
            for problem in output.problems { printError("warning: " + problem) }
            if !project.json && output.isEmpty {
                print("no deploy records\(alias.map { " for alias \($0)" } ?? "") in \(audit.notesRef) (try `lambda-deploy notes fetch`)")
                return
            }
            try output.withBytes { try writeStandardOutput($0) }
            if project.json { try [UInt8(0x0a)].withUnsafeBytes { try writeStandardOutput($0) } }
        }
    }
}

/// Writes bytes to standard output without copying them into a `Data` (the `--json` array of
/// 10,000 records is megabytes).
private func writeStandardOutput(_ bytes: UnsafeRawBufferPointer) throws {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return }
    try FileHandle.standardOutput.write(
        contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count, deallocator: .none))
}

func parseDate(_ text: String) -> Date? {
    let full = ISO8601DateFormatter()
    if let date = full.date(from: text) { return date }
    let day = ISO8601DateFormatter()
    day.formatOptions = [.withFullDate]
    return day.date(from: text)
}

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show the deploy records on one commit (default HEAD).",
        discussion: """
            With --live, also asks AWS which aliases run that commit's code now.

            Examples:
              lambda-deploy show
              lambda-deploy show v1.4.0 --live
            """
    )

    @Argument(help: ArgumentHelp("Commit, branch or tag.", valueName: "COMMIT"))
    var commit: String = "HEAD"

    @Flag(help: "Also list the aliases that run this commit now (calls AWS).")
    var live = false

    @OptionGroup var aws: AWSOptions
    @OptionGroup var project: ProjectOptions

    func run() async throws {
        try await reportingErrors(json: project.json) {
            let audit = try Audit(environment: .current(), configPath: project.config)
            let shown = try await audit.show(commit, live: live ? aws.settings : nil, reporter: reporter(project))
            for problem in shown.problems { printError("warning: " + problem) }
            if project.json { printJSON(shown) } else { for line in shown.lines { print(line) } }
        }
    }
}

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare each alias in AWS with its newest ledger record; exit 4 on drift.",
        discussion: """
            Finds aliases someone moved by hand (or whose record is missing): for every alias with a \
            record, the newest deployed/promote/rollback record must name the version the alias runs.
            """
    )

    @Option(help: ArgumentHelp("Function name (else config `function`, or the one entry of `functions:`).", valueName: "NAME"))
    var function: String?

    @OptionGroup var aws: AWSOptions
    @OptionGroup var project: ProjectOptions

    func run() async throws {
        try await reportingErrors(json: project.json) {
            let audit = try Audit(environment: .current(), configPath: project.config)
            let result = try await audit.verify(function: function, aws: aws.settings, reporter: reporter(project))
            if project.json { printJSON(result) } else { for line in result.lines { print(line) } }
            if result.driftCount > 0 { throw WorkflowError.drift(count: result.driftCount) }
        }
    }
}

struct NotesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notes",
        abstract: "Share deploy records with the remote: fetch or push refs/notes/deploys.",
        subcommands: [Fetch.self, Push.self]
    )

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fetch",
            abstract: "Fetch the remote's records and merge them in (never overwrites local records).")
        @Option(help: ArgumentHelp("Remote (default: notes.remote or origin).", valueName: "NAME"))
        var remote: String?
        @OptionGroup var project: ProjectOptions

        func run() throws {
            try reportingErrors(json: project.json) {
                let audit = try Audit(environment: .current(), configPath: project.config)
                let message = try audit.fetchNotes(remote: remote)
                if project.json { printJSON(["result": message]) } else { print(message) }
            }
        }
    }

    struct Push: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "push",
            abstract: "Push local records to the remote, merging the remote's first (never forced).")
        @Option(help: ArgumentHelp("Remote (default: notes.remote or origin).", valueName: "NAME"))
        var remote: String?
        @OptionGroup var project: ProjectOptions

        func run() throws {
            try reportingErrors(json: project.json) {
                let audit = try Audit(environment: .current(), configPath: project.config)
                let message = try audit.pushNotes(remote: remote)
                if project.json { printJSON(["result": message]) } else { print(message) }
            }
        }
    }
}
