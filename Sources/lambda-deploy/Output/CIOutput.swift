import Foundation
import ReleasePolicy
import Safety
import Workflow

/// What the CI service running us understands beyond plain lines.
///
/// - GitHub Actions (`GITHUB_ACTIONS=true`): errors and warnings as `::error::`/`::warning::`
///   workflow commands (the annotation shows on the run's page), long steps in `::group::`, a
///   markdown table of what was deployed appended to `$GITHUB_STEP_SUMMARY`, and step outputs in
///   `$GITHUB_OUTPUT` (function, alias, version, previous-version, code-sha256, result, commit).
/// - Travis: `travis_fold` markers around long steps.
/// - GitLab: collapsible section markers around long steps.
/// - Anything else (a terminal, plain CI): unchanged.
enum CIOutput {
    case github(summary: String?, output: String?)
    case travis
    case gitlab
    case plain

    static let current = CIOutput(environment: ProcessInfo.processInfo.environment)

    init(environment: [String: String]) {
        func set(_ name: String) -> Bool { ["true", "1"].contains(environment[name]?.lowercased() ?? "") }
        if set("GITHUB_ACTIONS") {
            self = .github(
                summary: environment["GITHUB_STEP_SUMMARY"].flatMap { $0.isEmpty ? nil : $0 },
                output: environment["GITHUB_OUTPUT"].flatMap { $0.isEmpty ? nil : $0 })
        } else if set("TRAVIS") {
            self = .travis
        } else if set("GITLAB_CI") {
            self = .gitlab
        } else {
            self = .plain
        }
    }

    // MARK: Messages

    /// The line for an error (`text` already displayed: redacted and escaped).
    func errorLine(_ text: String) -> String {
        if case .github = self { return "::error::" + Self.workflowCommandData(text) }
        return "error: " + text
    }

    func warningLine(_ text: String) -> String {
        if case .github = self { return "::warning::" + Self.workflowCommandData(text) }
        return "warning: " + text
    }

    /// GitHub's escaping for a workflow command's data: `%`, CR and LF.
    static func workflowCommandData(_ text: String) -> String {
        var out = ""
        for character in text.unicodeScalars {
            switch character {
            case "%": out += "%25"
            case "\r": out += "%0D"
            case "\n": out += "%0A"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    // MARK: Sections

    /// Collapsible sections for the reporter, or nil where the log has none.
    var sections: Reporter.Sections? {
        switch self {
        case .github:
            return Reporter.Sections(begin: { Console.rawLine("::group::" + Self.workflowCommandData(Console.displayed($0))) },
                                     end: { Console.rawLine("::endgroup::") })
        case .travis:
            let names = SectionNames()
            return Reporter.Sections(begin: { Console.rawLine("travis_fold:start:\(names.open())\r\u{1B}[0K" + Console.displayed($0)) },
                                     end: { Console.rawLine("travis_fold:end:\(names.close())\r\u{1B}[0K") })
        case .gitlab:
            let names = SectionNames()
            let now: @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }
            return Reporter.Sections(
                begin: { Console.rawLine("\u{1B}[0Ksection_start:\(now()):\(names.open())[collapsed=true]\r\u{1B}[0K" + Console.displayed($0)) },
                end: { Console.rawLine("\u{1B}[0Ksection_end:\(now()):\(names.close())\r\u{1B}[0K") })
        case .plain:
            return nil
        }
    }

    // MARK: GitHub step summary and outputs

    /// One summary row and the step outputs for each deploy (several with many functions).
    func report(_ reports: [DeployReport]) {
        guard case .github(let summary, let output) = self else { return }
        if let summary {
            var table = [
                "### lambda-deploy", "",
                "| function | alias | version | previous | commit | CodeSha256 | result | record |",
                "| --- | --- | --- | --- | --- | --- | --- | --- |",
            ]
            for report in reports {
                let outcome = report.outcome
                let cells = [
                    outcome.function, outcome.alias, outcome.version ?? "-", outcome.previousVersion ?? "-",
                    report.commit.map { String($0.prefix(12)) } ?? "-", outcome.codeSha256, outcome.result.rawValue,
                    report.record?.summary ?? "-",
                ]
                table.append("| " + cells.map(Self.markdownCell).joined(separator: " | ") + " |")
            }
            Self.append(table.joined(separator: "\n") + "\n\n", to: summary)
        }
        if let output, let report = reports.first, reports.count == 1 {
            let outcome = report.outcome
            Self.append(Self.outputLines([
                ("function", outcome.function), ("alias", outcome.alias), ("version", outcome.version ?? ""),
                ("previous-version", outcome.previousVersion ?? ""), ("code-sha256", outcome.codeSha256),
                ("result", outcome.result.rawValue), ("commit", report.commit ?? ""),
            ]), to: output)
        }
    }

    /// A skip says why, in the summary too.
    func report(skip decision: Decision) {
        guard case .github(let summary, let output) = self else { return }
        if let summary {
            Self.append("### lambda-deploy\n\nskipped: \(Self.markdownCell(decision.reason))\n\n", to: summary)
        }
        if let output {
            Self.append(Self.outputLines([("result", "skipped"), ("alias", decision.alias ?? ""), ("reason", decision.reason)]), to: output)
        }
    }

    /// `key=value` lines; a value that could break the format uses GitHub's delimiter form.
    static func outputLines(_ pairs: [(String, String)]) -> String {
        var text = ""
        for (key, raw) in pairs {
            let value = Console.displayed(raw)
            if value.contains("\n") || value.contains("\r") {
                let delimiter = "ghadelimiter_" + UUID().uuidString
                text += "\(key)<<\(delimiter)\n\(value)\n\(delimiter)\n"
            } else {
                text += "\(key)=\(value)\n"
            }
        }
        return text
    }

    /// A table cell: escaped for display, `|` escaped, no line breaks.
    static func markdownCell(_ raw: String) -> String {
        Console.displayed(raw).replacingOccurrences(of: "|", with: "\\|")
    }

    private static func append(_ text: String, to path: String) {
        guard let handle = FileHandle(forWritingAtPath: path) ?? {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }() else {
            Console.warning("cannot write \(path): the GitHub step summary/outputs are missing")
            return
        }
        handle.seekToEndOfFile()
        Array(text.utf8).withUnsafeBytes { handle.writeAll($0) }
        try? handle.close()
    }
}

/// Numbered section names (Travis and GitLab pair start and end markers by name).
private final class SectionNames: @unchecked Sendable {
    private let lock = NSLock()
    private var counter = 0
    private var stack: [String] = []

    func open() -> String {
        lock.withLock {
            counter += 1
            let name = "lambda_deploy_\(counter)"
            stack.append(name)
            return name
        }
    }

    func close() -> String {
        lock.withLock { stack.popLast() ?? "lambda_deploy_\(counter)" }
    }
}
