import Foundation
import Safety
import Testing
@testable import ReleasePolicy

/// One service's build as its documented variables give it, and the same pipeline's next build.
struct OrderCase: Sendable, CustomTestStringConvertible {
    var name: String
    var env: [String: String]
    /// The variable holding the build's number (bumped to make the later build).
    var numberVariable: String
    /// `service:number[.attempt]`, before the scope.
    var expected: String
    /// What the numbers count within, as the reader names it (hashed into the text).
    var scopeName: String
    /// A variable that, changed, puts the build in another pipeline.
    var scopeVariable: String
    var testDescription: String { name }
}

let orderCases: [OrderCase] = [
    OrderCase(
        name: "Travis CI", env: ["TRAVIS": "true", "TRAVIS_BUILD_NUMBER": "42", "TRAVIS_REPO_SLUG": "acme/api", "TRAVIS_JOB_NUMBER": "42.1"],
        numberVariable: "TRAVIS_BUILD_NUMBER", expected: "travis:42", scopeName: "acme/api", scopeVariable: "TRAVIS_REPO_SLUG"),
    OrderCase(
        name: "GitHub Actions (run number and attempt, per workflow)",
        env: [
            "GITHUB_ACTIONS": "true", "GITHUB_RUN_NUMBER": "1234", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_REPOSITORY": "acme/api",
            "GITHUB_WORKFLOW_REF": "acme/api/.github/workflows/deploy.yml@refs/heads/main", "GITHUB_REF": "refs/heads/main",
        ],
        numberVariable: "GITHUB_RUN_NUMBER", expected: "github-actions:1234.2", scopeName: "acme/api/.github/workflows/deploy.yml",
        scopeVariable: "GITHUB_WORKFLOW_REF"),
    OrderCase(
        name: "GitLab CI (pipeline IID, not the node index)",
        env: [
            "GITLAB_CI": "true", "CI_PIPELINE_IID": "77", "CI_PIPELINE_ID": "99123", "CI_PROJECT_ID": "4242",
            "CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "3",
        ],
        numberVariable: "CI_PIPELINE_IID", expected: "gitlab:77", scopeName: "4242 iid", scopeVariable: "CI_PROJECT_ID"),
    OrderCase(
        name: "GitLab CI without an IID (pipeline ID)", env: ["GITLAB_CI": "true", "CI_PIPELINE_ID": "99123", "CI_PROJECT_ID": "4242"],
        numberVariable: "CI_PIPELINE_ID", expected: "gitlab:99123", scopeName: "4242 id", scopeVariable: "CI_PROJECT_ID"),
    OrderCase(
        name: "CircleCI",
        env: ["CIRCLECI": "true", "CIRCLE_BUILD_NUM": "512", "CIRCLE_PROJECT_USERNAME": "acme", "CIRCLE_PROJECT_REPONAME": "api"],
        numberVariable: "CIRCLE_BUILD_NUM", expected: "circleci:512", scopeName: "acme/api", scopeVariable: "CIRCLE_PROJECT_REPONAME"),
    OrderCase(
        name: "Buildkite (retry count is the attempt)",
        env: [
            "BUILDKITE": "true", "BUILDKITE_BUILD_NUMBER": "88", "BUILDKITE_RETRY_COUNT": "1",
            "BUILDKITE_ORGANIZATION_SLUG": "acme", "BUILDKITE_PIPELINE_SLUG": "api",
        ],
        numberVariable: "BUILDKITE_BUILD_NUMBER", expected: "buildkite:88.2", scopeName: "acme/api", scopeVariable: "BUILDKITE_PIPELINE_SLUG"),
    OrderCase(
        name: "Jenkins (per job)",
        env: ["JENKINS_URL": "https://ci.example/", "BUILD_NUMBER": "153", "JOB_NAME": "acme/api/main", "BRANCH_NAME": "main"],
        numberVariable: "BUILD_NUMBER", expected: "jenkins:153", scopeName: "acme/api/main", scopeVariable: "JOB_NAME"),
    OrderCase(
        name: "Bitbucket Pipelines",
        env: ["BITBUCKET_BUILD_NUMBER": "23704", "BITBUCKET_REPO_UUID": "{6c1c3c1e}", "BITBUCKET_BRANCH": "main"],
        numberVariable: "BITBUCKET_BUILD_NUMBER", expected: "bitbucket:23704", scopeName: "{6c1c3c1e}", scopeVariable: "BITBUCKET_REPO_UUID"),
    OrderCase(
        name: "Azure Pipelines (build ID, not the build number's name)",
        env: [
            "TF_BUILD": "True", "BUILD_BUILDID": "812", "BUILD_BUILDNUMBER": "20240101.3", "SYSTEM_JOBATTEMPT": "1",
            "SYSTEM_COLLECTIONID": "c0ffee", "BUILD_SOURCEBRANCH": "refs/heads/main",
        ],
        numberVariable: "BUILD_BUILDID", expected: "azure-pipelines:812.1", scopeName: "c0ffee", scopeVariable: "SYSTEM_COLLECTIONID"),
    OrderCase(
        name: "AWS CodeBuild (per project)",
        env: ["CODEBUILD_BUILD_ID": "api-deploy:b1e6661e", "CODEBUILD_BUILD_NUMBER": "9", "CODEBUILD_WEBHOOK_TRIGGER": "branch/main"],
        numberVariable: "CODEBUILD_BUILD_NUMBER", expected: "codebuild:9", scopeName: "api-deploy", scopeVariable: "CODEBUILD_BUILD_ID"),
]

@Suite("Build order across CI services")
struct BuildOrderTests {
    func order(_ env: [String: String]) -> BuildOrder? {
        CIEnvironmentReader(environment: env).read().buildOrder
    }

    @Test("each service's build has an order, in a compact text form", arguments: orderCases)
    func text(_ c: OrderCase) throws {
        let built = try #require(order(c.env))
        #expect(built.text == "\(c.expected)/\(BuildOrder.hash(c.scopeName))")
        #expect(BuildOrder(text: built.text) == built)
        #expect(built.descriptionField.hasPrefix("build=\(c.expected)/"))
        #expect(built.descriptionField.utf8.count <= 48, "fits a Lambda version description (256 characters)")
    }

    @Test("a later build of the same pipeline and branch is later; the other way round, earlier", arguments: orderCases)
    func later(_ c: OrderCase) throws {
        var next = c.env
        next[c.numberVariable] = String((Int(c.env[c.numberVariable] ?? "") ?? 0) + 1)
        let ours = order(next), theirs = order(c.env)
        #expect(BuildOrder.isLater(ours, than: theirs, sameBranch: true) == .later)
        #expect(BuildOrder.isLater(theirs, than: ours, sameBranch: true) == .earlier)
        // Another branch, another pipeline, or the same build: nothing can be said.
        #expect(BuildOrder.isLater(ours, than: theirs, sameBranch: false) == .unknown)
        var elsewhere = next
        elsewhere[c.scopeVariable] = "other-" + (c.env[c.scopeVariable] ?? "")
        #expect(BuildOrder.isLater(order(elsewhere), than: theirs, sameBranch: true) == .unknown)
        #expect(BuildOrder.isLater(theirs, than: theirs, sameBranch: true) == .unknown)
        #expect(BuildOrder.isLater(nil, than: theirs, sameBranch: true) == .unknown)
    }

    @Test("a GitHub re-run is later than its first attempt, and earlier than the next run")
    func githubAttempts() throws {
        let env = orderCases[1].env
        var first = env
        first["GITHUB_RUN_ATTEMPT"] = "1"
        var nextRun = env
        nextRun["GITHUB_RUN_NUMBER"] = "1235"
        nextRun["GITHUB_RUN_ATTEMPT"] = "1"
        #expect(BuildOrder.isLater(order(env), than: order(first), sameBranch: true) == .later)
        #expect(BuildOrder.isLater(order(env), than: order(nextRun), sameBranch: true) == .earlier)
        // Runs of another workflow count separately.
        var otherWorkflow = nextRun
        otherWorkflow["GITHUB_WORKFLOW_REF"] = "acme/api/.github/workflows/nightly.yml@refs/heads/main"
        #expect(BuildOrder.isLater(order(otherWorkflow), than: order(env), sameBranch: true) == .unknown)
        // The same workflow on another branch shares the numbers: the ref is not part of the scope.
        var otherBranch = nextRun
        otherBranch["GITHUB_WORKFLOW_REF"] = "acme/api/.github/workflows/deploy.yml@refs/heads/release"
        #expect(order(otherBranch)?.scope == order(env)?.scope)
    }

    @Test("GitLab pipeline IIDs and instance IDs never compare")
    func gitlabKinds() {
        #expect(BuildOrder.isLater(order(orderCases[3].env), than: order(orderCases[2].env), sameBranch: true) == .unknown)
    }

    @Test("garbled numbers and missing scopes give no order", arguments: [
        ["TRAVIS": "true", "TRAVIS_BUILD_NUMBER": "12a", "TRAVIS_REPO_SLUG": "a/b"],
        ["TRAVIS": "true", "TRAVIS_BUILD_NUMBER": "-1", "TRAVIS_REPO_SLUG": "a/b"],
        ["TRAVIS": "true", "TRAVIS_BUILD_NUMBER": "99999999999999999999", "TRAVIS_REPO_SLUG": "a/b"],
        ["TRAVIS": "true", "TRAVIS_BUILD_NUMBER": "12"],
        ["JENKINS_URL": "x", "BUILD_NUMBER": "7"],
        ["GITHUB_ACTIONS": "true", "GITHUB_RUN_NUMBER": "7"],
    ])
    func noOrder(_ env: [String: String]) {
        #expect(order(env) == nil)
    }

    @Test("only the text form parses", arguments: [
        "", "travis", "travis:", "travis:1", "travis:1/", "travis:1/0123456", "travis:1/0123456g", "local:1/01234567",
        "generic:1/01234567", "travis:1.2.3/01234567", "travis:+1/01234567", "travis:1./01234567", "nope:1/01234567",
        "travis:1/01234567 ", "travis: 1/01234567",
    ])
    func parseRefuses(_ text: String) {
        #expect(BuildOrder(text: text) == nil)
    }

    @Test("the order is found in a version description")
    func inDescription() throws {
        let order = BuildOrder(service: .githubActions, number: 1234, attempt: 2, scope: "5f3a9c1e")
        let description = "deployed by lambda-deploy commit=0123456789ab \(order.descriptionField) sha256=abc"
        #expect(BuildOrder.find(inDescription: description) == order)
        #expect(BuildOrder.find(inDescription: "commit=abc") == nil)
        #expect(BuildOrder.find(inDescription: "build=garbage") == nil)
    }

    @Test("the scope hash is FNV-1a, fixed across versions")
    func hash() {
        #expect(BuildOrder.hash("") == "811c9dc5")
        #expect(BuildOrder.hash("a") == "e40c292c")
        #expect(BuildOrder.hash("foobar") == "bf9cf968")
    }
}

@Suite("What the CI context keeps")
struct CIContextKeepsTests {
    @Test("a parallel GitLab job records the pipeline as the build and the node as the job (D4)")
    func gitlabParallel() {
        let context = CIEnvironmentReader(environment: orderCases[2].env).read()
        #expect(context.buildNumber == "77")
        #expect(context.jobNumber == "1")
    }

    @Test("the run attempt is kept where the service gives it", arguments: [
        (orderCases[1].env, 2), (orderCases[5].env, 2), (orderCases[8].env, 1), (orderCases[0].env, nil as Int?),
    ])
    func runAttempt(_ env: [String: String], _ attempt: Int?) {
        #expect(CIEnvironmentReader(environment: env).read().runAttempt == attempt)
    }

    @Test("a build URL with credentials is masked when it is read (D3)", arguments: [
        ["TRAVIS": "true", "TRAVIS_BUILD_WEB_URL": "https://bot:s3cret-pw@travis.example/acme/api/builds/9"],
        ["GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://bot:s3cret-pw@github.example", "GITHUB_REPOSITORY": "a/b", "GITHUB_RUN_ID": "7"],
        ["GITLAB_CI": "true", "CI_PIPELINE_URL": "https://gitlab-ci-token:s3cret-pw@gitlab.example/a/b/-/pipelines/1"],
        ["CIRCLECI": "true", "CIRCLE_BUILD_URL": "https://s3cret-pw@circleci.example/gh/a/b/1"],
        ["BUILDKITE": "true", "BUILDKITE_BUILD_URL": "https://u:s3cret-pw@buildkite.example/a/b/builds/1"],
        ["JENKINS_URL": "https://ci/", "BUILD_URL": "https://admin:s3cret-pw@jenkins.example/job/a/15/"],
        ["BITBUCKET_BUILD_NUMBER": "3", "BITBUCKET_GIT_HTTP_ORIGIN": "https://x-token-auth:s3cret-pw@bitbucket.example/a/b"],
        ["TF_BUILD": "True", "SYSTEM_COLLECTIONURI": "https://pat:s3cret-pw@dev.azure.example/acme/", "SYSTEM_TEAMPROJECT": "p", "BUILD_BUILDID": "1"],
        ["CODEBUILD_BUILD_ID": "p:1", "CODEBUILD_PUBLIC_BUILD_URL": "https://u:s3cret-pw@codebuild.example/b/1"],
    ])
    func buildURLMasked(_ env: [String: String]) throws {
        let context = CIEnvironmentReader(environment: env).read()
        let url = try #require(context.buildURL)
        #expect(!url.text.contains("s3cret-pw"))
        #expect(url.text.contains("://***@"))
        let plan = String(decoding: try JSONEncoder.sorted.encode(ReleasePolicy(config: .default).decide(context)), as: UTF8.self)
        #expect(!plan.contains("s3cret-pw"), "plan --json carries no credential: \(plan)")
    }

    @Test("a masked URL stays masked through JSON, whatever the JSON said")
    func maskedThroughJSON() throws {
        let decoded = try JSONDecoder().decode(MaskedURL.self, from: Data("\"https://u:pw@h.example/x\"".utf8))
        #expect(decoded.text == "https://***@h.example/x")
        #expect(String(decoding: try JSONEncoder().encode(MaskedURL("http://a:b@c/d")), as: UTF8.self) == "\"http:\\/\\/***@c\\/d\"")
    }
}

/// CI variables are data from outside too: a value that is not what it claims never reaches a
/// decision, a record or a terminal as is.
struct HostileCI: Sendable, CustomTestStringConvertible {
    var name: String
    var env: [String: String]
    /// Text the skip reason must contain.
    var reason: String
    var testDescription: String { name }
}

let hostileCI: [HostileCI] = [
    HostileCI(name: "a branch with a newline forging a line",
              env: ["TRAVIS": "true", "TRAVIS_BRANCH": "main\n2099-01-01 pr:prod v999 deployed", "TRAVIS_PULL_REQUEST": "false"],
              reason: "main\\n2099-01-01"),
    HostileCI(name: "a branch with a terminal escape",
              env: ["GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/x\u{1B}]0;pwned\u{07}"],
              reason: "x\\e]0;pwned"),
    HostileCI(name: "a branch starting with -", env: ["TRAVIS": "true", "TRAVIS_BRANCH": "--upload-pack=x", "TRAVIS_PULL_REQUEST": "false"],
              reason: "cannot start with '-'"),
    HostileCI(name: "a tag with a space", env: ["TRAVIS": "true", "TRAVIS_TAG": "v1 rm", "TRAVIS_PULL_REQUEST": "false"],
              reason: "not a tag name git accepts"),
    HostileCI(name: "a PR source branch with escapes",
              env: ["TRAVIS": "true", "TRAVIS_BRANCH": "main", "TRAVIS_PULL_REQUEST": "3", "TRAVIS_PULL_REQUEST_BRANCH": "a\u{1B}[2Jb"],
              reason: "a\\e[2Jb"),
    HostileCI(name: "an event name with a newline",
              env: ["GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "weird\nsecond line", "GITHUB_REF": "refs/heads/main"],
              reason: "GITHUB_EVENT_NAME=weird\\nsecond line"),
]

@Suite("Hostile CI variables")
struct HostileCITests {
    @Test("never deploy, and the reason is one escaped line", arguments: hostileCI)
    func skipped(_ c: HostileCI) throws {
        let decision = ReleasePolicy(config: try DeployConfig.parse(yaml: "branches: {'**': dev}\ntags: {'**': dev}", file: "f"))
            .decide(CIEnvironmentReader(environment: c.env).read())
        #expect(decision.action == .skip)
        #expect(decision.reason.contains(c.reason), "\(decision.reason)")
        #expect(!decision.reason.unicodeScalars.contains(where: DisplayText.needsEscape), "\(decision.reason.debugDescription)")
    }

    @Test("a commit that is not an object id is unknown, not passed on", arguments: [
        "--output=/tmp/x", "HEAD", "abc", "0123456789abcdef0123456789abcdef0123456\n", "g123456789abcdef0123456789abcdef01234567",
    ])
    func commits(_ value: String) {
        #expect(CIEnvironmentReader(environment: ["TRAVIS": "true", "TRAVIS_COMMIT": value]).read().commit == nil)
    }

    @Test("an upper-case commit id is kept in git's lower case")
    func upperCaseCommit() {
        let context = CIEnvironmentReader(environment: ["TRAVIS": "true", "TRAVIS_COMMIT": sha.uppercased()]).read()
        #expect(context.commit == sha)
    }
}
