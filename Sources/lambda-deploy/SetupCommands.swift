import ArgumentParser
import Foundation
import Workflow

struct HookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook",
        abstract: "Deploy dev when you push: install, remove or run the git pre-push hook.",
        subcommands: [Install.self, Uninstall.self, PrePush.self]
    )

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "install",
            abstract: "Install the pre-push hook in this repository (chains an existing hook).",
            discussion: """
                Finds the hooks directory as git does (core.hooksPath honoured). An existing pre-push \
                hook is kept and run first (its failure stops the push, e.g. git-lfs). When a hook \
                manager owns the hooks (husky, lefthook, pre-commit), prints the line to add to it \
                instead. Running it again changes nothing.
                """)
        @Flag(help: "Rewrite lambda-deploy's hook even if it looks installed.")
        var force = false
        @OptionGroup var project: ProjectOptions

        func run() throws {
            try reportingErrors(json: project.json) {
                let hooks = try HookManager(environment: .current(), configPath: project.config)
                let result = try hooks.install(force: force, executable: currentExecutablePath())
                if project.json { printJSON(result) } else { print(result.message) }
            }
        }
    }

    struct Uninstall: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "uninstall",
            abstract: "Remove lambda-deploy from the pre-push hook, restoring a chained hook.")
        @OptionGroup var project: ProjectOptions

        func run() throws {
            try reportingErrors(json: project.json) {
                let hooks = try HookManager(environment: .current(), configPath: project.config)
                let result = try hooks.uninstall()
                if project.json { printJSON(result) } else { print(result.message) }
            }
        }
    }

    struct PrePush: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pre-push",
            abstract: "What the installed hook runs: read git's pushed refs on stdin and deploy dev if they match.",
            discussion: """
                git calls the hook as `pre-push REMOTE URL` with one line per pushed ref on stdin. \
                Deploys `hook.alias` (dev) when a pushed branch matches `hook.branches`, for the \
                configured remote only. A failed deploy warns and lets the push go on unless \
                hook.blockPushOnFailure is true. LAMBDA_DEPLOY_SKIP=1 or `git push --no-verify` skips it.
                """)
        @Argument(help: "The remote's name, as git passes it.")
        var remote: String = ""
        @Argument(help: "The remote's URL, as git passes it.")
        var url: String = ""
        @OptionGroup var aws: AWSOptions
        @OptionGroup var project: ProjectOptions

        func run() async throws {
            let environment = RunEnvironment.current()
            if environment.flag("LAMBDA_DEPLOY_SKIP") {
                printError("lambda-deploy: LAMBDA_DEPLOY_SKIP is set: not deploying")
                return
            }
            let input = FileHandle.standardInput.readDataToEndOfFile()
            try await reportingErrors(json: project.json) {
                let hooks = try HookManager(environment: environment, configPath: project.config)
                let result = try await hooks.prePush(remote: remote, stdin: input, aws: aws.settings, reporter: reporter(project))
                if project.json { printJSON(result) } else if !result.message.isEmpty { printError("lambda-deploy: " + result.message) }
                if result.blockPush { throw ExitCode(ExitStatus.failure) }
            }
        }
    }
}

/// The absolute path of the running binary, so the installed hook runs this same build.
func currentExecutablePath() -> String {
    let link = "/proc/self/exe"
    if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: link) { return resolved }
    return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
}

struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Set up API Gateway in front of the function, one stage per alias.",
        subcommands: [Setup.self]
    )

    struct Setup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "setup",
            abstract: "Create or update the REST API, its method, one stage per alias, and each alias's permission.",
            discussion: """
                Does the console steps of the classic dev/prod set-up in one idempotent command: a Lambda \
                proxy integration to FUNCTION:${stageVariables.alias}, a stage per alias with the stage \
                variable alias=<alias>, and for each alias an invoke permission limited to that stage \
                (one statement per alias, stable ids). A second run changes nothing and says so.

                Example:
                  lambda-deploy gateway setup --api pr-api --aliases dev,prod --method POST --path /
                """)
        @Option(help: ArgumentHelp("Function name (else config `function`, or the one entry of `functions:`).", valueName: "NAME"))
        var function: String?
        @Option(help: ArgumentHelp("REST API name (else gateway.api, else FUNCTION-api).", valueName: "NAME"))
        var api: String?
        @Option(help: ArgumentHelp("Aliases, comma-separated (else gateway.aliases, else dev,prod).", valueName: "LIST"))
        var aliases: String?
        @Option(help: ArgumentHelp("HTTP method (else gateway.method, else POST).", valueName: "METHOD"))
        var method: String?
        @Option(help: ArgumentHelp("Resource path (else gateway.path, else /).", valueName: "PATH"))
        var path: String?
        @OptionGroup var aws: AWSOptions
        @OptionGroup var project: ProjectOptions

        func run() async throws {
            try await reportingErrors(json: project.json) {
                let runner = try DeployRunner(
                    environment: .current(), configPath: project.config, function: function, reporter: reporter(project))
                var request = GatewayRequest(aws: aws.settings)
                request.function = function
                request.api = api
                request.aliases = aliases.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
                request.method = method
                request.path = path
                let report = try await runner.setUpGateway(request)
                if project.json { printJSON(report) } else { for line in report.lines { print(line) } }
            }
        }
    }
}

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the whole set-up in one screen, with the command that fixes each problem.",
        discussion: "Config, credentials, the function and its aliases, gateway stages and permissions, the notes ref locally and on the remote, the hook."
    )
    @Option(help: ArgumentHelp("Function to check (else config `function`, or the only entry of `functions:`).", valueName: "NAME"))
    var function: String?
    @OptionGroup var aws: AWSOptions
    @OptionGroup var project: ProjectOptions

    func run() async throws {
        try await reportingErrors(json: project.json) {
            let report = await Doctor(environment: .current(), configPath: project.config, function: function).run(aws: aws.settings)
            if project.json { printJSON(report) } else { for line in report.lines { print(line) } }
            if !report.healthy { throw ExitCode(ExitStatus.failure) }
        }
    }
}
