import ArgumentParser
import Workflow

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
        try await project.reportingErrors { loaded in
            let audit = try Audit(project: loaded)
            var services: Services?
            if live { services = try await aws.connector(loaded, reporter: project.reporter)() }
            let shown = try await audit.show(commit, live: services)
            for problem in shown.problems { Console.warning(problem) }
            Render.report(shown, json: project.json)
        }
    }
}
