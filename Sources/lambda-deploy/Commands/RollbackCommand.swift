import ArgumentParser
import Workflow

struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Move an alias back to the version it ran before its latest move.",
        discussion: """
            The earlier version comes from the ledger (the newest record that moved the alias), else \
            from the alias description lambda-deploy keeps in AWS, or from --to. A traffic shift in \
            progress is cancelled (all traffic back on the main version).

            Examples:
              lambda-deploy rollback --alias prod
              lambda-deploy rollback --alias prod --to 41
            """
    )

    @Option(help: ArgumentHelp("Alias to roll back.", valueName: "ALIAS"))
    var alias: String

    @Option(help: ArgumentHelp("Version to go back to (default: the one before the latest move).", valueName: "VERSION"))
    var to: String?

    @OptionGroup var target: FunctionOption

    @OptionGroup var move: MoveOptions
    @OptionGroup var aws: AWSOptions
    @OptionGroup var project: ProjectOptions

    func run() async throws {
        try await move.run(target, project: project, aws: aws) { moves, connect in
            var request = RollbackRequest(alias: alias)
            request.toVersion = to
            request.function = target.function
            request.overrideProtection = move.overrideProtection
            request.pushNotes = move.pushNotesRequest
            try moves.check(request)
            return try await moves.rollback(request, services: connect())
        }
    }
}
