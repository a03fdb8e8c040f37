import ArgumentParser
import Foundation
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

    /// Refuses an unknown command word before parsing.
    ///
    /// With `ci` as the default subcommand, ArgumentParser reads `lambda-deploy deplyo` as `ci`
    /// given a stray argument and answers "Unexpected argument" with `ci`'s usage, which points the
    /// user at the wrong command. Naming the unknown command and the real ones is the useful answer.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let first = arguments.first, !first.hasPrefix("-") {
            let names = configuration.subcommands.compactMap { $0.configuration.commandName }
            if !names.contains(first) && first != "help" {
                printError("error: unknown command '\(first)'; the commands are \(names.joined(separator: ", ")) (see `lambda-deploy --help`)")
                Foundation.exit(ExitCode.validationFailure.rawValue)
            }
        }
        await main(arguments)
    }
}
