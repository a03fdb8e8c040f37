import ArgumentParser
import Workflow

struct HookUninstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall",
        abstract: "Remove lambda-deploy from the pre-push hook, restoring a chained hook.")

    @OptionGroup var project: ProjectOptions

    func run() throws {
        try reportingErrors(json: project.json) {
            let result = try HookManager(project: project.load()).uninstall()
            if project.json { Console.json(result) } else { Render.lines(result.lines) }
        }
    }
}
