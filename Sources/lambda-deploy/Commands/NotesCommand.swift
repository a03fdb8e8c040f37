import ArgumentParser
import Workflow

struct NotesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notes",
        abstract: "Share deploy records with the remote: fetch or push refs/notes/deploys.",
        subcommands: [NotesFetchCommand.self, NotesPushCommand.self]
    )
}
