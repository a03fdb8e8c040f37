import ArgumentParser
import Workflow

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

    @Flag(name: .customLong("override-protection"), help: "Decide as `ci --override-protection` would.")
    var overrideProtection = false

    @OptionGroup var project: ProjectOptions

    func run() throws {
        try reportingErrors(json: project.json) {
            let decision = try project.load(function: .one(function)).decide(overrideProtection: overrideProtection)
            if project.json {
                Console.json(decision)
                return
            }
            Console.line("\(decision.shouldDeploy ? "deploy \(decision.alias ?? "")" : "skip"): \(decision.reason)")
            for line in Render.contextLines(decision) { Console.line("  " + line) }
        }
    }
}
