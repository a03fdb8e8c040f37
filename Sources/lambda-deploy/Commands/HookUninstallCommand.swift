import ArgumentParser
import Workflow

struct HookUninstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall",
        abstract: "Remove lambda-deploy from the pre-push hook, restoring a chained hook.")

    @OptionGroup var project: ProjectOptions

    func run() throws {
        try project.reportingErrors { loaded in
            Render.report(try HookManager(project: loaded).uninstall(), json: project.json)
        }
    }
}
