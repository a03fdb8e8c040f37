import ArgumentParser
import Workflow

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete published versions nothing needs, and report the account's code storage.",
        discussion: """
            Never deleted: a version an alias points at (a traffic shift's additional version too), \
            the newest N (--keep, default 10), every version the ledger says an alias ran within its \
            last M moves (--rollback-targets, default 3: what `rollback` may go back to), and versions \
            with provisioned concurrency. Prints what it deletes and keeps, and why, and the account's \
            code storage before and after (GetAccountSettings: used and limit).

            Safe beside a deploy: versions are listed once, so one published meanwhile is never \
            touched, and AWS refuses to delete a version an alias moved onto meanwhile (kept).

            Examples:
              lambda-deploy prune --dry-run
              lambda-deploy prune --keep 5 --all
            """
    )

    @OptionGroup var target: FunctionOption

    @Flag(help: "Prune every function of the config's `functions:` list.")
    var all = false

    @Option(help: ArgumentHelp("Always keep the newest N versions (at least 1).", valueName: "N"))
    var keep: Int = PruneRequest.defaultKeep

    @Option(name: .customLong("rollback-targets"), help: ArgumentHelp("Keep the versions each alias ran within its last M recorded moves.", valueName: "M"))
    var rollbackTargets: Int = PruneRequest.defaultRollbackTargets

    @Flag(name: .customLong("dry-run"), help: "Say what would be deleted; delete nothing.")
    var dryRun = false

    @OptionGroup var aws: AWSOptions
    @OptionGroup var project: ProjectOptions

    func validate() throws {
        if keep < 1 { throw ValidationError("--keep must be at least 1 (the newest version is always kept); got \(keep)") }
        if rollbackTargets < 0 { throw ValidationError("--rollback-targets cannot be negative; got \(rollbackTargets)") }
        if all, target.function != nil { throw ValidationError("--all prunes every function: use it without --function") }
    }

    func run() async throws {
        try await reportingErrors(json: project.json) {
            let whole = try project.load()
            let projects = all ? try whole.config.targets.map { try whole.narrowed(to: $0.name) } : [try project.load(function: target.choice)]
            let connect = Services.regionalConnector(aws.settings, environment: whole.environment, reporter: project.reporter)
            var reports: [PruneReport] = []
            for loaded in projects {
                let request = PruneRequest(function: all ? nil : target.function, keep: keep, rollbackTargets: rollbackTargets, dryRun: dryRun)
                let report = try await Prune(project: loaded, reporter: project.reporter).run(request, services: connect(loaded.config.region))
                if !project.json { Render.lines(report.lines) }
                reports.append(report)
            }
            if project.json {
                if all { Console.json(reports) } else if let report = reports.first { Console.json(report) }
            }
        }
    }
}
