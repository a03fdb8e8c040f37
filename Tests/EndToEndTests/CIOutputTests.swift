import Foundation
import Testing

/// Output each CI understands (issue 13): GitHub annotations, groups, step summary and outputs.
@Suite struct CIOutputTests {
    static func github(_ space: GitWorkspace, commit: String, files: TemporaryDirectory) -> [String: String] {
        [
            "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main",
            "GITHUB_REF_TYPE": "branch", "GITHUB_EVENT_NAME": "push", "GITHUB_SHA": commit, "GITHUB_RUN_NUMBER": "12",
            "GITHUB_RUN_ID": "9000", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_REPOSITORY": "team/pr", "GITHUB_ACTOR": "dev",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_STEP_SUMMARY": files.path + "/summary.md", "GITHUB_OUTPUT": files.path + "/output.txt",
        ]
    }

    @Test func aGitHubDeployWritesItsSummaryRowOutputsAndGroups() async throws {
        let space = try await GitWorkspace()
        let commit = try space.head()
        let files = try TemporaryDirectory("gha")
        let result = try space.tool([], extraEnv: Self.github(space, commit: commit, files: files))
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("::group::packaging \(space.function)"), "\(result.stderr)")
        #expect(result.stderr.contains("::endgroup::"))
        let summary = try String(contentsOfFile: files.path + "/summary.md", encoding: .utf8)
        #expect(summary.contains("| \(space.function) | prod | 1 | - | \(commit.prefix(12)) |"), "\(summary)")
        let output = try String(contentsOfFile: files.path + "/output.txt", encoding: .utf8)
        let pairs = Dictionary(output.split(separator: "\n").compactMap { line -> (String, String)? in
            guard let equals = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<equals]), String(line[line.index(after: equals)...]))
        }, uniquingKeysWith: { $1 })
        #expect(pairs["function"] == space.function)
        #expect(pairs["alias"] == "prod")
        #expect(pairs["version"] == "1")
        #expect(pairs["result"] == "deployed")
        #expect(pairs["commit"] == commit)
        #expect(pairs["code-sha256"]?.count == 44)
        #expect(pairs.keys.contains("previous-version"))
    }

    @Test func aGitHubSkipSaysWhyInTheSummary() async throws {
        let space = try await GitWorkspace()
        let files = try TemporaryDirectory("gha")
        var env = Self.github(space, commit: try space.head(), files: files)
        env["GITHUB_EVENT_NAME"] = "pull_request"
        env["GITHUB_REF"] = "refs/pull/7/merge"
        env["GITHUB_HEAD_REF"] = "feature"
        env["GITHUB_BASE_REF"] = "main"
        let result = try space.tool([], extraEnv: env)
        #expect(result.status == 0, "\(result.output)")
        let summary = try String(contentsOfFile: files.path + "/summary.md", encoding: .utf8)
        #expect(summary.contains("skipped:"), "\(summary)")
        #expect(summary.contains("pull request"))
        #expect(try String(contentsOfFile: files.path + "/output.txt", encoding: .utf8).contains("result=skipped"))
    }

    /// A failure is a `::error::` annotation, escaped as GitHub requires: `%` becomes `%25`, and
    /// CR/LF never reach the log raw (they are shown as `\r` `\n`, one annotation, one line).
    @Test func aGitHubFailureIsOneEscapedErrorAnnotation() async throws {
        let space = try await GitWorkspace()
        let files = try TemporaryDirectory("gha")
        let env = Self.github(space, commit: try space.head(), files: files)
        let result = try space.tool(["deploy", "--alias", "50%\r\nerror: forged"], extraEnv: env)
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        #expect(lines.count == 1, "\(result.stderr)")
        let line = try #require(lines.first)
        #expect(line.hasPrefix("::error::"))
        #expect(line.contains("50%25"))
        #expect(!line.contains("\r"))
        #expect(line.contains("\\r\\n"))
    }

    @Test func travisFoldsTheNoisySteps() async throws {
        let space = try await GitWorkspace()
        let result = try space.tool([], extraEnv: space.travis(commit: try space.head()))
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("travis_fold:start:lambda_deploy_1"))
        #expect(result.stderr.contains("travis_fold:end:lambda_deploy_1"))
    }
}
