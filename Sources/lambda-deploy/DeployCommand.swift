import ArgumentParser
import Foundation
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

    @Option(parsing: .unconditional, help: ArgumentHelp("Route PERCENT of the alias's traffic to the new version and keep the rest on the current one (0 < PERCENT < 100); finish with `promote --finish`.", valueName: "PERCENT"))
    var weight: String?

    @Flag(name: .customLong("dry-run"), help: "Package and read the alias and $LATEST, then say what would happen; change nothing.")
    var dryRun = false


    @OptionGroup var move: MoveOptions

    func validate() throws {
        _ = try parseWeight(weight)
    }

    func request(alias: String, trigger: DeployTrigger, aws: AWSOptions) throws -> DeployRequest {
        var request = DeployRequest(alias: alias, trigger: trigger, aws: aws.settings)
        request.function = function
        request.directory = directory
        request.s3Bucket = s3Bucket
        request.description = description
        request.weight = try parseWeight(weight)
        request.dryRun = dryRun
        request.pushNotes = move.pushNotesRequest
        request.overrideProtection = move.overrideProtection
        return request
    }
}

struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Package the function and move an alias to a new version of it.",
        discussion: """
            Steps: package -> read the alias and $LATEST -> skip if the alias already runs this code \
            (result: unchanged) -> upload (directly, or through S3 above ~50 MB zipped) -> wait for the \
            update -> publish a version (with a CodeSha256 precondition, so no version ever holds other \
            code than what was packaged) -> create or move the alias -> record the deploy as a git note.

            Protected aliases (prod by default) only move from a CI build of a mapped branch; run \
            `lambda-deploy plan` to see why, or pass --override-protection (recorded).

            Examples:
              lambda-deploy deploy --alias dev
              lambda-deploy deploy --function pr --dir src/pr --alias dev --dry-run
              lambda-deploy deploy --alias prod --weight 10   # canary: 10% of traffic
            """
    )

    @Option(help: ArgumentHelp("The alias to move (e.g. dev).", valueName: "ALIAS"))
    var alias: String

    @OptionGroup var ship: ShipOptions
    @OptionGroup var aws: AWSOptions
    @OptionGroup var project: ProjectOptions

    func run() async throws {
        try await reportingErrors(json: project.json) {
            let runner = try DeployRunner(
                environment: .current(), configPath: project.config, function: ship.function, reporter: reporter(project))
            let report = try await runner.run(ship.request(alias: alias, trigger: .manual, aws: aws))
            render(report, json: project.json)
            if let pending = report.recordProblem { throw pending }
        }
    }
}

func render(_ report: DeployReport, json: Bool) {
    if json {
        printJSON(report)
        return
    }
    let outcome = report.outcome
    let place = "\(outcome.function):\(outcome.alias) in \(outcome.region)"
    switch outcome.result {
    case .unchanged:
        print("unchanged: \(place) already runs this code (version \(outcome.version ?? "?"))")
    case .dryRun:
        print("dry run: would \(outcome.plan ?? "do nothing") for \(place)")
    case .deployed:
        if let weight = outcome.weight {
            print("deployed: \(place) now sends \(weight)% of traffic to version \(outcome.version ?? "?") (main version \(outcome.previousVersion ?? "?"))")
        } else {
            print("deployed: \(place) -> version \(outcome.version ?? "?") (was \(outcome.previousVersion ?? "none"))")
        }
    }
    print("  CodeSha256: \(outcome.codeSha256)  uploaded: \(formatBytes(outcome.uploadedBytes))  took \(String(format: "%.1f", outcome.seconds)) s")
    if let commit = report.commit { print("  commit: \(commit)\(report.dirty == true ? " (with uncommitted changes)" : "")") }
    if let record = report.record { print("  record: \(record.summary)") }
}
