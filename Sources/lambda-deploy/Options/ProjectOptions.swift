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
}
