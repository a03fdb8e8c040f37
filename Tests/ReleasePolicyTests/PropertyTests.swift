import Foundation
import Testing
@testable import ReleasePolicy

/// SplitMix64: a tiny seeded generator so a failing environment can be reproduced from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Every variable the reader knows of, plus noise.
let knownNames = [
    "CI", "TRAVIS", "TRAVIS_BRANCH", "TRAVIS_PULL_REQUEST", "TRAVIS_PULL_REQUEST_BRANCH", "TRAVIS_PULL_REQUEST_SLUG",
    "TRAVIS_REPO_SLUG", "TRAVIS_TAG", "TRAVIS_EVENT_TYPE", "TRAVIS_JOB_NUMBER", "TRAVIS_COMMIT",
    "GITHUB_ACTIONS", "GITHUB_EVENT_NAME", "GITHUB_REF", "GITHUB_REF_TYPE", "GITHUB_REF_NAME", "GITHUB_HEAD_REF",
    "GITHUB_BASE_REF", "GITHUB_SHA", "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_SERVER_URL",
    "GITLAB_CI", "CI_PIPELINE_SOURCE", "CI_COMMIT_BRANCH", "CI_COMMIT_TAG", "CI_MERGE_REQUEST_IID",
    "CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "CI_MERGE_REQUEST_PROJECT_ID", "CI_NODE_INDEX", "CI_NODE_TOTAL",
    "CIRCLECI", "CIRCLE_BRANCH", "CIRCLE_TAG", "CIRCLE_PULL_REQUEST", "CIRCLE_PR_NUMBER", "CIRCLE_NODE_INDEX",
    "CIRCLE_NODE_TOTAL", "BUILDKITE", "BUILDKITE_BRANCH", "BUILDKITE_TAG", "BUILDKITE_PULL_REQUEST",
    "BUILDKITE_COMMIT", "BUILDKITE_SOURCE", "BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT",
    "BUILDKITE_REPO", "BUILDKITE_PULL_REQUEST_REPO", "JENKINS_URL", "BRANCH_NAME", "GIT_BRANCH", "CHANGE_ID",
    "CHANGE_TARGET", "TAG_NAME", "BITBUCKET_BUILD_NUMBER", "BITBUCKET_BRANCH", "BITBUCKET_TAG", "BITBUCKET_PR_ID",
    "BITBUCKET_PARALLEL_STEP", "TF_BUILD", "BUILD_REASON", "BUILD_SOURCEBRANCH", "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER",
    "SYSTEM_JOBPOSITIONINPHASE", "SYSTEM_TOTALJOBSINPHASE", "SYSTEM_COLLECTIONURI", "BUILD_BUILDID",
    "CODEBUILD_BUILD_ID", "CODEBUILD_WEBHOOK_TRIGGER", "CODEBUILD_WEBHOOK_EVENT", "CODEBUILD_SOURCE_VERSION",
    "CODEBUILD_SOURCE_REPO_URL", "MY_SECRET_TOKEN", "HOME",
]

let valuePool = [
    "", " ", "true", "True", "false", "0", "1", "yes", "main", "master", "refs/heads/main", "origin/master",
    "refs/pull/7/merge", "refs/tags/v1", "PR-9", "HEAD", "push", "cron", "api", "schedule", "web", "v1.0.0",
    "1.1", "3.2", "garbage.", ".", "-1", "99999999999999999999999", "pr/", "branch/main", "tag/", "ü/ñ/分支",
    "release/*", "https://u:p@host/x", "git@github.com:a/b.git", "\n", "\u{0}", "PULL_REQUEST_CREATED",
]

/// PR indicators as each service sets them; any one of them must stop a deploy.
let prIndicators: [(String, String)] = [
    ("TRAVIS_PULL_REQUEST", "12"), ("TRAVIS_EVENT_TYPE", "pull_request"), ("GITHUB_EVENT_NAME", "pull_request"),
    ("GITHUB_EVENT_NAME", "pull_request_target"), ("GITHUB_HEAD_REF", "feature"), ("GITHUB_REF", "refs/pull/3/merge"),
    ("CI_MERGE_REQUEST_IID", "4"), ("CI_PIPELINE_SOURCE", "merge_request_event"),
    ("CIRCLE_PULL_REQUEST", "https://github.com/a/b/pull/5"), ("CIRCLE_PR_NUMBER", "5"),
    ("BUILDKITE_PULL_REQUEST", "6"), ("CHANGE_ID", "7"), ("BRANCH_NAME", "PR-8"), ("BITBUCKET_PR_ID", "9"),
    ("BUILD_REASON", "PullRequest"), ("SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", "10"),
    ("BUILD_SOURCEBRANCH", "refs/pull/11/merge"), ("CODEBUILD_WEBHOOK_TRIGGER", "pr/12"),
    ("CODEBUILD_WEBHOOK_EVENT", "PULL_REQUEST_UPDATED"), ("CODEBUILD_SOURCE_VERSION", "pr/13"),
]

@Suite("Random environments")
struct PropertyTests {
    /// The most permissive config there is: anything that is not a PR would deploy.
    static let permissive = ReleasePolicy(config: DeployConfig(
        branches: [AliasRule(pattern: "**", alias: "prod")], protected: [],
        tags: [AliasRule(pattern: "**", alias: "prod")], events: Set(AllowedEvent.allCases), matrix: .everyJob))

    @Test("never crash, and a pull-request indicator never deploys", arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func randomEnvironments(seed: UInt64) throws {
        var rng = SeededGenerator(state: seed)
        var deployed = 0
        for iteration in 0..<1_000 {
            var env: [String: String] = [:]
            for _ in 0..<Int.random(in: 0...14, using: &rng) {
                let name = knownNames.randomElement(using: &rng) ?? "CI"
                env[name] = valuePool.randomElement(using: &rng) ?? ""
            }
            let injected = iteration % 2 == 0 ? prIndicators.randomElement(using: &rng) : nil
            if let (name, value) = injected { env[name] = value }

            let context = CIEnvironmentReader(environment: env).read()
            let decision = Self.permissive.decide(context, overrideProtection: true)
            if let (name, value) = injected {
                #expect(decision.action == .skip, "seed \(seed) iteration \(iteration): \(name)=\(value) deployed with \(env)")
                #expect(context.isPullRequest, "seed \(seed) iteration \(iteration): \(name)=\(value) not seen")
            }
            if decision.action == .deploy {
                deployed += 1
                #expect(!context.isPullRequest && !context.isFork)
                #expect(decision.alias == "prod")
            }
            #expect(context.rawVariables.keys.allSatisfy { !$0.contains("SECRET") && !$0.contains("TOKEN") })
            #expect(context.rawVariables.keys.allSatisfy { env[$0] != nil })
            _ = try JSONEncoder().encode(decision)
        }
        // The generator must reach deploys too, or the property above would be vacuous.
        #expect(deployed > 0)
    }
}
