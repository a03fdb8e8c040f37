import Foundation

/// Where the workflow says what it is doing: human progress lines go to stderr so that stdout
/// stays clean for `--json`; `--verbose` adds HTTP-level lines (never secrets: the AWS client
/// redacts before it calls us).
public struct Reporter: Sendable {
    public var verbose: Bool
    public var quiet: Bool
    private let write: @Sendable (String) -> Void

    public init(verbose: Bool = false, quiet: Bool = false, write: @escaping @Sendable (String) -> Void) {
        self.verbose = verbose
        self.quiet = quiet
        self.write = write
    }

    /// Writes to the process's stderr.
    public static func standardError(verbose: Bool = false, quiet: Bool = false) -> Reporter {
        Reporter(verbose: verbose, quiet: quiet) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    public static let silent = Reporter(quiet: true) { _ in }

    public func step(_ line: String) { if !quiet { write(line) } }
    public func warning(_ line: String) { write("warning: " + line) }
    public func debug(_ line: String) { if verbose { write(line) } }
}
