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

    @OptionGroup var target: FunctionOption

    @OptionGroup var aws: AWSOptions
    @OptionGroup var project: ProjectOptions

    func run() async throws {
        try await project.reportingErrors { loaded in
            let audit = try Audit(project: loaded)
            _ = try audit.verifiedFunction(target.function)
            let result = try await audit.verify(function: target.function, services: aws.connector(loaded, reporter: project.reporter)())
            Render.report(result, json: project.json)
            if result.driftCount > 0 { throw WorkflowError.drift(count: result.driftCount) }
        }
    }
}
