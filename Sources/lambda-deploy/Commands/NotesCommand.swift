import ArgumentParser
import Workflow

struct NotesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notes",
        abstract: "Share deploy records with the remote: fetch or push refs/notes/deploys.",
        subcommands: [NotesFetchCommand.self, NotesPushCommand.self]
    )
}

/// What `notes fetch` and `notes push` take, and how they say what they shared.
struct NotesSyncOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Remote (default: notes.remote or origin).", valueName: "NAME"))
    var remote: String?

    @OptionGroup var project: ProjectOptions

    /// Runs `sync` against `remote` and prints its one-line result (`{"result": …}` with `--json`).
    func run(_ sync: (Audit, String?) throws -> String) throws {
        try project.reportingErrors { loaded in
            let message = try sync(Audit(project: loaded), remote)
            if project.json { Console.json(["result": message]) } else { Console.line(message) }
        }
    }
}
