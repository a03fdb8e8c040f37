import ArgumentParser
import Foundation
import Workflow

struct PromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Point one alias at the version another runs (dev -> prod): no rebuild, no upload.",
        discussion: """
            Ships to the target exactly the bytes tested on the source. Before moving, the version's \
            CodeSha256 is checked against its ledger record, and its commit must be reachable from the \
            branch mapped to the target alias (so a feature-branch dev deploy cannot reach prod by \
            accident; --any-commit overrides, recorded). Protection rules apply as for deploy.

            Examples:
              lambda-deploy promote --from dev --to prod
              lambda-deploy promote --from dev --to prod --weight 10   # canary
              lambda-deploy promote --finish --to prod                 # complete the shift
            """
    )

    @Option(help: ArgumentHelp("Alias whose version is promoted.", valueName: "ALIAS"))
    var from: String?

    @Option(help: ArgumentHelp("Alias to move.", valueName: "ALIAS"))
    var to: String

    @Option(help: ArgumentHelp("Function name (else config `function`, or the one entry of `functions:`).", valueName: "NAME"))
    var function: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Send PERCENT of the target's traffic to the promoted version (0 < PERCENT < 100).", valueName: "PERCENT"))
    var weight: String?

    @Flag(help: "Complete a traffic shift in progress: the target runs the weighted version fully.")
    var finish = false

    @Flag(name: .customLong("any-commit"), help: "Promote even a commit that is not on the target's branch (recorded).")
    var anyCommit = false

    @OptionGroup var move: MoveOptions

    @OptionGroup var aws: AWSOptions
    @OptionGroup var project: ProjectOptions

    func validate() throws {
        _ = try parseWeight(weight)
        if finish, from != nil || weight != nil {
            throw ValidationError("--finish completes a shift already in progress: use it with --to only")
        }
        if let from, from == to {
            throw ValidationError("--from and --to both name '\(to)': nothing to promote; name the alias to copy from and the one to move (e.g. --from dev --to prod)")
        }
        if !finish, from == nil {
            throw ValidationError("missing --from ALIAS: say which alias's version to promote (e.g. --from dev --to prod)")
        }
    }

    func run() async throws {
        try await reportingErrors(json: project.json) {
            let runner = try DeployRunner(
                environment: .current(), configPath: project.config, function: function, reporter: reporter(project))
            var request = PromoteRequest(to: to, aws: aws.settings)
            request.from = from
            request.function = function
            request.weight = try parseWeight(weight)
            request.finish = finish
            request.anyCommit = anyCommit
            request.overrideProtection = move.overrideProtection
            request.pushNotes = move.pushNotesRequest
            let report = try await runner.promote(request)
            if project.json { printJSON(report) } else {
                for line in report.lines { print(line) }
            }
            if let pending = report.recordProblem { throw pending }
        }
    }
}

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

    @Option(help: ArgumentHelp("Function name (else config `function`, or the one entry of `functions:`).", valueName: "NAME"))
    var function: String?

    @OptionGroup var move: MoveOptions

    @OptionGroup var aws: AWSOptions
    @OptionGroup var project: ProjectOptions

    func run() async throws {
        try await reportingErrors(json: project.json) {
            let runner = try DeployRunner(
                environment: .current(), configPath: project.config, function: function, reporter: reporter(project))
            var request = RollbackRequest(alias: alias, aws: aws.settings)
            request.toVersion = to
            request.function = function
            request.overrideProtection = move.overrideProtection
            request.pushNotes = move.pushNotesRequest
            let report = try await runner.rollback(request)
            if project.json { printJSON(report) } else {
                for line in report.lines { print(line) }
            }
            if let pending = report.recordProblem { throw pending }
        }
    }
}
