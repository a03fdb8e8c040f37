import ArgumentParser
import Workflow

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Which commit runs where: every function and alias, with how each commit relates to its branch.",
        discussion: """
            For each function of the config and each alias (from branches:, tags:, the hook and the \
            records): the version it runs (one GetAlias per alias, all at once), the commit it was \
            built from (the ledger, confirmed against the alias description lambda-deploy keeps in \
            AWS), when and by whom it moved, how that commit relates to the alias's branch ("2 \
            commits behind main"), a traffic shift's split, and drift flags: DRIFT (the alias is not \
            where its newest record says), UNRECORDED, MISSING, COMMIT-MISMATCH. Exit 4 when any \
            flag is set.

            Examples:
              lambda-deploy status
              lambda-deploy status --offline --json     # from the ledger alone, no AWS call
            """
    )

    @Flag(help: "Answer from the ledger alone (no AWS call): the newest record of each alias.")
    var offline = false

    @OptionGroup var aws: AWSOptions
    @OptionGroup var project: ProjectOptions

    func run() async throws {
        try await project.reportingErrors { loaded in
            let connect = offline ? nil : Services.regionalConnector(aws.settings, environment: loaded.environment, reporter: project.reporter)
            let report = try await Status(project: loaded).run(connect: connect)
            for problem in report.problems { Console.warning(problem) }
            Render.report(report, json: project.json)
            if report.driftCount > 0 { throw WorkflowError.drift(count: report.driftCount) }
        }
    }
}
