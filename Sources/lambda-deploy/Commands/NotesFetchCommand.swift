import ArgumentParser
import Workflow

struct NotesFetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Fetch the remote's records and merge them in (never overwrites local records).")

    @OptionGroup var notes: NotesSyncOptions

    func run() throws {
        try notes.run { audit, remote in try audit.fetchNotes(remote: remote) }
    }
}
