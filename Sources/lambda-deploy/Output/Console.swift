import Foundation
import Safety
import Workflow

/// The output edge: everything the process prints goes through here.
///
/// Human lines are redacted (``Redactor``: secrets the process holds, signatures, tokens,
/// passwords in URLs) and escaped (``DisplayText``: control characters from a note, a branch
/// name or a server message become visible, so one value is one line and nothing reaches the
/// terminal raw). JSON is redacted; JSON's own escaping already keeps control characters out.
enum Console {
    /// One line on stdout.
    static func line(_ text: String) {
        write(FileHandle.standardOutput, text)
    }

    /// One line on stderr.
    static func error(_ text: String) {
        write(FileHandle.standardError, text)
    }

    /// An error message as this CI shows errors (`error: ...`, or a GitHub annotation).
    static func failure(_ message: String) {
        rawLine(CIOutput.current.errorLine(displayed(message)), to: FileHandle.standardError)
    }

    /// A warning as this CI shows warnings.
    static func warning(_ message: String) {
        rawLine(CIOutput.current.warningLine(displayed(message)), to: FileHandle.standardError)
    }

    /// A line this process composed itself (CI markers), written as is; whatever it quotes must
    /// already have gone through ``displayed(_:)``.
    static func rawLine(_ text: String, to handle: FileHandle = FileHandle.standardError) {
        Array((text + "\n").utf8).withUnsafeBytes { handle.writeAll($0) }
    }

    static func lines(_ texts: [String]) {
        for text in texts { line(text) }
    }

    /// `value` as one JSON document on stdout.
    static func json<T: Encodable>(_ value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(value) else {
            error("error: could not encode the result as JSON")
            return
        }
        rawBytes(Array(data) + [0x0A])
    }

    /// Bytes rendered already (a JSON document, or history's escaped lines), redacted on the
    /// way out.
    static func rawBytes(_ bytes: [UInt8]) {
        let redacted = Redactor.shared.redact(bytes)
        redacted.withUnsafeBytes { FileHandle.standardOutput.writeAll($0) }
    }

    static func rawBytes(_ bytes: UnsafeRawBufferPointer) {
        rawBytes(Array(bytes))
    }

    /// A human line as printed: redacted, control characters made visible, newline added.
    static func displayed(_ text: String) -> String {
        DisplayText.escaped(Redactor.shared.redact(text))
    }

    private static func write(_ handle: FileHandle, _ text: String) {
        Array((displayed(text) + "\n").utf8).withUnsafeBytes { handle.writeAll($0) }
    }
}

extension FileHandle {
    /// Writes every byte (retrying short writes and EINTR); a closed pipe ends quietly.
    func writeAll(_ bytes: UnsafeRawBufferPointer) {
        guard var base = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let written = Foundation.write(fileDescriptor, base, left)
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            left -= written
            base += written
        }
    }
}

extension Console {
    /// The workflow's progress and warnings, written to stderr through the output edge.
    static func reporter(verbose: Bool, quiet: Bool = false) -> Reporter {
        Reporter(
            verbose: verbose, quiet: quiet, isTerminal: isatty(STDERR_FILENO) == 1, sections: CIOutput.current.sections,
            warn: { Console.warning($0) }, write: { Console.error($0) })
    }
}
