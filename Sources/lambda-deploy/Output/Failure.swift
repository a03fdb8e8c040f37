import ArgumentParser
import Foundation
import Workflow

/// Exit codes, documented in `lambda-deploy --help` and the README.
enum ExitStatus {
    static let failure: Int32 = 1
    static let notesNotPushed: Int32 = 3
    static let drift: Int32 = 4
    static let recordNotWritten: Int32 = 5
    static let usage: Int32 = 64
    static let interruptedBySIGINT: Int32 = 130
    static let interruptedBySIGTERM: Int32 = 143

    /// 130 for SIGINT, 143 for SIGTERM (128 + the signal, as shells report it).
    static func interrupted(_ reason: Interruption.Reason) -> Int32 {
        if case .signal(let number) = reason { return 128 + number }
        return failure
    }
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
    // One line whatever the message holds (a server's multi-line answer, a pasted value).
    let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    Console.failure(oneLine)
    // A run over many functions printed its array already; its failures are in it.
    if error is FleetFailed { return ExitCode(ExitStatus.failure) }
    let workflowError = ((error as? DeployFailure)?.underlying ?? error) as? WorkflowError
    switch workflowError {
    case .notesNotPushed?:
        // The result document was printed already; its `record` says the push failed.
        return ExitCode(ExitStatus.notesNotPushed)
    case .recordNotWritten?:
        return ExitCode(ExitStatus.recordNotWritten)
    case .drift?:
        return ExitCode(ExitStatus.drift)  // the report (printed already) lists the drift
    case .interrupted(let reason)?:
        if json { Console.json(ErrorDocument(error: oneLine)) }
        return ExitCode(ExitStatus.interrupted(reason))
    default:
        if let reason = Interruption.requested { return ExitCode(ExitStatus.interrupted(reason)) }
        if json { Console.json(ErrorDocument(error: oneLine)) }
        return ExitCode(ExitStatus.failure)
    }
}

struct ErrorDocument: Encodable { var error: String }

/// Some functions of a run over many failed (each said why on its own line).
struct FleetFailed: LocalizedError {
    var count: Int
    var errorDescription: String? {
        "\(count) function\(count == 1 ? "" : "s") failed (see the lines above); the others finished, each alias consistent with its record"
    }
}
