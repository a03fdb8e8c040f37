import ArgumentParser
import Foundation
import ReleasePolicy
import Workflow

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
            not be pushed; 4 drift found by verify; 5 AWS changed but the record could not be \
            written; 64 bad usage; 130/143 stopped by SIGINT/SIGTERM (at a step boundary, with a \
            record of what changed).
            """,
        version: ToolInfo.version,
        groupedSubcommands: [
            CommandGroup(name: "Deploying", subcommands: [CICommand.self, PlanCommand.self, DeployCommand.self, PromoteCommand.self, RollbackCommand.self, PruneCommand.self]),
            CommandGroup(name: "Building", subcommands: [PackageCommand.self]),
            CommandGroup(name: "Auditing", subcommands: [StatusCommand.self, HistoryCommand.self, ShowCommand.self, VerifyCommand.self, NotesCommand.self]),
            CommandGroup(name: "Setting up", subcommands: [HookCommand.self, GatewayCommand.self, DoctorCommand.self]),
        ],
        defaultSubcommand: CICommand.self
    )

    /// Refuses an unknown command word before parsing.
    ///
    /// With `ci` as the default subcommand, ArgumentParser reads `lambda-deploy deplyo` as `ci`
    /// given a stray argument and answers "Unexpected argument" with `ci`'s usage, which points the
    /// user at the wrong command. Naming the unknown command and the real ones is the useful answer.
    static func refuseUnknownCommand(_ arguments: [String]) {
        if let first = arguments.first, !first.hasPrefix("-") {
            let names = configuration.subcommands.compactMap { $0.configuration.commandName }
            if !names.contains(first) && first != "help" {
                Console.error("error: unknown command '\(first)'; the commands are \(names.joined(separator: ", ")) (see `lambda-deploy --help`)")
                Foundation.exit(ExitCode.validationFailure.rawValue)
            }
        }
    }
}

/// The process entry point: parses the command line and runs the chosen command.
///
/// The main thread parses and runs synchronous commands itself (`history`, which never touches
/// the network, reads thousands of notes there); commands that call AWS are `async` and run on
/// Swift's global executor while the main thread waits. This is ArgumentParser's own
/// `AsyncParsableCommand.main`, minus starting every command on a worker thread: a worker's
/// malloc arena grows a page at a time (1,300 `mprotect` calls in a cold 10,000-record
/// `history`), the main arena in 128 KiB steps.
@main
enum Entrypoint {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        // Before ArgumentParser builds the command tree (half of the start-up time): scripts
        // and installers ask for the version, and nothing else is needed to answer it.
        if arguments == ["--version"] {
            Console.line(ToolInfo.version)
            return
        }
        LambdaDeploy.refuseUnknownCommand(arguments)
        // Help and version never open a repository; everything else almost always does.
        if !arguments.contains(where: { ["-h", "--help", "--version", "help"].contains($0) }) { Startup.begin() }
        do {
            var command = try LambdaDeploy.parseAsRoot(arguments)
            if let asyncCommand = command as? any AsyncParsableCommand {
                // Commands that call AWS stop at a step boundary on SIGINT/SIGTERM (see ProcessGuard).
                ProcessGuard.installSignalHandlers()
                try runToCompletion(asyncCommand)
            } else {
                try command.run()
            }
            if case .signal(let number)? = Interruption.requested { ProcessGuard.exitNow(128 + number) }
            Startup.finishForExit()
        } catch {
            Startup.finishForExit()  // before exit: see GitLibraryStart
            TemporaryFiles.shared.removeAll()
            if LambdaDeploy.exitCode(for: error) == .validationFailure {
                Console.error(usageLine(for: error, arguments: arguments))
                Foundation.exit(ExitCode.validationFailure.rawValue)
            }
            LambdaDeploy.exit(withError: error)
        }
    }

    /// A usage error as one line: ArgumentParser's message (without its usage block), the
    /// option the user probably meant when a required one is missing because it was misspelt,
    /// and where the help is.
    static func usageLine(for error: any Error, arguments: [String]) -> String {
        var message = LambdaDeploy.message(for: error).split(whereSeparator: \.isNewline).first.map(String.init) ?? "bad usage"
        if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
        if let missing = missingOption(in: message),
           let typo = arguments.first(where: { $0.hasPrefix("--") && $0 != missing && Suggest.closest(to: $0, in: [missing]) != nil }) {
            message = "unknown option '\(typo)'; did you mean '\(missing)'?"
        }
        let path = (["lambda-deploy"] + commandPath(arguments)).joined(separator: " ")
        return "error: \(message) (see `\(path) --help`)"
    }

    /// `--alias` from "Missing expected argument '--alias <ALIAS>'".
    private static func missingOption(in message: String) -> String? {
        guard message.hasPrefix("Missing expected argument '--"),
              let name = message.dropFirst("Missing expected argument '".count).split(whereSeparator: { $0 == " " || $0 == "'" }).first
        else { return nil }
        return String(name)
    }

    /// The subcommand words at the start of `arguments` (`hook install`, `deploy`).
    private static func commandPath(_ arguments: [String]) -> [String] {
        var path: [String] = []
        var commands = LambdaDeploy.configuration.subcommands
        for word in arguments {
            guard let command = commands.first(where: { $0.configuration.commandName == word }) else { break }
            path.append(word)
            commands = command.configuration.subcommands
        }
        return path
    }

    /// Runs an async command on the global executor and blocks the main thread until it is done.
    /// Nothing in lambda-deploy runs on the main actor, so the wait cannot deadlock.
    private static func runToCompletion(_ command: sending any AsyncParsableCommand) throws {
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            var command = command
            do {
                try await command.run()
            } catch {
                outcome.error = error
            }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw error }
    }

    /// The error an async command ended with, handed from its task to the waiting main thread
    /// (written before the semaphore is signalled, read after the wait returns).
    private final class Outcome: @unchecked Sendable {
        var error: (any Error)?
    }
}
