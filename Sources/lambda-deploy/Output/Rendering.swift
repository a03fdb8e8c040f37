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

    /// Lines a workflow report already composed (promote, rollback, verify, gateway, doctor).
    static func lines(_ lines: [String]) {
        Console.lines(lines)
    }
}
