import ArgumentParser
import Workflow

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the whole set-up in one screen, with the command that fixes each problem.",
        discussion: "Config, credentials, the function and its aliases, gateway stages and permissions, the notes ref locally and on the remote, the hook."
    )

    @Option(help: ArgumentHelp("Function to check (else config `function`, or the only entry of `functions:`).", valueName: "NAME"))
    var function: String?
    @OptionGroup var aws: AWSOptions
    @OptionGroup var project: ProjectOptions

    func run() async throws {
        try await reportingErrors(json: project.json) {
            let settings = aws.settings
            let report = await Doctor(environment: .current(), configPath: project.config, function: function).run { loaded in
                try await Services.connect(settings, project: loaded, reporter: .silent)
            }
            Render.report(report, json: project.json)
            if !report.healthy { throw ExitCode(ExitStatus.failure) }
        }
    }
}
