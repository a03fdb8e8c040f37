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
            A deliberate skip exits 0 and says why. See `lambda-deploy plan` for the decision alone.
            """
    )

    @OptionGroup var ship: ShipOptions
    @OptionGroup var aws: AWSOptions
    @OptionGroup var project: ProjectOptions

    func run() async throws {
        try await reportingErrors(json: project.json) {
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
}
