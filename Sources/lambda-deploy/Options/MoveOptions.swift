import ArgumentParser
import Foundation
import Workflow

/// The flags every command that moves an alias takes: protection and record sharing.
struct MoveOptions: ParsableArguments {
    @Flag(name: .customLong("override-protection"), help: "Allow moving a protected alias (prod) from outside CI. Recorded with who ran it.")
    var overrideProtection = false

    @Flag(name: .customLong("push-notes"), help: "Share the record through the remote (default in CI, or notes.push in the config).")
    var pushNotes = false

    /// nil leaves the decision to the config (`notes.push`, default: in CI only).
    var pushNotesRequest: Bool? { pushNotes ? true : nil }

    /// The run of `promote` and `rollback`: loads the project narrowed to the function, lets `move`
    /// check and make its alias move, prints the report, then fails when its record was not
    /// written or shared.
    func run(
        _ function: FunctionOption, project: ProjectOptions, aws: AWSOptions,
        _ move: (AliasMoves, ServicesProvider) async throws -> AliasMoveReport
    ) async throws {
        try await project.reportingErrors(function: function.choice) { loaded in
            let reporter = project.reporter
            let report = try await move(AliasMoves(project: loaded, reporter: reporter), aws.connector(loaded, reporter: reporter))
            Render.report(report, json: project.json)
            if let pending = report.recordProblem { throw pending }
        }
    }
}

/// `--weight PERCENT`, taken as text (with `.unconditional` parsing, so `--weight -1` is a value,
/// not a missing one) and checked by Workflow's one parser of it, so every bad value gets the
/// same one-line message.
struct WeightOption: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("Route PERCENT of the alias's traffic to the new version and keep the rest on the current one (0 < PERCENT < 100); finish with `promote --finish`.", valueName: "PERCENT"))
    var weight: String?

    var value: Double? {
        get throws { try weight.map { try parseWeight($0) } }
    }

    func validate() throws {
        do {
            _ = try value
        } catch {
            throw ValidationError(describeError(error))
        }
    }
}

func describeError(_ error: any Error) -> String {
    (error as? any LocalizedError)?.errorDescription ?? String(describing: error)
}
