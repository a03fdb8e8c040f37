import ArgumentParser
import Workflow

struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Package the function and move an alias to a new version of it.",
        discussion: """
            Steps: build (the config's `build:`, reused when its inputs are unchanged) -> package (and \
            lint: secret-looking files refuse it) -> read the alias and the version it runs -> skip if it already runs this \
            code (result: unchanged) -> read $LATEST -> check the handler's file is where the runtime looks -> upload (directly, or through S3 above ~50 MB zipped) -> wait for the \
            update -> publish a version (with a CodeSha256 precondition, so no version ever holds other \
            code than what was packaged) -> invoke it with the config's `check:` (--skip-check skips) \
            -> create or move the alias -> record the deploy as a git note (-> `prune:` old versions).

            Protected aliases (prod by default) only move from a CI build of a mapped branch; run \
            `lambda-deploy plan` to see why, or pass --override-protection (recorded).

            Deploys racing for one function take turns. One whose alias already runs a newer commit \
            of the branch (git ancestry, else a later CI build) leaves it alone and exits 0 with \
            result: superseded (recorded); --allow-older moves it back anyway (recorded).

            Examples:
              lambda-deploy deploy --alias dev
              lambda-deploy deploy --function pr --dir src/pr --alias dev --dry-run
              lambda-deploy deploy --alias prod --weight 10   # canary: 10% of traffic
              lambda-deploy deploy --alias dev --all          # every function of functions:
            """
    )

    @Option(help: ArgumentHelp("The alias to move (e.g. dev).", valueName: "ALIAS"))
    var alias: String

    @Flag(help: "Deploy every function of the config's `functions:` list to ALIAS (several at once).")
    var all = false

    @OptionGroup var ship: ShipOptions
    @OptionGroup var aws: AWSOptions
    @OptionGroup var project: ProjectOptions

    func validate() throws {
        if all, ship.function != nil { throw ValidationError("--all deploys every function: use it without --function") }
    }

    func run() async throws {
        try await reportingErrors(json: project.json) {
            if all {
                let loaded = try project.load()
                let reporter = project.reporter
                let fleet = FleetDeploy(project: loaded, reporter: reporter, parallel: ship.parallel ?? loaded.parallelDeploys)
                let json = project.json
                let report = try await fleet.run(
                    .alias(alias), template: try ship.request(alias: alias, trigger: .manual),
                    connect: Services.regionalConnector(aws.settings, environment: loaded.environment, reporter: reporter)
                ) { run in if !json { Console.line(Render.line(run)) } }
                try Render.fleet(report, json: json)
                return
            }
            let loaded = try project.load(function: .one(ship.function))
            let reporter = project.reporter
            let report = try await DeployPipeline(project: loaded, reporter: reporter)
                .run(ship.request(alias: alias, trigger: .manual), connect: aws.connector(loaded, reporter: reporter))
            Render.deploy(report, json: project.json)
            CIOutput.current.report([report])
            if let pending = report.recordProblem { throw pending }
        }
    }
}
