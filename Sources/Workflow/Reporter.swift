public import AWSClient
import Foundation
import Safety
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
    /// How a CI log folds long steps (GitHub `::group::`, Travis `travis_fold`, GitLab sections);
    /// nil in terminals and plain logs.
    public var sections: Sections?
    private let write: @Sendable (String) -> Void
    private let warn: @Sendable (String) -> Void

    /// Collapsible parts of a CI log: `begin` opens one with a title, `end` closes the last.
    public struct Sections: Sendable {
        public var begin: @Sendable (String) -> Void
        public var end: @Sendable () -> Void

        public init(begin: @escaping @Sendable (String) -> Void, end: @escaping @Sendable () -> Void) {
            self.begin = begin
            self.end = end
        }
    }

    /// `warn` receives warnings without their `warning: ` prefix (a CI may show them as
    /// annotations); by default they go to `write` with it.
    public init(
        verbose: Bool = false, quiet: Bool = false, isTerminal: Bool = false, sections: Sections? = nil,
        warn: (@Sendable (String) -> Void)? = nil, write: @escaping @Sendable (String) -> Void
    ) {
        self.verbose = verbose
        self.quiet = quiet
        self.isTerminal = isTerminal
        self.sections = sections
        self.write = write
        self.warn = warn ?? { write("warning: " + $0) }
    }

    /// Runs a noisy step inside a collapsible section of the CI log (plain elsewhere).
    public func section<T>(_ title: String, _ body: () throws -> T) rethrows -> T {
        guard let sections, !quiet else { return try body() }
        sections.begin(title)
        defer { sections.end() }
        return try body()
    }

    /// ``section(_:_:)-7pw8l`` for an async step.
    public func section<T>(_ title: String, _ body: () async throws -> T) async rethrows -> T {
        guard let sections, !quiet else { return try await body() }
        sections.begin(title)
        defer { sections.end() }
        return try await body()
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
            return try await section(label) {
                step(label)
                return try await body()
            }
        }
        return try await withLiveLine(label, { elapsed in "\(label) \(Self.seconds(elapsed))" }, body)
    }

    /// Runs an upload of a `bytes`-byte package, handing `body` the progress callback to pass to
    /// the AWS call. In a terminal one line shows a bar, the share sent and the elapsed time; in
    /// CI logs an upload of 10 MB or more gets one plain line at each quarter (smaller ones only
    /// the label), never a line that rewrites itself.
    public func transfer<T>(_ label: String, bytes: Int64, _ body: (UploadProgress?) async throws -> T) async rethrows -> T {
        let state = TransferState()
        let update: UploadProgress = { sent, total in state.update(sent: sent, total: total) }
        guard isTerminal, !quiet, !verbose else {
            return try await section(label) {
                step(label)
                guard !quiet, bytes >= Self.quarterLinesFrom else { return try await body(nil) }
                let write = self.write
                return try await body { sent, total in
                    update(sent, total)
                    for quarter in state.quartersReached() { write("\(label): \(quarter * 25)% sent") }
                }
            }
        }
        return try await withLiveLine(label, { elapsed in
            Self.progressLine(label, fraction: state.fraction, elapsed: elapsed)
        }) {
            try await body(update)
        }
    }

    /// Runs `body` while a terminal line, redrawn every 200 ms from the elapsed time, says how it
    /// goes; at the end the line becomes "`label` done in N s".
    private func withLiveLine<T>(
        _ rawLabel: String, _ rawLine: @escaping @Sendable (Duration) -> String, _ body: () async throws -> T
    ) async rethrows -> T {
        // This line is written raw (it rewrites itself with \r and ESC[K): what it quotes is
        // escaped here, as the output edge does for every other line.
        let label = DisplayText.escaped(rawLabel)
        let line: @Sendable (Duration) -> String = { DisplayText.escaped(rawLine($0)) + "\u{1B}[K" }
        let started = ContinuousClock.now
        let ticker = Task {
            while !Task.isCancelled {
                FileHandle.standardError.write(Data("\r\(line(ContinuousClock.now - started))".utf8))
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        defer {
            ticker.cancel()
            FileHandle.standardError.write(Data("\r\(label) done in \(Self.seconds(ContinuousClock.now - started))\u{1B}[K\n".utf8))
        }
        return try await body()
    }

    /// Uploads from this size on get quarter lines in CI logs.
    static let quarterLinesFrom: Int64 = 10_000_000

    /// `label [#####---------------]  25%  3.2 s`; without a fraction yet, the label and the time.
    static func progressLine(_ label: String, fraction: Double?, elapsed: Duration, width: Int = 20) -> String {
        guard let fraction else { return "\(label) \(seconds(elapsed))" }
        let clamped = min(1, max(0, fraction))
        let filled = Int((clamped * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let percent = String(format: "%3d%%", Int((clamped * 100).rounded(.down)))
        return "\(label) [\(bar)] \(percent)  \(seconds(elapsed))"
    }

    static func seconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%.1f s", value)
    }

    public static let silent = Reporter(quiet: true) { _ in }

    public func step(_ line: String) { if !quiet { write(line) } }
    public func warning(_ line: String) { warn(line) }
    public func debug(_ line: String) { if verbose { write(line) } }
}

/// How far an upload is, written by the transport's thread and read by the line that shows it.
final class TransferState: @unchecked Sendable {
    private let lock = NSLock()
    private var sent: Int64 = 0
    private var total: Int64 = 0
    private var quartersShown = 0

    func update(sent: Int64, total: Int64) {
        lock.withLock {
            // A retry starts again from zero: show that attempt, but never repeat a quarter line.
            self.sent = sent
            self.total = total
        }
    }

    /// The share sent, once the total is known.
    var fraction: Double? {
        lock.withLock { total > 0 ? Double(sent) / Double(total) : nil }
    }

    /// The quarters (1 to 4) reached since the last call, each reported once per upload.
    func quartersReached() -> [Int] {
        lock.withLock {
            guard total > 0 else { return [] }
            let reached = Int(min(4, sent * 4 / total))
            guard reached > quartersShown else { return [] }
            defer { quartersShown = reached }
            return Array((quartersShown + 1)...reached)
        }
    }
}
