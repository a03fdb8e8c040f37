import ArgumentParser
import ReleasePolicy
import Workflow

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print what `lambda-deploy ci` would decide here, and why. Touches nothing.",
        discussion: """
            Shows the CI service detected, the normalised branch, pull-request and tag status, and the \
            raw variables behind the decision (never secrets). With a `functions:` list and no \
            --function, one decision per function (each with its own branches:, tags:, protected:).
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
            let all = try project.load()
            if function == nil, all.config.functions.count > 1 {
                let decisions = try all.config.functions.map { entry in
                    FunctionDecision(function: entry.name, decision: try all.narrowed(to: entry.name).decide(overrideProtection: overrideProtection))
                }
                if project.json {
                    Console.json(decisions)
                } else {
                    for item in decisions {
                        Console.line("\(item.function): \(item.decision.shouldDeploy ? "deploy \(item.decision.alias ?? "")" : "skip"): \(item.decision.reason)")
                    }
                    if let context = decisions.first?.decision { for line in Render.contextLines(context) { Console.line("  " + line) } }
                }
                return
            }
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

/// One function's decision in `plan --json` for a `functions:` list.
struct FunctionDecision: Encodable {
    var function: String
    var decision: Decision

    func encode(to encoder: any Encoder) throws {
        try decision.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(function, forKey: .function)
    }

    enum Key: String, CodingKey { case function }
}
