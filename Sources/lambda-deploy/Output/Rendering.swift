import Foundation
import ReleasePolicy
import Workflow

/// Human rendering of the results the workflow returns (JSON renders itself through Encodable).
enum Render {
    static func deploy(_ report: DeployReport, json: Bool) {
        if json {
            Console.json(report)
            return
        }
        let outcome = report.outcome
        let place = "\(outcome.function):\(outcome.alias) in \(outcome.region)"
        switch outcome.result {
        case .unchanged:
            Console.line("unchanged: \(place) already runs this code (version \(outcome.version ?? "?"))")
        case .dryRun:
            Console.line("dry run: would \(outcome.plan ?? "do nothing") for \(place)")
        case .superseded:
            let commit = outcome.supersededByCommit.map { " (commit \($0.prefix(12)))" } ?? ""
            Console.line("superseded: \(place) runs version \(outcome.supersededByVersion ?? "?")\(commit), newer than this deploy: left as it is")
        case .deployed:
            if let weight = outcome.weight {
                Console.line("deployed: \(place) now sends \(weight)% of traffic to version \(outcome.version ?? "?") (main version \(outcome.previousVersion ?? "?"))")
            } else {
                Console.line("deployed: \(place) -> version \(outcome.version ?? "?") (was \(outcome.previousVersion ?? "none"))")
            }
        }
        Console.line("  CodeSha256: \(outcome.codeSha256)  uploaded: \(formatBytes(outcome.uploadedBytes))  took \(String(format: "%.1f", outcome.seconds)) s")
        if let commit = report.commit { Console.line("  commit: \(commit)\(report.dirty == true ? " (with uncommitted changes)" : "")") }
        if let record = report.record { Console.line("  record: \(record.summary)") }
    }

    /// The context behind a decision, one fact a line, for `plan`.
    static func contextLines(_ decision: Decision) -> [String] {
        let context = decision.context
        var lines = ["service: \(context.service.rawValue)\(context.isCI ? "" : " (not CI)")"]
        lines.append("event: \(context.eventType.rawValue)")
        if let branch = context.branch { lines.append("branch: \(branch)") }
        if let tag = context.tag { lines.append("tag: \(tag)") }
        if context.isPullRequest {
            lines.append("pull request: \(context.pullRequestNumber.map(String.init) ?? "yes")\(context.pullRequestSourceBranch.map { " from \($0)" } ?? "")")
        }
        if context.isFork { lines.append("fork: yes") }
        if let commit = context.commit { lines.append("commit: \(commit)") }
        if let build = context.buildNumber { lines.append("build: \(build)") }
        if let job = context.jobNumber { lines.append("job: \(job)") }
        if !context.rawVariables.isEmpty {
            lines.append("variables:")
            for (name, value) in context.rawVariables.sorted(by: { $0.key < $1.key }) { lines.append("  \(name)=\(value)") }
        }
        return lines
    }

    /// One function of a run over many, as it finishes.
    static func line(_ run: FunctionRun) -> String {
        var columns = [run.result.rawValue, "\(run.function):\(run.alias ?? "-")"]
        if let version = run.version {
            columns.append("v\(version)" + (run.previousVersion.map { $0 == version ? "" : " (was v\($0))" } ?? ""))
        }
        if run.seconds > 0 { columns.append(String(format: "%.1f s", run.seconds)) }
        if let reason = run.reason { columns.append(reason) }
        return columns.joined(separator: "  ")
    }

    /// The end of a run over many functions: the summary, the push, and the exit it calls for.
    static func fleet(_ report: FleetReport, json: Bool) throws {
        if json {
            Console.json(report.functions)
        } else {
            Console.line(report.summary)
            if let push = report.push { Console.line(push) }
        }
        CIOutput.current.report(report.functions.compactMap(\.deploy))
        if report.failed > 0 {
            throw FleetFailed(count: report.failed)
        }
        if let problem = report.recordProblem { throw problem }
    }

    /// Lines a workflow report already composed (promote, rollback, verify, gateway, doctor).
    static func lines(_ lines: [String]) {
        Console.lines(lines)
    }

    /// A report as one JSON document with `--json`, else the lines it composed.
    static func report(_ report: some LinesReport, json: Bool) {
        if json { Console.json(report) } else { lines(report.lines) }
    }
}

/// A workflow result that composes its own human lines (JSON renders itself through Encodable).
protocol LinesReport: Encodable {
    var lines: [String] { get }
}

extension AliasMoveReport: LinesReport {}
extension DoctorReport: LinesReport {}
extension GatewayReport: LinesReport {}
extension HookInstallResult: LinesReport {}
extension ShownCommit: LinesReport {}
extension StatusReport: LinesReport {}
extension VerifyReport: LinesReport {}
