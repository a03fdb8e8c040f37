import ArgumentParser
import Foundation
import Workflow

struct CICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ci",
        abstract: "Decide from the CI environment and deploy when the policy says so (the default command).",
        discussion: """
            The one line for CI: Travis `after_success: lambda-deploy`, or a GitHub Actions step \
            `run: lambda-deploy`. Reads the CI service's variables (Travis, GitHub Actions, GitLab, \
            CircleCI, Buildkite, Jenkins, Bitbucket, Azure Pipelines, CodeBuild), then:
              - pull-request and fork builds never deploy;
              - tag builds deploy only through `tags:` in the config;
              - only the first job of a build matrix deploys;
              - the branch maps to an alias through `branches:` (default: main and master -> prod).
            A deliberate skip exits 0 and says why. See `lambda-deploy plan` for the decision alone.
            """
    )

    @OptionGroup var ship: ShipOptions
    @OptionGroup var aws: AWSOptions
    @OptionGroup var project: ProjectOptions

    func run() async throws {
        try await reportingErrors(json: project.json) {
            let runner = try DeployRunner(
                environment: .current(), configPath: project.config, function: ship.function, reporter: reporter(project))
            let decision = runner.decide()
            guard decision.shouldDeploy, let alias = decision.alias else {
                if project.json { printJSON(decision) } else { print("skip: \(decision.reason)") }
                return
            }
            if !project.json { printError("deploy \(alias): \(decision.reason)") }
            let report = try await runner.run(ship.request(alias: alias, trigger: .ci, aws: aws))
            render(report, json: project.json)
            if let pending = report.recordProblem { throw pending }
        }
    }
}

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print what `lambda-deploy ci` would decide here, and why. Touches nothing.",
        discussion: """
            Shows the CI service detected, the normalised branch, pull-request and tag status, and the \
            raw variables behind the decision (never secrets).
            JSON: {"action": "deploy"|"skip", "alias": ..., "reason": ..., "context": {...}}
            """
    )

    @Option(help: ArgumentHelp("With a `functions:` list: the function whose branch mapping decides.", valueName: "NAME"))
    var function: String?

    @OptionGroup var project: ProjectOptions

    func run() throws {
        try reportingErrors(json: project.json) {
            let runner = try DeployRunner(
                environment: .current(), configPath: project.config, function: function, reporter: reporter(project))
            let decision = runner.decide()
            if project.json {
                printJSON(decision)
                return
            }
            print("\(decision.shouldDeploy ? "deploy \(decision.alias ?? "")" : "skip"): \(decision.reason)")
            for line in decision.contextLines { print("  " + line) }
        }
    }
}
