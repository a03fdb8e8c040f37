import ArgumentParser
import Workflow

struct NotesPushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push local records to the remote, merging the remote's first (never forced).")

    @OptionGroup var notes: NotesSyncOptions

    func run() throws {
        try notes.run { audit, remote in try audit.pushNotes(remote: remote) }
    }
}
