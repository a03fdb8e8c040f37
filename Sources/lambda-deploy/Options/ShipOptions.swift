import ArgumentParser
import Packaging
import Safety
import Workflow

/// Options shared by `deploy` and `ci`: what to ship and how.
struct ShipOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Lambda function name (else config `function`, or the one entry of `functions:`).", valueName: "NAME"))
    var function: String?

    @Option(name: .customLong("dir"), help: ArgumentHelp("The function's directory (else config `directory`).", valueName: "DIR"))
    var directory: String?

    @Option(name: .customLong("s3-bucket"), help: ArgumentHelp("Bucket for packages too large for a direct upload (about 50 MB zipped).", valueName: "BUCKET"))
    var s3Bucket: String?

    @Option(help: ArgumentHelp("Extra text for the version description (the commit and content digest are always there).", valueName: "TEXT"))
    var description: String?

    @OptionGroup var weight: WeightOption

    @Flag(name: .customLong("dry-run"), help: "Package and read the alias and $LATEST, then say what would happen; change nothing.")
    var dryRun = false

    @Flag(name: .customLong("allow-outside-repo"), help: "Deploy a function directory that is not inside the repository (recorded as dirty).")
    var allowOutsideRepository = false

    @Flag(name: .customLong("skip-check"), help: "Move the alias without running the config's `check:` invocation (recorded).")
    var skipCheck = false

    @Option(name: .customLong("no-lint"), help: ArgumentHelp("Skip one packaging lint (handler, secret-files, large-entries, dev-files); repeatable, recorded.", valueName: "NAME"))
    var disabledLints: [String] = []
    @Flag(name: .customLong("allow-older"), help: "Move the alias even when it runs a newer commit of the branch (recorded).")
    var allowOlder = false

    @Option(help: ArgumentHelp("With a `functions:` list: how many functions deploy at once (default 4).", valueName: "N"))
    var parallel: Int?

    @OptionGroup var move: MoveOptions

    func validate() throws {
        if let unknown = PackageLint.unknownNames(disabledLints).first {
            let known = PackageLint.Name.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("--no-lint \(DisplayText.excerpt(unknown, limit: 60)) is not a lint; use one of \(known)")
        }
        if let parallel, !(1...64).contains(parallel) {
            throw ValidationError("--parallel must be between 1 and 64; got \(parallel)")
        }
    }

    func request(alias: String, trigger: DeployTrigger) throws -> DeployRequest {
        var request = DeployRequest(alias: alias, trigger: trigger)
        request.function = function
        request.directory = directory
        request.s3Bucket = s3Bucket
        request.description = description
        request.weight = try weight.value
        request.dryRun = dryRun
        request.allowOutsideRepository = allowOutsideRepository
        request.skipCheck = skipCheck
        request.disabledLints = Set(disabledLints)
        request.allowOlder = allowOlder
        request.pushNotes = move.pushNotesRequest
        request.overrideProtection = move.overrideProtection
        return request
    }
}
