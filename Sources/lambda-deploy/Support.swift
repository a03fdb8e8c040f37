import ArgumentParser
import Foundation
import Workflow

/// Options every command that reads the project shares.
struct ProjectOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Config file to read instead of lambda-deploy.yml.", valueName: "FILE"))
    var config: String?

    @Flag(name: .long, help: "Print one JSON document on stdout instead of human lines.")
    var json = false

    @Flag(name: .shortAndLong, help: "Say more about each step, including every AWS call (never secrets).")
    var verbose = false
}

/// The flags every command that moves an alias takes: protection and record sharing.
struct MoveOptions: ParsableArguments {
    @Flag(name: .customLong("override-protection"), help: "Allow moving a protected alias (prod) from outside CI. Recorded with who ran it.")
    var overrideProtection = false

    @Flag(name: .customLong("push-notes"), help: "Share the record through the remote (default in CI, or notes.push in the config).")
    var pushNotes = false

    /// nil leaves the decision to the config (`notes.push`, default: in CI only).
    var pushNotesRequest: Bool? { pushNotes ? true : nil }
}

/// Where and as whom AWS is called.
struct AWSOptions: ParsableArguments {
    @Option(help: ArgumentHelp("AWS region (else config `region`, AWS_REGION, AWS_DEFAULT_REGION, the profile).", valueName: "REGION"))
    var region: String?

    @Option(name: .customLong("endpoint-url"), help: ArgumentHelp("Send AWS calls to this endpoint (e.g. a local moto server). AWS_ENDPOINT_URL works too.", valueName: "URL"))
    var endpointURL: String?

    @Option(help: ArgumentHelp("Profile from ~/.aws/credentials and ~/.aws/config (else AWS_PROFILE).", valueName: "NAME"))
    var profile: String?

    var settings: AWSSettings { AWSSettings(region: region, endpointURL: endpointURL, profile: profile) }
}

/// Reads `--weight`: a percentage strictly between 0 and 100.
///
/// The option is taken as text (with `.unconditional` parsing, so `--weight -1` is a value, not
/// a missing one) and checked here, so every bad value gets the same one-line message instead of
/// ArgumentParser's "missing value" or its four-line "invalid value" with a help excerpt.
func parseWeight(_ text: String?) throws -> Double? {
    guard let text else { return nil }
    guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite, value > 0, value < 100 else {
        throw ValidationError("invalid weight '\(text)': give a percentage strictly between 0 and 100, e.g. --weight 10")
    }
    return value
}

/// Exit codes documented in `lambda-deploy --help` and the README.
enum ExitStatus {
    static let failure: Int32 = 1
    static let notesNotPushed: Int32 = 3
    static let drift: Int32 = 4
}

/// Runs a command body, turning any error into one line on stderr and a non-zero exit.
///
/// ArgumentParser would print `String(describing:)` of an error; our errors are `LocalizedError`s
/// whose description is the message a user can act on, so we print that ourselves.
func reportingErrors(json: Bool = false, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch {
        throw reported(error, json: json)
    }
}

/// ``reportingErrors(json:_:)`` for a synchronous command body.
func reportingErrors(json: Bool = false, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch {
        throw reported(error, json: json)
    }
}

/// Prints `error` as one line (and a JSON error document with `--json`) and returns the exit code
/// to leave with.
private func reported(_ error: any Error, json: Bool) -> ExitCode {
    if let exit = error as? ExitCode { return exit }
    let message = (error as? any LocalizedError)?.errorDescription ?? String(describing: error)
    let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    printError("error: " + oneLine)
    if let workflowError = error as? WorkflowError, case .notesNotPushed = workflowError {
        // The result document was printed already; its `record` says the push failed.
        return ExitCode(ExitStatus.notesNotPushed)
    }
    if let workflowError = error as? WorkflowError, case .drift = workflowError {
        return ExitCode(ExitStatus.drift)  // the report (printed already) lists the drift
    }
    if json { printJSON(ErrorDocument(error: oneLine)) }
    return ExitCode(ExitStatus.failure)
}

struct ErrorDocument: Encodable { var error: String }

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

func printJSON<T: Encodable>(_ value: T) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    guard let data = try? encoder.encode(value) else {
        printError("error: could not encode the result as JSON")
        return
    }
    FileHandle.standardOutput.write(data + Data("\n".utf8))
}

func reporter(_ options: ProjectOptions) -> Reporter {
    Reporter.standardError(verbose: options.verbose, quiet: false)
}
