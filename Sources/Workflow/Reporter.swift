import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where the workflow says what it is doing: human progress lines go to stderr so that stdout
/// stays clean for `--json`; `--verbose` adds HTTP-level lines (never secrets: the AWS client
/// redacts before it calls us).
public struct Reporter: Sendable {
    public var verbose: Bool
    public var quiet: Bool
    /// stderr is a terminal: long steps show a live elapsed-time line instead of plain log lines.
    public var isTerminal: Bool
    private let write: @Sendable (String) -> Void

    public init(verbose: Bool = false, quiet: Bool = false, isTerminal: Bool = false, write: @escaping @Sendable (String) -> Void) {
        self.verbose = verbose
        self.quiet = quiet
        self.isTerminal = isTerminal
        self.write = write
    }

    /// Writes to the process's stderr.
    public static func standardError(verbose: Bool = false, quiet: Bool = false) -> Reporter {
        Reporter(verbose: verbose, quiet: quiet, isTerminal: isatty(STDERR_FILENO) == 1) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// Runs a long step (an upload, a wait). In a terminal a line shows the elapsed time while
    /// it runs; in CI logs it is one plain line before and one after, nothing that rewrites itself.
    public func during<T>(_ label: String, _ body: () async throws -> T) async rethrows -> T {
        guard isTerminal, !quiet, !verbose else {
            step(label)
            return try await body()
        }
        let started = ContinuousClock.now
        let ticker = Task {
            while !Task.isCancelled {
                let elapsed = ContinuousClock.now - started
                FileHandle.standardError.write(Data("\r\(label) \(Self.seconds(elapsed))".utf8))
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        defer {
            ticker.cancel()
            FileHandle.standardError.write(Data("\r\(label) done in \(Self.seconds(ContinuousClock.now - started))\u{1B}[K\n".utf8))
        }
        return try await body()
    }

    static func seconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%.1f s", value)
    }

    public static let silent = Reporter(quiet: true) { _ in }

    public func step(_ line: String) { if !quiet { write(line) } }
    public func warning(_ line: String) { write("warning: " + line) }
    public func debug(_ line: String) { if verbose { write(line) } }
}
