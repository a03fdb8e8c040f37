import ArgumentParser
import Workflow

/// Options every command that reads the project shares.
struct ProjectOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Config file to read instead of lambda-deploy.yml.", valueName: "FILE"))
    var config: String?

    @Flag(name: .long, help: "Print one JSON document on stdout instead of human lines.")
    var json = false

    @Flag(name: .shortAndLong, help: "Say more about each step, including every AWS call (never secrets).")
    var verbose = false

    /// Progress and warnings on stderr, through the output edge.
    var reporter: Reporter { Console.reporter(verbose: verbose) }

    /// The project as this command sees it: the config (narrowed to `function` when given), the
    /// repository and the CI context, read once.
    func load(function: FunctionChoice = .all, environment: RunEnvironment = .current()) throws -> Project {
        try Project(environment: environment, configPath: config, function: function)
    }

    /// A command body run with the project loaded (narrowed to `function`), any error reported as
    /// one line (and a JSON document with `--json`): see ``reportingErrors(json:_:)``.
    func reportingErrors(function: FunctionChoice = .all, _ body: (Project) async throws -> Void) async throws {
        try await lambda_deploy.reportingErrors(json: json) { try await body(try load(function: function)) }
    }

    /// ``reportingErrors(function:_:)`` for a synchronous command body.
    func reportingErrors(function: FunctionChoice = .all, _ body: (Project) throws -> Void) throws {
        try lambda_deploy.reportingErrors(json: json) { try body(try load(function: function)) }
    }
}

/// `--function NAME`, for the commands that act on one function of the config.
struct FunctionOption: ParsableArguments {
    @Option(help: ArgumentHelp("Function name (else config `function`, or the one entry of `functions:`).", valueName: "NAME"))
    var function: String?

    /// The project narrowed to that function.
    var choice: FunctionChoice { .one(function) }
}
