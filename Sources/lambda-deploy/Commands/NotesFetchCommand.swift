import ArgumentParser
import Workflow

struct NotesFetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Fetch the remote's records and merge them in (never overwrites local records).")

    @Option(help: ArgumentHelp("Remote (default: notes.remote or origin).", valueName: "NAME"))
    var remote: String?

    @OptionGroup var project: ProjectOptions

    func run() throws {
        try reportingErrors(json: project.json) {
            let message = try Audit(project: project.load()).fetchNotes(remote: remote)
            if project.json { Console.json(["result": message]) } else { Console.line(message) }
        }
    }
}
