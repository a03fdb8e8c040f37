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
        try project.reportingErrors { loaded in
            let audit = try Audit(project: loaded)
            let output = try audit.history(
                alias: alias, function: function, since: since.flatMap(parseDate), limit: limit, format: project.json ? .json : .text)
            for problem in output.problems { Console.warning(problem) }
            if !project.json && output.isEmpty {
                Console.line("no deploy records\(alias.map { " for alias \($0)" } ?? "") in \(audit.notesRef) (try `lambda-deploy notes fetch`)")
                return
            }
            // The ledger rendered every value escaped (one record, one line); the output edge
            // still redacts (a crafted note may carry a password in a URL).
            output.withBytes { Console.rawBytes($0) }
            if project.json { Console.rawBytes([0x0A]) }
        }
    }
}

func parseDate(_ text: String) -> Date? {
    let full = ISO8601DateFormatter()
    if let date = full.date(from: text) { return date }
    let day = ISO8601DateFormatter()
    day.formatOptions = [.withFullDate]
    return day.date(from: text)
}
