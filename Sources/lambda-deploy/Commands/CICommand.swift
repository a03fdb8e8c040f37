import ArgumentParser
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
              - the branch maps to an alias through `branches:` (default: main and master -> prod);
              - outside CI, a protected alias (prod) moves only with --override-protection (recorded).
            With a `functions:` list and no --function, every function decides with its own \
            settings and the changed ones deploy at once (--parallel N, default 4), within one rate \
            budget for Lambda's API; one line per function, then a summary; --json prints an array. \
            The exit code is the worst outcome: 1 if any function failed.
            A deliberate skip exits 0 and says why. See `lambda-deploy plan` for the decision alone.
            """
    )

    @OptionGroup var ship: ShipOptions
    @OptionGroup var aws: AWSOptions
    @OptionGroup var project: ProjectOptions

    func run() async throws {
        try await reportingErrors(json: project.json) {
            if ship.function == nil, try project.load().config.functions.count > 1 {
                try await runFleet()
                return
            }
            let loaded = try project.load(function: .one(ship.function))
            let decision = loaded.decide(overrideProtection: ship.move.overrideProtection)
            guard decision.shouldDeploy, let alias = decision.alias else {
                if project.json { Console.json(decision) } else { Console.line("skip: \(decision.reason)") }
                CIOutput.current.report(skip: decision)
                return
            }
            if !project.json { Console.error("deploy \(alias): \(decision.reason)") }
            var request = try ship.request(alias: alias, trigger: .ci)
            request.decision = decision
            let reporter = project.reporter
            let report = try await DeployPipeline(project: loaded, reporter: reporter)
                .run(request, connect: aws.connector(loaded, reporter: reporter))
            Render.deploy(report, json: project.json)
            CIOutput.current.report([report])
            if let pending = report.recordProblem { throw pending }
        }
    }

    /// Every function of a `functions:` list, each decided by its own settings.
    func runFleet() async throws {
        let loaded = try project.load()
        let reporter = project.reporter
        let fleet = FleetDeploy(project: loaded, reporter: reporter, parallel: ship.parallel ?? loaded.parallelDeploys)
        let json = project.json
        let report = try await fleet.run(
            .decide(overrideProtection: ship.move.overrideProtection), template: try ship.request(alias: "", trigger: .ci),
            connect: Services.regionalConnector(aws.settings, environment: loaded.environment, reporter: reporter)
        ) { run in if !json { Console.line(Render.line(run)) } }
        try Render.fleet(report, json: json)
    }
}
