import ArgumentParser
import Foundation
import Packaging
import Safety
import Workflow

struct PackageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "package",
        abstract: "Build the deployment zip for a function directory, byte-for-byte reproducible.",
        discussion: """
            Writes the exact zip Lambda will run and prints its CodeSha256 (the value Lambda reports \
            for the function), so you can compare it with what is deployed.

            Entries are sorted, timestamps fixed and modes kept (executables 0755, others 0644), so the \
            same tree always gives the same bytes. `.git/` is never packaged; a `.lambdaignore` file at \
            the directory's root excludes more (gitignore syntax). `.gitignore` is NOT applied: \
            node_modules and vendored dependencies are usually git-ignored and must ship.

            The zip must go outside DIR, and an existing --output file is replaced only if it is a zip \
            lambda-deploy wrote.

            Lint runs before the zip is written: files that look like secrets (.env, private keys, \
            .aws/credentials, an .npmrc with a token, Terraform state) refuse the package; with \
            --runtime (and --handler), the handler's file, or an executable bootstrap for provided \
            runtimes, must be where Lambda looks. Warnings name large files and dev-only folders. \
            Lints: handler, secret-files, large-entries, dev-files (config `lint:`, or --no-lint NAME).

            With a `build:` in the config, its command runs first (or an unchanged build is reused) \
            and the zip holds its output folder; --no-build zips that folder as it is.

            Examples:
              lambda-deploy package src/pr
              lambda-deploy package src/pr --output build/pr.zip --exclude '*.md' --json
              lambda-deploy package src/pr --runtime python3.12 --handler app.handler
            """
    )

    @Argument(help: ArgumentHelp("The function's directory.", valueName: "DIR"))
    var directory: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the zip (default: DIR-NAME.zip in the current directory).", valueName: "FILE"))
    var output: String?

    @Option(help: ArgumentHelp("Deflate level, 0 (store) to 12 (smallest).", valueName: "N"))
    var level: Int = 6

    @Option(name: .customLong("exclude"), help: ArgumentHelp("Extra pattern to leave out, gitignore syntax; repeatable.", valueName: "PATTERN"))
    var excludes: [String] = []

    @Flag(name: .customLong("no-cache"), help: "Compress every file again instead of reusing unchanged entries from the cache.")
    var noCache = false

    @Option(name: .customLong("cache-dir"), help: ArgumentHelp("Entry cache directory (default ~/.cache/lambda-deploy/entries).", valueName: "DIR"))
    var cacheDirectory: String?

    @Option(help: ArgumentHelp("Config file whose `exclude:` applies (default: lambda-deploy.yml, as for deploy).", valueName: "FILE"))
    var config: String?

    @Option(help: ArgumentHelp("With a `functions:` list: the function whose `exclude:` applies.", valueName: "NAME"))
    var function: String?

    @Flag(name: .customLong("no-build"), help: "With a `build:` in the config: zip its output folder as it is, without running the command.")
    var noBuild = false

    @Option(help: ArgumentHelp("The function's Handler setting, for the handler lint (e.g. app.handler).", valueName: "HANDLER"))
    var handler: String?

    @Option(help: ArgumentHelp("The function's Runtime (e.g. python3.12, nodejs20.x, provided.al2023); enables the handler lint.", valueName: "RUNTIME"))
    var runtime: String?

    @Option(name: .customLong("no-lint"), help: ArgumentHelp("Skip one lint (handler, secret-files, large-entries, dev-files); repeatable.", valueName: "NAME"))
    var disabledLints: [String] = []

    @Flag(help: "Print one JSON object: codeSha256, contentDigest, files, bytes, unzippedBytes, output, directory, lint.")
    var json = false

    func validate() throws {
        guard (0...12).contains(level) else {
            throw ValidationError("--level must be between 0 (store) and 12 (smallest); got \(level)")
        }
        if let unknown = PackageLint.unknownNames(disabledLints).first {
            let known = PackageLint.Name.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("--no-lint \(DisplayText.excerpt(unknown, limit: 60)) is not a lint; use one of \(known)")
        }
    }

    func run() throws {
        try reportingErrors(json: json) {
            let environment = RunEnvironment.current()
            let directoryPath = environment.absolutePath(directory)
            let name = URL(fileURLWithPath: directoryPath).lastPathComponent
            // The config's `exclude:` applies as it does for `deploy`, so this is the zip Lambda runs.
            let loaded = try Project(environment: environment, configPath: config, function: .packaging(function, directory: directoryPath))
            // The config's `build:` runs first (or is reused), and its output is what is zipped.
            // It runs in a process group of its own, which a terminal's Ctrl-C does not reach:
            // the signal handlers stop it (exit 130) instead of leaving it running.
            if loaded.config.build != nil, !noBuild { ProcessGuard.installSignalHandlers() }
            let packaged = try loaded.packagedDirectory(
                function: function ?? loaded.config.function ?? name, directory: directoryPath, commit: nil, runBuild: !noBuild,
                reporter: Console.reporter(verbose: false))
            var options = loaded.packageOptions(
                directory: packaged,
                output: environment.absolutePath(output ?? "\(name.isEmpty ? "function" : name).zip"), cache: nil)
            options.level = level
            options.excludes += excludes
            options.lint?.handler = handler
            options.lint?.runtime = runtime
            options.lint?.disabled.formUnion(disabledLints)
            if !noCache {
                options.cacheDirectory = cacheDirectory.map(environment.absolutePath) ?? environment.cacheDirectory + "/entries"
            }
            let result = try Packager.package(options)
            try Interruption.check()
            for warning in result.warnings { Console.warning(warning) }
            for finding in result.lint { Console.warning(finding.line) }
            if json {
                Console.json(result)
            } else {
                Console.lines([
                    "wrote \(result.output)",
                    "  files:       \(result.files)",
                    "  unzipped:    \(formatBytes(result.unzippedBytes)) (\(result.unzippedBytes) bytes)",
                    "  zipped:      \(formatBytes(result.bytes)) (\(result.bytes) bytes)",
                    "  CodeSha256:  \(result.codeSha256)",
                ])
            }
        }
    }
}
