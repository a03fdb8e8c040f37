import ArgumentParser
import Workflow

struct NotesPushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push local records to the remote, merging the remote's first (never forced).")

    @Option(help: ArgumentHelp("Remote (default: notes.remote or origin).", valueName: "NAME"))
    var remote: String?

    @OptionGroup var project: ProjectOptions

    func run() throws {
        try reportingErrors(json: project.json) {
            let message = try Audit(project: project.load()).pushNotes(remote: remote)
            if project.json { Console.json(["result": message]) } else { Console.line(message) }
        }
    }
}
