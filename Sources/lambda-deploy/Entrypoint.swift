import ArgumentParser
import Workflow

@main
struct LambdaDeploy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lambda-deploy",
        abstract: "Ship an AWS Lambda function from a git repository, safely and with a trail.",
        discussion: """
            One function, two aliases: `dev` moves when you push (the pre-push hook), `prod` moves \
            only from CI on the main branch. lambda-deploy packages the function directory into a \
            reproducible zip, uploads it, publishes a version, moves the alias and records the deploy \
            as a git note on the commit it shipped.

            Run with no subcommand (or `lambda-deploy ci`) in CI: it reads the CI environment, decides \
            whether to deploy and to which alias, says why, and acts. Start with `lambda-deploy plan` \
            to see that decision without touching anything.

            Configuration lives in lambda-deploy.yml at the repository root (see the README).
            Exit codes: 0 success or a deliberate skip; 1 failure; 3 deployed but the record could \
            not be pushed; 4 drift found by verify; 64 bad usage.
            """,
        version: ToolInfo.version,
        groupedSubcommands: [
            CommandGroup(name: "Deploying", subcommands: [CICommand.self, PlanCommand.self, DeployCommand.self, PromoteCommand.self, RollbackCommand.self]),
            CommandGroup(name: "Building", subcommands: [PackageCommand.self]),
            CommandGroup(name: "Auditing", subcommands: [HistoryCommand.self, ShowCommand.self, VerifyCommand.self, NotesCommand.self]),
            CommandGroup(name: "Setting up", subcommands: [HookCommand.self, GatewayCommand.self, DoctorCommand.self]),
        ],
        defaultSubcommand: CICommand.self
    )
}
