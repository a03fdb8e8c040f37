import ArgumentParser
import Workflow

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare each alias in AWS with its newest ledger record; exit 4 on drift.",
        discussion: """
            Finds aliases someone moved by hand (or whose record is missing): for every alias with a \
            record, the newest deployed/promote/rollback record must name the version the alias runs.
            """
    )

    @Option(help: ArgumentHelp("Function name (else config `function`, or the one entry of `functions:`).", valueName: "NAME"))
    var function: String?

    @OptionGroup var aws: AWSOptions
    @OptionGroup var project: ProjectOptions

    func run() async throws {
        try await reportingErrors(json: project.json) {
            let loaded = try project.load()
            let audit = try Audit(project: loaded)
            _ = try audit.verifiedFunction(function)
            let result = try await audit.verify(function: function, services: aws.connector(loaded, reporter: project.reporter)())
            if project.json { Console.json(result) } else { Render.lines(result.lines) }
            if result.driftCount > 0 { throw WorkflowError.drift(count: result.driftCount) }
        }
    }
}
