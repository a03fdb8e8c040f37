import Testing
@testable import ReleasePolicy

/// One CI environment as the service really sets it, what the reader must make of it, and what
/// the default policy (main/master -> prod) must decide.
struct CICase: Sendable, CustomTestStringConvertible {
    var name: String
    var env: [String: String]
    var service: CIService
    var branch: String?
    var isPullRequest = false
    var pullRequestNumber: Int?
    var pullRequestSourceBranch: String?
    var tag: String?
    var event: CIEvent = .push
    var commit: String?
    var jobNumber: String?
    var isFork = false
    var action: Decision.Action
    var alias: String?

    var testDescription: String { name }
}

let sha = "0123456789abcdef0123456789abcdef01234567"

let ciCases: [CICase] = [
    // MARK: Travis CI
    CICase(
        name: "Travis push to master",
        env: [
            "CI": "true", "TRAVIS": "true", "TRAVIS_BRANCH": "master", "TRAVIS_PULL_REQUEST": "false",
            "TRAVIS_PULL_REQUEST_BRANCH": "", "TRAVIS_EVENT_TYPE": "push", "TRAVIS_COMMIT": sha,
            "TRAVIS_TAG": "", "TRAVIS_BUILD_NUMBER": "42", "TRAVIS_JOB_NUMBER": "42.1",
            "TRAVIS_REPO_SLUG": "acme/api", "TRAVIS_BUILD_WEB_URL": "https://app.travis-ci.com/acme/api/builds/9",
            "TRAVIS_SECURE_ENV_VARS": "true",
        ],
        service: .travis, branch: "master", commit: sha, jobNumber: "42.1", action: .deploy, alias: "prod"),
    CICase(
        name: "Travis PR build: TRAVIS_BRANCH is the target (master) and must not deploy",
        env: [
            "CI": "true", "TRAVIS": "true", "TRAVIS_BRANCH": "master", "TRAVIS_PULL_REQUEST": "17",
            "TRAVIS_PULL_REQUEST_BRANCH": "feature/login", "TRAVIS_PULL_REQUEST_SLUG": "acme/api",
            "TRAVIS_REPO_SLUG": "acme/api", "TRAVIS_EVENT_TYPE": "pull_request", "TRAVIS_COMMIT": sha,
            "TRAVIS_JOB_NUMBER": "43.1",
        ],
        service: .travis, branch: "master", isPullRequest: true, pullRequestNumber: 17,
        pullRequestSourceBranch: "feature/login", event: .pullRequest, commit: sha, jobNumber: "43.1",
        action: .skip),
    CICase(
        name: "Travis PR from a fork",
        env: [
            "TRAVIS": "true", "TRAVIS_BRANCH": "master", "TRAVIS_PULL_REQUEST": "18",
            "TRAVIS_PULL_REQUEST_SLUG": "mallory/api", "TRAVIS_REPO_SLUG": "acme/api",
            "TRAVIS_EVENT_TYPE": "pull_request",
        ],
        service: .travis, branch: "master", isPullRequest: true, pullRequestNumber: 18, event: .pullRequest,
        isFork: true, action: .skip),
    CICase(
        name: "Travis tag build: TRAVIS_BRANCH is the tag",
        env: [
            "TRAVIS": "true", "TRAVIS_BRANCH": "v1.2.0", "TRAVIS_TAG": "v1.2.0", "TRAVIS_PULL_REQUEST": "false",
            "TRAVIS_EVENT_TYPE": "push", "TRAVIS_JOB_NUMBER": "44.1",
        ],
        service: .travis, tag: "v1.2.0", event: .tag, jobNumber: "44.1", action: .skip),
    CICase(
        name: "Travis second matrix job on master",
        env: [
            "TRAVIS": "true", "TRAVIS_BRANCH": "master", "TRAVIS_PULL_REQUEST": "false",
            "TRAVIS_EVENT_TYPE": "push", "TRAVIS_JOB_NUMBER": "42.2",
        ],
        service: .travis, branch: "master", jobNumber: "42.2", action: .skip),
    CICase(
        name: "Travis cron build on master",
        env: ["TRAVIS": "true", "TRAVIS_BRANCH": "master", "TRAVIS_PULL_REQUEST": "false", "TRAVIS_EVENT_TYPE": "cron"],
        service: .travis, branch: "master", event: .cron, action: .skip),
    CICase(
        name: "Travis api build on master",
        env: ["TRAVIS": "true", "TRAVIS_BRANCH": "master", "TRAVIS_PULL_REQUEST": "false", "TRAVIS_EVENT_TYPE": "api"],
        service: .travis, branch: "master", event: .api, action: .skip),

    // MARK: GitHub Actions
    CICase(
        name: "GitHub push to main",
        env: [
            "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main",
            "GITHUB_REF_NAME": "main", "GITHUB_REF_TYPE": "branch", "GITHUB_SHA": sha, "GITHUB_HEAD_REF": "",
            "GITHUB_BASE_REF": "", "GITHUB_REPOSITORY": "acme/api", "GITHUB_RUN_ID": "77", "GITHUB_RUN_NUMBER": "5",
            "GITHUB_SERVER_URL": "https://github.com", "GITHUB_ACTOR": "alice",
        ],
        service: .githubActions, branch: "main", commit: sha, action: .deploy, alias: "prod"),
    CICase(
        name: "GitHub pull_request: refs/pull/N/merge and a merge commit",
        env: [
            "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_REF": "refs/pull/12/merge", "GITHUB_REF_NAME": "12/merge", "GITHUB_HEAD_REF": "feature/x",
            "GITHUB_BASE_REF": "main", "GITHUB_SHA": sha,
        ],
        service: .githubActions, branch: "main", isPullRequest: true, pullRequestNumber: 12,
        pullRequestSourceBranch: "feature/x", event: .pullRequest, commit: sha, action: .skip),
    CICase(
        name: "GitHub pull_request_target: GITHUB_REF is the base branch, still never deploys",
        env: [
            "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request_target",
            "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main", "GITHUB_REF_TYPE": "branch",
            "GITHUB_HEAD_REF": "patch-1", "GITHUB_BASE_REF": "main", "GITHUB_SHA": sha,
        ],
        service: .githubActions, branch: "main", isPullRequest: true, pullRequestSourceBranch: "patch-1",
        event: .pullRequest, commit: sha, action: .skip),
    CICase(
        name: "GitHub tag push (GITHUB_REF_TYPE=tag)",
        env: [
            "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/tags/v2.0.0",
            "GITHUB_REF_NAME": "v2.0.0", "GITHUB_REF_TYPE": "tag", "GITHUB_SHA": sha,
        ],
        service: .githubActions, tag: "v2.0.0", event: .tag, commit: sha, action: .skip),
    CICase(
        name: "GitHub schedule on main",
        env: [
            "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "schedule", "GITHUB_REF": "refs/heads/main",
            "GITHUB_SHA": sha,
        ],
        service: .githubActions, branch: "main", event: .cron, commit: sha, action: .skip),
    CICase(
        name: "GitHub workflow_dispatch on main",
        env: ["GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "workflow_dispatch", "GITHUB_REF": "refs/heads/main"],
        service: .githubActions, branch: "main", event: .manual, action: .skip),
    CICase(
        name: "GitHub repository_dispatch on main",
        env: ["GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "repository_dispatch", "GITHUB_REF": "refs/heads/main"],
        service: .githubActions, branch: "main", event: .api, action: .skip),
    CICase(
        name: "GitHub workflow_run on main (may be triggered by a PR's workflow)",
        env: ["GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "workflow_run", "GITHUB_REF": "refs/heads/main"],
        service: .githubActions, branch: "main", event: .other, action: .skip),

    // MARK: GitLab CI
    CICase(
        name: "GitLab branch pipeline on main",
        env: [
            "CI": "true", "GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main",
            "CI_COMMIT_REF_NAME": "main", "CI_COMMIT_SHA": sha, "CI_PIPELINE_IID": "31",
            "CI_PIPELINE_URL": "https://gitlab.com/acme/api/-/pipelines/999", "CI_PROJECT_PATH": "acme/api",
            "GITLAB_USER_LOGIN": "alice", "CI_JOB_TOKEN": "glcbt-secret",
        ],
        service: .gitlab, branch: "main", commit: sha, action: .deploy, alias: "prod"),
    CICase(
        name: "GitLab merge request pipeline: CI_COMMIT_BRANCH unset, REF_NAME is the source",
        env: [
            "CI": "true", "GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_COMMIT_REF_NAME": "main", "CI_MERGE_REQUEST_IID": "7",
            "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "main", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "release",
            "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "100", "CI_MERGE_REQUEST_PROJECT_ID": "100", "CI_COMMIT_SHA": sha,
        ],
        service: .gitlab, branch: "release", isPullRequest: true, pullRequestNumber: 7,
        pullRequestSourceBranch: "main", event: .pullRequest, commit: sha, action: .skip),
    CICase(
        name: "GitLab merge request from a fork project",
        env: [
            "GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "8",
            "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "555", "CI_MERGE_REQUEST_PROJECT_ID": "100",
            "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        ],
        service: .gitlab, branch: "main", isPullRequest: true, pullRequestNumber: 8, event: .pullRequest,
        isFork: true, action: .skip),
    CICase(
        name: "GitLab tag pipeline",
        env: [
            "GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": "v3", "CI_COMMIT_REF_NAME": "v3",
        ],
        service: .gitlab, tag: "v3", event: .tag, action: .skip),
    CICase(
        name: "GitLab scheduled pipeline on main",
        env: ["GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "schedule", "CI_COMMIT_BRANCH": "main"],
        service: .gitlab, branch: "main", event: .cron, action: .skip),
    CICase(
        name: "GitLab web (Run pipeline) on main",
        env: ["GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "web", "CI_COMMIT_BRANCH": "main"],
        service: .gitlab, branch: "main", event: .manual, action: .skip),
    CICase(
        name: "GitLab trigger on main",
        env: ["GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "trigger", "CI_COMMIT_BRANCH": "main"],
        service: .gitlab, branch: "main", event: .api, action: .skip),
    CICase(
        name: "GitLab parallel job 2 of 3",
        env: [
            "GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", "CI_NODE_INDEX": "2",
            "CI_NODE_TOTAL": "3",
        ],
        service: .gitlab, branch: "main", jobNumber: "2", action: .skip),

    // MARK: CircleCI
    CICase(
        name: "CircleCI push to main",
        env: [
            "CI": "true", "CIRCLECI": "true", "CIRCLE_BRANCH": "main", "CIRCLE_SHA1": sha, "CIRCLE_BUILD_NUM": "88",
            "CIRCLE_PROJECT_USERNAME": "acme", "CIRCLE_PROJECT_REPONAME": "api",
            "CIRCLE_BUILD_URL": "https://circleci.com/gh/acme/api/88",
        ],
        service: .circleci, branch: "main", commit: sha, action: .deploy, alias: "prod"),
    CICase(
        name: "CircleCI branch with an open PR",
        env: [
            "CIRCLECI": "true", "CIRCLE_BRANCH": "feature/y",
            "CIRCLE_PULL_REQUEST": "https://github.com/acme/api/pull/31",
            "CIRCLE_PULL_REQUESTS": "https://github.com/acme/api/pull/31",
        ],
        service: .circleci, isPullRequest: true, pullRequestNumber: 31, pullRequestSourceBranch: "feature/y",
        event: .pullRequest, action: .skip),
    CICase(
        name: "CircleCI fork PR (CIRCLE_PR_NUMBER) on a branch named main",
        env: [
            "CIRCLECI": "true", "CIRCLE_BRANCH": "main", "CIRCLE_PR_NUMBER": "32", "CIRCLE_PR_USERNAME": "mallory",
            "CIRCLE_PR_REPONAME": "api",
        ],
        service: .circleci, isPullRequest: true, pullRequestNumber: 32, pullRequestSourceBranch: "main",
        event: .pullRequest, isFork: true, action: .skip),
    CICase(
        name: "CircleCI tag",
        env: ["CIRCLECI": "true", "CIRCLE_TAG": "v1", "CIRCLE_SHA1": sha],
        service: .circleci, tag: "v1", event: .tag, commit: sha, action: .skip),
    CICase(
        name: "CircleCI parallelism: node 0 is the leader",
        env: ["CIRCLECI": "true", "CIRCLE_BRANCH": "main", "CIRCLE_NODE_INDEX": "0", "CIRCLE_NODE_TOTAL": "4"],
        service: .circleci, branch: "main", jobNumber: "1", action: .deploy, alias: "prod"),

    // MARK: Buildkite
    CICase(
        name: "Buildkite push to main",
        env: [
            "CI": "true", "BUILDKITE": "true", "BUILDKITE_BRANCH": "main", "BUILDKITE_COMMIT": sha,
            "BUILDKITE_PULL_REQUEST": "false", "BUILDKITE_SOURCE": "webhook", "BUILDKITE_BUILD_NUMBER": "12",
            "BUILDKITE_TAG": "", "BUILDKITE_BUILD_URL": "https://buildkite.com/acme/api/builds/12",
            "BUILDKITE_ORGANIZATION_SLUG": "acme", "BUILDKITE_PIPELINE_SLUG": "api",
        ],
        service: .buildkite, branch: "main", commit: sha, action: .deploy, alias: "prod"),
    CICase(
        name: "Buildkite commit is the literal HEAD: commit unknown",
        env: [
            "BUILDKITE": "true", "BUILDKITE_BRANCH": "main", "BUILDKITE_COMMIT": "HEAD",
            "BUILDKITE_PULL_REQUEST": "false", "BUILDKITE_SOURCE": "webhook",
        ],
        service: .buildkite, branch: "main", commit: nil, action: .deploy, alias: "prod"),
    CICase(
        name: "Buildkite PR: BUILDKITE_BRANCH is the head branch",
        env: [
            "BUILDKITE": "true", "BUILDKITE_BRANCH": "main", "BUILDKITE_PULL_REQUEST": "55",
            "BUILDKITE_PULL_REQUEST_BASE_BRANCH": "main", "BUILDKITE_PULL_REQUEST_REPO": "git://github.com/mallory/api.git",
            "BUILDKITE_REPO": "git@github.com:acme/api.git", "BUILDKITE_SOURCE": "webhook",
        ],
        service: .buildkite, branch: "main", isPullRequest: true, pullRequestNumber: 55,
        pullRequestSourceBranch: "main", event: .pullRequest, isFork: true, action: .skip),
    CICase(
        name: "Buildkite scheduled build",
        env: [
            "BUILDKITE": "true", "BUILDKITE_BRANCH": "main", "BUILDKITE_PULL_REQUEST": "false",
            "BUILDKITE_SOURCE": "schedule",
        ],
        service: .buildkite, branch: "main", event: .cron, action: .skip),

    // MARK: Jenkins
    CICase(
        name: "Jenkins freestyle: GIT_BRANCH is origin/master",
        env: [
            "JENKINS_URL": "https://ci.acme.test/", "BUILD_NUMBER": "301", "GIT_BRANCH": "origin/master",
            "GIT_COMMIT": sha, "BUILD_URL": "https://ci.acme.test/job/api/301/",
        ],
        service: .jenkins, branch: "origin/master", commit: sha, action: .deploy, alias: "prod"),
    CICase(
        name: "Jenkins multibranch PR-123",
        env: [
            "JENKINS_URL": "https://ci.acme.test/", "BRANCH_NAME": "PR-123", "CHANGE_ID": "123",
            "CHANGE_BRANCH": "feature/z", "CHANGE_TARGET": "master", "GIT_BRANCH": "PR-123", "GIT_COMMIT": sha,
        ],
        service: .jenkins, branch: "master", isPullRequest: true, pullRequestNumber: 123,
        pullRequestSourceBranch: "feature/z", event: .pullRequest, commit: sha, action: .skip),
    CICase(
        name: "Jenkins BRANCH_NAME=PR-124 without CHANGE_ID",
        env: ["JENKINS_URL": "https://ci.acme.test/", "BRANCH_NAME": "PR-124"],
        service: .jenkins, isPullRequest: true, pullRequestNumber: 124, event: .pullRequest, action: .skip),
    CICase(
        name: "Jenkins multibranch tag",
        env: ["JENKINS_URL": "https://ci.acme.test/", "BRANCH_NAME": "v5", "TAG_NAME": "v5"],
        service: .jenkins, tag: "v5", event: .tag, action: .skip),

    // MARK: Bitbucket Pipelines
    CICase(
        name: "Bitbucket push to main",
        env: [
            "CI": "true", "BITBUCKET_BUILD_NUMBER": "9", "BITBUCKET_BRANCH": "main", "BITBUCKET_COMMIT": sha,
            "BITBUCKET_REPO_FULL_NAME": "acme/api",
        ],
        service: .bitbucket, branch: "main", commit: sha, action: .deploy, alias: "prod"),
    CICase(
        name: "Bitbucket PR pipeline",
        env: [
            "CI": "true", "BITBUCKET_BUILD_NUMBER": "10", "BITBUCKET_BRANCH": "feature/q", "BITBUCKET_PR_ID": "4",
            "BITBUCKET_PR_DESTINATION_BRANCH": "main", "BITBUCKET_COMMIT": sha,
        ],
        service: .bitbucket, branch: "main", isPullRequest: true, pullRequestNumber: 4,
        pullRequestSourceBranch: "feature/q", event: .pullRequest, commit: sha, action: .skip),
    CICase(
        name: "Bitbucket tag",
        env: ["CI": "true", "BITBUCKET_BUILD_NUMBER": "11", "BITBUCKET_TAG": "v9"],
        service: .bitbucket, tag: "v9", event: .tag, action: .skip),

    // MARK: Azure Pipelines
    CICase(
        name: "Azure CI build of refs/heads/main (no CI variable, TF_BUILD)",
        env: [
            "TF_BUILD": "True", "BUILD_REASON": "IndividualCI", "BUILD_SOURCEBRANCH": "refs/heads/main",
            "BUILD_SOURCEBRANCHNAME": "main", "BUILD_SOURCEVERSION": sha, "BUILD_BUILDNUMBER": "20240101.1",
            "BUILD_BUILDID": "812", "SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/", "SYSTEM_TEAMPROJECT": "api",
            "BUILD_REPOSITORY_NAME": "acme/api", "BUILD_REQUESTEDFOR": "Alice",
        ],
        service: .azurePipelines, branch: "refs/heads/main", commit: sha, action: .deploy, alias: "prod"),
    CICase(
        name: "Azure branch with slashes: SOURCEBRANCHNAME would say only `x`",
        env: [
            "TF_BUILD": "True", "BUILD_REASON": "BatchedCI", "BUILD_SOURCEBRANCH": "refs/heads/release/x",
            "BUILD_SOURCEBRANCHNAME": "x",
        ],
        service: .azurePipelines, branch: "refs/heads/release/x", action: .skip),
    CICase(
        name: "Azure PR: refs/pull/N/merge",
        env: [
            "TF_BUILD": "True", "BUILD_REASON": "PullRequest", "BUILD_SOURCEBRANCH": "refs/pull/61/merge",
            "SYSTEM_PULLREQUEST_PULLREQUESTNUMBER": "61", "SYSTEM_PULLREQUEST_SOURCEBRANCH": "feature/w",
            "SYSTEM_PULLREQUEST_TARGETBRANCH": "main", "SYSTEM_PULLREQUEST_ISFORK": "False",
        ],
        service: .azurePipelines, branch: "main", isPullRequest: true, pullRequestNumber: 61,
        pullRequestSourceBranch: "feature/w", event: .pullRequest, action: .skip),
    CICase(
        name: "Azure refs/pull without BUILD_REASON",
        env: ["TF_BUILD": "True", "BUILD_SOURCEBRANCH": "refs/pull/62/merge"],
        service: .azurePipelines, isPullRequest: true, pullRequestNumber: 62, event: .pullRequest, action: .skip),
    CICase(
        name: "Azure tag",
        env: ["TF_BUILD": "True", "BUILD_REASON": "IndividualCI", "BUILD_SOURCEBRANCH": "refs/tags/v1"],
        service: .azurePipelines, tag: "v1", event: .tag, action: .skip),
    CICase(
        name: "Azure schedule",
        env: ["TF_BUILD": "True", "BUILD_REASON": "Schedule", "BUILD_SOURCEBRANCH": "refs/heads/main"],
        service: .azurePipelines, branch: "refs/heads/main", event: .cron, action: .skip),
    CICase(
        name: "Azure manual",
        env: ["TF_BUILD": "True", "BUILD_REASON": "Manual", "BUILD_SOURCEBRANCH": "refs/heads/main"],
        service: .azurePipelines, branch: "refs/heads/main", event: .manual, action: .skip),

    // MARK: AWS CodeBuild
    CICase(
        name: "CodeBuild webhook push to main",
        env: [
            "CODEBUILD_BUILD_ID": "api:1111", "CODEBUILD_WEBHOOK_TRIGGER": "branch/main",
            "CODEBUILD_WEBHOOK_EVENT": "PUSH", "CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/main",
            "CODEBUILD_RESOLVED_SOURCE_VERSION": sha, "CODEBUILD_SOURCE_VERSION": sha,
            "CODEBUILD_BUILD_NUMBER": "3", "CODEBUILD_SOURCE_REPO_URL": "https://github.com/acme/api.git",
        ],
        service: .codebuild, branch: "main", commit: sha, action: .deploy, alias: "prod"),
    CICase(
        name: "CodeBuild PR: pr/N",
        env: [
            "CODEBUILD_BUILD_ID": "api:1112", "CODEBUILD_WEBHOOK_TRIGGER": "pr/9",
            "CODEBUILD_WEBHOOK_EVENT": "PULL_REQUEST_UPDATED", "CODEBUILD_SOURCE_VERSION": "pr/9",
            "CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/feature/v", "CODEBUILD_WEBHOOK_BASE_REF": "refs/heads/main",
            "CODEBUILD_RESOLVED_SOURCE_VERSION": sha,
        ],
        service: .codebuild, branch: "main", isPullRequest: true, pullRequestNumber: 9,
        pullRequestSourceBranch: "feature/v", event: .pullRequest, commit: sha, action: .skip),
    CICase(
        name: "CodeBuild PR merged event is still a PR",
        env: [
            "CODEBUILD_BUILD_ID": "api:1113", "CODEBUILD_WEBHOOK_EVENT": "PULL_REQUEST_MERGED",
            "CODEBUILD_WEBHOOK_BASE_REF": "refs/heads/main",
        ],
        service: .codebuild, branch: "main", isPullRequest: true, event: .pullRequest, action: .skip),
    CICase(
        name: "CodeBuild tag webhook",
        env: ["CODEBUILD_BUILD_ID": "api:1114", "CODEBUILD_WEBHOOK_TRIGGER": "tag/v7"],
        service: .codebuild, tag: "v7", event: .tag, action: .skip),
    CICase(
        name: "CodeBuild console build: branch unknown",
        env: ["CODEBUILD_BUILD_ID": "api:1115", "CODEBUILD_SOURCE_VERSION": "main", "CODEBUILD_INITIATOR": "alice"],
        service: .codebuild, event: .manual, action: .skip),

    // MARK: Generic and local
    CICase(
        name: "Unknown CI with CI=true",
        env: ["CI": "true", "BRANCH": "main"],
        service: .generic, event: .other, action: .skip),
    CICase(
        name: "No CI at all",
        env: ["HOME": "/home/alice", "PATH": "/usr/bin"],
        service: .local, event: .local, action: .skip),
    CICase(
        name: "CI=false wins over TRAVIS=true",
        env: ["CI": "false", "TRAVIS": "true", "TRAVIS_BRANCH": "master", "TRAVIS_PULL_REQUEST": "false"],
        service: .local, event: .local, action: .skip),
]

@Suite("CI environment reader")
struct CIEnvironmentReaderTests {
    @Test("reads each service's real variables", arguments: ciCases)
    func readsService(_ c: CICase) {
        let context = CIEnvironmentReader(environment: c.env).read()
        #expect(context.service == c.service)
        #expect(context.isCI == (c.service != .local))
        #expect(context.branch == c.branch)
        #expect(context.isPullRequest == c.isPullRequest)
        #expect(context.pullRequestNumber == c.pullRequestNumber)
        #expect(context.pullRequestSourceBranch == c.pullRequestSourceBranch)
        #expect(context.tag == c.tag)
        #expect(context.eventType == c.event)
        #expect(context.commit == c.commit)
        #expect(context.jobNumber == c.jobNumber)
        #expect(context.isFork == c.isFork)
    }

    @Test("the default policy decides each service's build", arguments: ciCases)
    func decidesService(_ c: CICase) {
        let context = CIEnvironmentReader(environment: c.env).read()
        let decision = ReleasePolicy(config: .default).decide(context)
        #expect(decision.action == c.action, "\(decision.reason)")
        if c.action == .deploy {
            #expect(decision.alias == c.alias)
        }
        #expect(!decision.reason.isEmpty)
    }

    @Test("raw variables show the evidence and never a secret")
    func rawVariablesAreSafe() {
        let env = [
            "TRAVIS": "true", "TRAVIS_BRANCH": "master", "TRAVIS_PULL_REQUEST": "false",
            "GITHUB_TOKEN": "ghp_secret", "AWS_SECRET_ACCESS_KEY": "abc", "UNRELATED": "x",
        ]
        let context = CIEnvironmentReader(environment: env).read()
        #expect(context.rawVariables["TRAVIS_BRANCH"] == "master")
        #expect(context.rawVariables["TRAVIS_PULL_REQUEST"] == "false")
        #expect(context.rawVariables["GITHUB_TOKEN"] == nil)
        #expect(context.rawVariables["AWS_SECRET_ACCESS_KEY"] == nil)
        #expect(context.rawVariables["UNRELATED"] == nil)
        #expect(context.rawVariableLines == context.rawVariableLines.sorted())
    }

    @Test("secret-looking names are recognised", arguments: [
        ("CI_JOB_TOKEN", true), ("MY_SECRET", true), ("DB_PASSWORD", true), ("AWS_ACCESS_KEY_ID", true),
        ("SSH_PRIVATE", true), ("AWS_WEB_IDENTITY_TOKEN_FILE", false), ("TRAVIS_BRANCH", false),
        ("CHANGE_AUTHOR", false),
    ])
    func secretNames(_ name: String, _ secret: Bool) {
        #expect(Lookup.looksSecret(name) == secret)
    }

    @Test("credentials inside URLs are masked")
    func masksURLCredentials() {
        let env = ["BUILDKITE": "true", "BUILDKITE_PULL_REQUEST": "3",
                   "BUILDKITE_REPO": "https://bot:hunter2@github.com/acme/api.git",
                   "BUILDKITE_PULL_REQUEST_REPO": "https://github.com/acme/api.git"]
        let context = CIEnvironmentReader(environment: env).read()
        #expect(context.rawVariables["BUILDKITE_REPO"] == "https://***@github.com/acme/api.git")
        #expect(context.isFork == false)
    }

    @Test("build URL, slug and actor are assembled where the service gives the parts")
    func metadata() {
        let github = CIEnvironmentReader(environment: [
            "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main",
            "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/api", "GITHUB_RUN_ID": "77",
            "GITHUB_ACTOR": "alice", "GITHUB_RUN_NUMBER": "5",
        ]).read()
        #expect(github.buildURL?.text == "https://github.com/acme/api/actions/runs/77")
        #expect(github.repositorySlug == "acme/api")
        #expect(github.actor == "alice")
        #expect(github.buildNumber == "5")

        let azure = CIEnvironmentReader(environment: [
            "TF_BUILD": "True", "BUILD_BUILDID": "812", "SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/",
            "SYSTEM_TEAMPROJECT": "api",
        ]).read()
        #expect(azure.buildURL?.text == "https://dev.azure.com/acme/api/_build/results?buildId=812")
    }

    @Test("the context encodes to the JSON plan prints")
    func encodesJSON() throws {
        let context = CIEnvironmentReader(environment: ciCases[0].env).read()
        let decision = ReleasePolicy(config: .default).decide(context)
        let data = try JSONEncoder.sorted.encode(decision)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"action\":\"deploy\""))
        #expect(text.contains("\"alias\":\"prod\""))
        #expect(text.contains("\"service\":\"travis\""))
        #expect(text.contains("\"eventType\":\"push\""))
        let back = try JSONDecoder().decode(Decision.self, from: data)
        #expect(back == decision)
    }
}

import Foundation

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
