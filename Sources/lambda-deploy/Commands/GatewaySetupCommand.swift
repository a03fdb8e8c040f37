import ArgumentParser
import Foundation
import Workflow

struct GatewaySetupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup",
        abstract: "Create or update the REST API, its method, one stage per alias, and each alias's permission.",
        discussion: """
            Does the console steps of the classic dev/prod set-up in one idempotent command: a Lambda \
            proxy integration to FUNCTION:${stageVariables.alias}, a stage per alias with the stage \
            variable alias=<alias>, and for each alias an invoke permission limited to that stage \
            (one statement per alias, stable ids). A second run changes nothing and says so.

            Example:
              lambda-deploy gateway setup --api pr-api --aliases dev,prod --method POST --path /
            """)

    @OptionGroup var target: FunctionOption
    @Option(help: ArgumentHelp("REST API name (else gateway.api, else FUNCTION-api).", valueName: "NAME"))
    var api: String?
    @Option(help: ArgumentHelp("Aliases, comma-separated (else gateway.aliases, else dev,prod).", valueName: "LIST"))
    var aliases: String?
    @Option(help: ArgumentHelp("HTTP method (else gateway.method, else POST).", valueName: "METHOD"))
    var method: String?
    @Option(help: ArgumentHelp("Resource path (else gateway.path, else /).", valueName: "PATH"))
    var path: String?
    @OptionGroup var aws: AWSOptions
    @OptionGroup var project: ProjectOptions

    func run() async throws {
        try await project.reportingErrors(function: target.choice) { loaded in
            var request = GatewayRequest()
            request.function = target.function
            request.api = api
            request.aliases = aliases.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            request.method = method
            request.path = path
            let setup = GatewaySetup(project: loaded)
            try setup.check(request)
            let report = try await setup.run(request, services: aws.connector(loaded, reporter: project.reporter)())
            Render.report(report, json: project.json)
        }
    }
}
