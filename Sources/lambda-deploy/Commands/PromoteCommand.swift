import ArgumentParser
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

    @OptionGroup var target: FunctionOption

    @OptionGroup var weight: WeightOption

    @Flag(help: "Complete a traffic shift in progress: the target runs the weighted version fully.")
    var finish = false

    @Flag(name: .customLong("any-commit"), help: "Promote even a commit that is not on the target's branch (recorded).")
    var anyCommit = false

    @OptionGroup var move: MoveOptions
    @OptionGroup var aws: AWSOptions
    @OptionGroup var project: ProjectOptions

    func validate() throws {
        if finish, from != nil || weight.weight != nil {
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
        try await move.run(target, project: project, aws: aws) { moves, connect in
            var request = PromoteRequest(to: to)
            request.from = from
            request.function = target.function
            request.weight = try weight.value
            request.finish = finish
            request.anyCommit = anyCommit
            request.overrideProtection = move.overrideProtection
            request.pushNotes = move.pushNotesRequest
            try moves.check(request)
            return try await moves.promote(request, services: connect())
        }
    }
}
