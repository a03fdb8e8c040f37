import Safety

/// Reads the CI service's variables into one `CIContext`.
///
/// A pure function of the environment value it is given (read `ProcessInfo` once at the entry
/// point). Every variable name below is from the service's own documentation of its built-in
/// variables; the traps each service sets (a PR build whose branch variable names the target, a
/// commit that is the literal `HEAD`, a branch that is `origin/master`) are handled per service,
/// and anything that says "pull request" wins over anything that says "branch".
public struct CIEnvironmentReader: Sendable {
    private let environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    /// The context for this environment. Never fails: unknown or garbled values degrade to
    /// "unknown" (nil) fields, which the policy treats as reasons not to deploy.
    public func read() -> CIContext {
        var env = Lookup(environment)
        // `CI=false` is how people say "treat this as my machine", even inside a CI container.
        var context: CIContext
        if let ci = env["CI"], Self.isFalse(ci) {
            context = .local
        } else if env.flag("TRAVIS") {
            context = travis(&env)
        } else if env.flag("GITHUB_ACTIONS") {
            context = githubActions(&env)
        } else if env.flag("GITLAB_CI") {
            context = gitlab(&env)
        } else if env.flag("CIRCLECI") {
            context = circleci(&env)
        } else if env.flag("BUILDKITE") {
            context = buildkite(&env)
        } else if env.flag("TF_BUILD") {
            context = azure(&env)
        } else if env["CODEBUILD_BUILD_ID"] != nil {
            context = codebuild(&env)
        } else if env["BITBUCKET_BUILD_NUMBER"] != nil {
            context = bitbucket(&env)
        } else if env["JENKINS_URL"] != nil {
            context = jenkins(&env)
        } else if let ci = env["CI"], !Self.isFalse(ci) {
            context = CIContext(service: .generic, isCI: true, eventType: .other)
        } else {
            context = .local
        }
        // Belt and braces: a pull-request indicator from *any* service makes this a pull request,
        // even when another service was detected (nested CI, a runner that forwards variables,
        // CI=false). A skipped deploy is the safe mistake; a deployed PR is not.
        // The indicator variable itself lands in `rawVariables` as evidence.
        if !context.isPullRequest, Self.pullRequestIndicator(&env) != nil {
            context.isPullRequest = true
            context.eventType = .pullRequest
        }
        context.rawVariables = env.consulted
        return context
    }

    /// The first variable, from any known service, that says "pull request", as `NAME=value`.
    static func pullRequestIndicator(_ env: inout Lookup) -> String? {
        for (name, test) in pullRequestIndicators {
            guard let value = env[name] else { continue }
            let matches: Bool
            switch test {
            case .notFalse: matches = !isFalse(value)
            case .oneOf(let values): matches = values.contains(value)
            case .prefix(let prefix): matches = value.hasPrefix(prefix)
            }
            if matches { return "\(name)=\(value)" }
        }
        return nil
    }

    enum IndicatorTest: Sendable {
        case notFalse
        case oneOf(Set<String>)
        case prefix(String)
    }

    static let pullRequestIndicators: [(String, IndicatorTest)] = [
        ("TRAVIS_PULL_REQUEST", .notFalse),
        ("TRAVIS_EVENT_TYPE", .oneOf(["pull_request"])),
        ("GITHUB_EVENT_NAME", .oneOf(githubPullRequestEvents)),
        ("GITHUB_HEAD_REF", .notFalse),
        ("GITHUB_REF", .prefix("refs/pull/")),
        ("CI_MERGE_REQUEST_IID", .notFalse),
        ("CI_EXTERNAL_PULL_REQUEST_IID", .notFalse),
        ("CI_PIPELINE_SOURCE", .oneOf(["merge_request_event", "external_pull_request_event"])),
        ("CIRCLE_PULL_REQUEST", .notFalse),
        ("CIRCLE_PULL_REQUESTS", .notFalse),
        ("CIRCLE_PR_NUMBER", .notFalse),
        ("CI_PULL_REQUEST", .notFalse),
        ("BUILDKITE_PULL_REQUEST", .notFalse),
        ("CHANGE_ID", .notFalse),
        ("BRANCH_NAME", .prefix("PR-")),
        ("BITBUCKET_PR_ID", .notFalse),
        ("BUILD_REASON", .oneOf(["PullRequest"])),
        ("SYSTEM_PULLREQUEST_PULLREQUESTID", .notFalse),
        ("SYSTEM_PULLREQUEST_PULLREQUESTNUMBER", .notFalse),
        ("BUILD_SOURCEBRANCH", .prefix("refs/pull/")),
        ("CODEBUILD_WEBHOOK_TRIGGER", .prefix("pr/")),
        ("CODEBUILD_WEBHOOK_EVENT", .prefix("PULL_REQUEST")),
        ("CODEBUILD_SOURCE_VERSION", .prefix("pr/")),
    ]

    static let githubPullRequestEvents: Set<String> = [
        "pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment",
        "merge_group",
    ]

    // MARK: Travis CI
    // https://docs.travis-ci.com/user/environment-variables/#default-environment-variables

    private func travis(_ env: inout Lookup) -> CIContext {
        var c = CIContext(service: .travis, isCI: true)
        let pr = env["TRAVIS_PULL_REQUEST"]
        let event = env["TRAVIS_EVENT_TYPE"]
        // TRAVIS_PULL_REQUEST is "false" or the PR number; on a PR build TRAVIS_BRANCH is the
        // *target* branch, so only this variable (and the event type) can say "pull request".
        c.isPullRequest = (pr.map { !Self.isFalse($0) } ?? false) || event == "pull_request"
        c.tag = env["TRAVIS_TAG"]
        if c.isPullRequest {
            c.pullRequestNumber = pr.flatMap(Self.number)
            c.pullRequestSourceBranch = env["TRAVIS_PULL_REQUEST_BRANCH"]
            let prSlug = env["TRAVIS_PULL_REQUEST_SLUG"]
            let slug = env["TRAVIS_REPO_SLUG"]
            c.isFork = prSlug != nil && slug != nil && prSlug != slug
        }
        // On a tag build TRAVIS_BRANCH holds the tag name, not a branch.
        c.branch = c.tag == nil ? env["TRAVIS_BRANCH"] : nil
        c.commit = Self.commit(env["TRAVIS_COMMIT"])
        c.eventType = Self.event(
            isPR: c.isPullRequest, tag: c.tag, raw: event,
            table: ["push": .push, "pull_request": .pullRequest, "cron": .cron, "api": .api])
        c.buildNumber = env["TRAVIS_BUILD_NUMBER"]
        c.jobNumber = env["TRAVIS_JOB_NUMBER"]
        c.buildURL = env["TRAVIS_BUILD_WEB_URL"].map(MaskedURL.init)
        c.repositorySlug = env["TRAVIS_REPO_SLUG"]
        // Per repository; a restarted build keeps its number.
        c.buildOrder = BuildOrder(service: .travis, number: c.buildNumber, scopeName: c.repositorySlug)
        return c
    }

    // MARK: GitHub Actions
    // https://docs.github.com/en/actions/reference/variables-reference#default-environment-variables

    private func githubActions(_ env: inout Lookup) -> CIContext {
        var c = CIContext(service: .githubActions, isCI: true)
        let eventName = env["GITHUB_EVENT_NAME"]
        let ref = env["GITHUB_REF"] ?? ""
        let refType = env["GITHUB_REF_TYPE"]
        // pull_request_target runs with the base repository's secrets on a fork's code: the one
        // event that must never deploy, though its GITHUB_REF is the base *branch*.
        let prEvents = Self.githubPullRequestEvents
        let prRef = ref.hasPrefix("refs/pull/")
        c.isPullRequest = eventName.map(prEvents.contains) == true || prRef || env["GITHUB_HEAD_REF"] != nil
        if c.isPullRequest {
            c.pullRequestSourceBranch = env["GITHUB_HEAD_REF"]
            if prRef {
                c.pullRequestNumber = Self.number(ref.split(separator: "/").dropFirst(2).first.map(String.init) ?? "")
            }
            c.branch = env["GITHUB_BASE_REF"]
        } else if ref.hasPrefix("refs/tags/") || refType == "tag" {
            c.tag = ref.hasPrefix("refs/tags/") ? String(ref.dropFirst("refs/tags/".count)) : env["GITHUB_REF_NAME"]
        } else if ref.hasPrefix("refs/heads/") {
            c.branch = String(ref.dropFirst("refs/heads/".count))
        } else if !ref.isEmpty {
            c.branch = ref  // something else; the policy's normaliser refuses it
        }
        c.commit = Self.commit(env["GITHUB_SHA"])
        c.eventType = Self.event(
            isPR: c.isPullRequest, tag: c.tag, raw: eventName,
            table: [
                "push": .push, "schedule": .cron, "workflow_dispatch": .manual, "repository_dispatch": .api,
                "release": .tag,
            ])
        c.buildNumber = env["GITHUB_RUN_NUMBER"]
        let attempt = env["GITHUB_RUN_ATTEMPT"]
        c.runAttempt = attempt.flatMap(Self.number)
        if let server = env["GITHUB_SERVER_URL"], let repo = env["GITHUB_REPOSITORY"], let run = env["GITHUB_RUN_ID"] {
            c.buildURL = MaskedURL("\(server)/\(repo)/actions/runs/\(run)")
        }
        c.repositorySlug = env["GITHUB_REPOSITORY"]
        // Run numbers count per workflow (GITHUB_WORKFLOW_REF is `owner/repo/path@ref`: the ref
        // is cut off, since runs of one workflow on every branch share the numbers); a re-run
        // keeps its number and counts up GITHUB_RUN_ATTEMPT.
        let workflow = env["GITHUB_WORKFLOW_REF"].map { ref in ref.lastIndex(of: "@").map { String(ref[..<$0]) } ?? ref }
            ?? env["GITHUB_WORKFLOW"].flatMap { name in c.repositorySlug.map { "\($0)/\(name)" } }
        c.buildOrder = BuildOrder(service: .githubActions, number: c.buildNumber, attempt: attempt, scopeName: workflow)
        c.actor = env["GITHUB_TRIGGERING_ACTOR"] ?? env["GITHUB_ACTOR"]
        return c
    }

    // MARK: GitLab CI
    // https://docs.gitlab.com/ci/variables/predefined_variables/

    private func gitlab(_ env: inout Lookup) -> CIContext {
        var c = CIContext(service: .gitlab, isCI: true)
        let source = env["CI_PIPELINE_SOURCE"]
        let mrIID = env["CI_MERGE_REQUEST_IID"]
        let externalIID = env["CI_EXTERNAL_PULL_REQUEST_IID"]
        c.isPullRequest = mrIID != nil || externalIID != nil
            || source == "merge_request_event" || source == "external_pull_request_event"
        c.tag = env["CI_COMMIT_TAG"]
        if c.isPullRequest {
            c.pullRequestNumber = (mrIID ?? externalIID).flatMap(Self.number)
            c.pullRequestSourceBranch = env["CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"]
                ?? env["CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME"]
            c.branch = env["CI_MERGE_REQUEST_TARGET_BRANCH_NAME"] ?? env["CI_EXTERNAL_PULL_REQUEST_TARGET_BRANCH_NAME"]
            if let source = env["CI_MERGE_REQUEST_SOURCE_PROJECT_ID"],
               let target = env["CI_MERGE_REQUEST_PROJECT_ID"] ?? env["CI_PROJECT_ID"] {
                c.isFork = source != target
            }
        } else if c.tag == nil {
            // CI_COMMIT_BRANCH is set only in branch pipelines (not in MR or tag pipelines);
            // CI_COMMIT_REF_NAME would name an MR's *source* branch, so it is not used.
            c.branch = env["CI_COMMIT_BRANCH"]
        }
        c.commit = Self.commit(env["CI_COMMIT_SHA"])
        c.eventType = Self.event(
            isPR: c.isPullRequest, tag: c.tag, raw: source,
            table: [
                "push": .push, "schedule": .cron, "api": .api, "trigger": .api, "pipeline": .api,
                "parent_pipeline": .api, "web": .manual,
            ])
        let iid = env["CI_PIPELINE_IID"]
        c.buildNumber = iid ?? env["CI_PIPELINE_ID"]
        c.jobNumber = Self.parallelIndex(env["CI_NODE_INDEX"], total: env["CI_NODE_TOTAL"], zeroBased: false)
        c.buildURL = (env["CI_PIPELINE_URL"] ?? env["CI_JOB_URL"]).map(MaskedURL.init)
        c.repositorySlug = env["CI_PROJECT_PATH"]
        // The IID counts per project, the ID per instance: each compares only with its own kind.
        // A retried job keeps its pipeline's numbers.
        let project = env["CI_PROJECT_ID"] ?? c.repositorySlug
        c.buildOrder = BuildOrder(
            service: .gitlab, number: c.buildNumber, scopeName: project.map { "\($0) \(iid != nil ? "iid" : "id")" })
        c.actor = env["GITLAB_USER_LOGIN"]
        return c
    }

    // MARK: CircleCI
    // https://circleci.com/docs/reference/variables/

    private func circleci(_ env: inout Lookup) -> CIContext {
        var c = CIContext(service: .circleci, isCI: true)
        // CIRCLE_PR_NUMBER/USERNAME/REPONAME exist only for PRs from forks. CIRCLE_PULL_REQUEST(S)
        // is also set on a *branch* build when that branch has an open PR: still treated as a
        // pull request (skipping a deploy is the safe mistake).
        let prURL = env["CIRCLE_PULL_REQUEST"] ?? env["CIRCLE_PULL_REQUESTS"] ?? env["CI_PULL_REQUEST"]
        let forkNumber = env["CIRCLE_PR_NUMBER"]
        c.isPullRequest = prURL != nil || forkNumber != nil
        c.tag = env["CIRCLE_TAG"]
        if c.isPullRequest {
            c.isFork = forkNumber != nil || env["CIRCLE_PR_REPONAME"] != nil || env["CIRCLE_PR_USERNAME"] != nil
            c.pullRequestNumber = forkNumber.flatMap(Self.number) ?? prURL.flatMap(Self.trailingNumber)
            c.pullRequestSourceBranch = env["CIRCLE_BRANCH"]
        } else if c.tag == nil {
            c.branch = env["CIRCLE_BRANCH"]
        }
        c.commit = Self.commit(env["CIRCLE_SHA1"])
        c.eventType = Self.event(isPR: c.isPullRequest, tag: c.tag, raw: nil, table: [:])
        c.buildNumber = env["CIRCLE_BUILD_NUM"]
        c.jobNumber = Self.parallelIndex(env["CIRCLE_NODE_INDEX"], total: env["CIRCLE_NODE_TOTAL"], zeroBased: true)
        c.buildURL = env["CIRCLE_BUILD_URL"].map(MaskedURL.init)
        if let user = env["CIRCLE_PROJECT_USERNAME"], let repo = env["CIRCLE_PROJECT_REPONAME"] {
            c.repositorySlug = "\(user)/\(repo)"
        }
        // The job's number, per project; a rerun gets a new one.
        c.buildOrder = BuildOrder(service: .circleci, number: c.buildNumber, scopeName: c.repositorySlug)
        c.actor = env["CIRCLE_USERNAME"]
        return c
    }

    // MARK: Buildkite
    // https://buildkite.com/docs/pipelines/configure/environment-variables

    private func buildkite(_ env: inout Lookup) -> CIContext {
        var c = CIContext(service: .buildkite, isCI: true)
        let pr = env["BUILDKITE_PULL_REQUEST"]
        c.isPullRequest = pr.map { !Self.isFalse($0) } ?? false
        c.tag = env["BUILDKITE_TAG"]
        if c.isPullRequest {
            c.pullRequestNumber = pr.flatMap(Self.number)
            // On a PR build BUILDKITE_BRANCH is the PR's *head* branch ("user:branch" for forks).
            c.pullRequestSourceBranch = env["BUILDKITE_BRANCH"]
            c.branch = env["BUILDKITE_PULL_REQUEST_BASE_BRANCH"]
            if let prRepo = env["BUILDKITE_PULL_REQUEST_REPO"], let repo = env["BUILDKITE_REPO"] {
                c.isFork = Self.repositoryPath(prRepo) != Self.repositoryPath(repo)
            }
        } else if c.tag == nil {
            c.branch = env["BUILDKITE_BRANCH"]
        }
        // BUILDKITE_COMMIT may be the literal "HEAD" (a build started from the UI or API before
        // the agent resolved it): then the commit is unknown.
        c.commit = Self.commit(env["BUILDKITE_COMMIT"])
        c.eventType = Self.event(
            isPR: c.isPullRequest, tag: c.tag, raw: env["BUILDKITE_SOURCE"],
            table: ["webhook": .push, "schedule": .cron, "api": .api, "trigger_job": .api, "ui": .manual])
        c.buildNumber = env["BUILDKITE_BUILD_NUMBER"]
        c.jobNumber = Self.parallelIndex(
            env["BUILDKITE_PARALLEL_JOB"], total: env["BUILDKITE_PARALLEL_JOB_COUNT"], zeroBased: true)
        c.buildURL = env["BUILDKITE_BUILD_URL"].map(MaskedURL.init)
        if let org = env["BUILDKITE_ORGANIZATION_SLUG"], let pipeline = env["BUILDKITE_PIPELINE_SLUG"] {
            c.repositorySlug = "\(org)/\(pipeline)"
        }
        // Per pipeline, only ever growing; a retried job keeps its build's number.
        let attempt = env["BUILDKITE_RETRY_COUNT"].flatMap(BuildOrder.decimal).map { String($0 + 1) }
        c.runAttempt = attempt.flatMap(Self.number)
        c.buildOrder = BuildOrder(service: .buildkite, number: c.buildNumber, attempt: attempt, scopeName: c.repositorySlug)
        c.actor = env["BUILDKITE_BUILD_CREATOR"]
        return c
    }

    // MARK: Jenkins
    // https://www.jenkins.io/doc/book/pipeline/jenkinsfile/#using-environment-variables
    // (multibranch: BRANCH_NAME, CHANGE_*, TAG_NAME; git plugin: GIT_BRANCH, GIT_COMMIT)

    private func jenkins(_ env: inout Lookup) -> CIContext {
        var c = CIContext(service: .jenkins, isCI: true)
        let changeID = env["CHANGE_ID"]
        let branchName = env["BRANCH_NAME"]
        let prJob = branchName.map { $0.hasPrefix("PR-") } ?? false
        c.isPullRequest = changeID != nil || prJob
        c.tag = env["TAG_NAME"]
        if c.isPullRequest {
            c.pullRequestNumber = changeID.flatMap(Self.number)
                ?? branchName.flatMap { Self.number(String($0.dropFirst(3))) }
            c.pullRequestSourceBranch = env["CHANGE_BRANCH"]
            c.branch = env["CHANGE_TARGET"]
            c.isFork = env["CHANGE_FORK"] != nil
            c.actor = env["CHANGE_AUTHOR"]
        } else if c.tag == nil {
            // Multibranch jobs set BRANCH_NAME ("main"); freestyle jobs only have the git
            // plugin's GIT_BRANCH ("origin/main"), which the policy normalises.
            c.branch = branchName ?? env["GIT_BRANCH"]
        }
        c.commit = Self.commit(env["GIT_COMMIT"])
        c.eventType = Self.event(isPR: c.isPullRequest, tag: c.tag, raw: nil, table: [:])
        c.buildNumber = env["BUILD_NUMBER"]
        c.buildURL = env["BUILD_URL"].map(MaskedURL.init)
        // Per job (a multibranch job is one per branch); a replay gets a new number.
        c.buildOrder = BuildOrder(service: .jenkins, number: c.buildNumber, scopeName: env["JOB_NAME"])
        return c
    }

    // MARK: Bitbucket Pipelines
    // https://support.atlassian.com/bitbucket-cloud/docs/variables-and-secrets/

    private func bitbucket(_ env: inout Lookup) -> CIContext {
        var c = CIContext(service: .bitbucket, isCI: true)
        let prID = env["BITBUCKET_PR_ID"]
        c.isPullRequest = prID != nil
        c.tag = env["BITBUCKET_TAG"]
        if c.isPullRequest {
            c.pullRequestNumber = prID.flatMap(Self.number)
            c.pullRequestSourceBranch = env["BITBUCKET_BRANCH"]
            c.branch = env["BITBUCKET_PR_DESTINATION_BRANCH"]
        } else if c.tag == nil {
            c.branch = env["BITBUCKET_BRANCH"]
        }
        c.commit = Self.commit(env["BITBUCKET_COMMIT"])
        c.eventType = Self.event(isPR: c.isPullRequest, tag: c.tag, raw: nil, table: [:])
        c.buildNumber = env["BITBUCKET_BUILD_NUMBER"]
        c.jobNumber = Self.parallelIndex(
            env["BITBUCKET_PARALLEL_STEP"], total: env["BITBUCKET_PARALLEL_STEP_COUNT"], zeroBased: true)
        if let origin = env["BITBUCKET_GIT_HTTP_ORIGIN"], let build = c.buildNumber {
            c.buildURL = MaskedURL("\(origin)/addon/pipelines/home#!/results/\(build)")
        }
        c.repositorySlug = env["BITBUCKET_REPO_FULL_NAME"]
        // Per repository, across branches; a rerun gets a new number.
        c.buildOrder = BuildOrder(
            service: .bitbucket, number: c.buildNumber, scopeName: env["BITBUCKET_REPO_UUID"] ?? c.repositorySlug)
        return c
    }

    // MARK: Azure Pipelines
    // https://learn.microsoft.com/azure/devops/pipelines/build/variables
    // (TF_BUILD instead of CI; BUILD_SOURCEBRANCHNAME keeps only the last path segment, so
    // BUILD_SOURCEBRANCH is used.)

    private func azure(_ env: inout Lookup) -> CIContext {
        var c = CIContext(service: .azurePipelines, isCI: true)
        let reason = env["BUILD_REASON"]
        let ref = env["BUILD_SOURCEBRANCH"] ?? ""
        let prNumber = env["SYSTEM_PULLREQUEST_PULLREQUESTNUMBER"] ?? env["SYSTEM_PULLREQUEST_PULLREQUESTID"]
        c.isPullRequest = reason == "PullRequest" || prNumber != nil || ref.hasPrefix("refs/pull/")
        if c.isPullRequest {
            c.pullRequestNumber = prNumber.flatMap(Self.number)
                ?? (ref.hasPrefix("refs/pull/") ? Self.number(ref.split(separator: "/").dropFirst(2).first.map(String.init) ?? "") : nil)
            c.pullRequestSourceBranch = env["SYSTEM_PULLREQUEST_SOURCEBRANCH"]
            c.branch = env["SYSTEM_PULLREQUEST_TARGETBRANCH"]
            c.isFork = env["SYSTEM_PULLREQUEST_ISFORK"].map { $0.lowercased() == "true" } ?? false
        } else if ref.hasPrefix("refs/tags/") {
            c.tag = String(ref.dropFirst("refs/tags/".count))
        } else if !ref.isEmpty {
            c.branch = ref
        }
        c.commit = Self.commit(env["BUILD_SOURCEVERSION"])
        c.eventType = Self.event(
            isPR: c.isPullRequest, tag: c.tag, raw: reason,
            table: [
                "IndividualCI": .push, "BatchedCI": .push, "Schedule": .cron, "Manual": .manual,
                "BuildCompletion": .api, "ResourceTrigger": .api,
            ])
        c.buildNumber = env["BUILD_BUILDNUMBER"]
        c.jobNumber = Self.parallelIndex(
            env["SYSTEM_JOBPOSITIONINPHASE"], total: env["SYSTEM_TOTALJOBSINPHASE"], zeroBased: false)
        if let collection = env["SYSTEM_COLLECTIONURI"], let project = env["SYSTEM_TEAMPROJECT"],
           let id = env["BUILD_BUILDID"] {
            let base = collection.hasSuffix("/") ? collection : collection + "/"
            c.buildURL = MaskedURL("\(base)\(project)/_build/results?buildId=\(id)")
        }
        c.repositorySlug = env["BUILD_REPOSITORY_NAME"]
        // BUILD_BUILDNUMBER is a formatted name (20240101.3); BUILD_BUILDID is the record's ID,
        // growing across the organization. Rerunning failed jobs keeps it and counts
        // SYSTEM_JOBATTEMPT.
        let attempt = env["SYSTEM_JOBATTEMPT"]
        c.runAttempt = attempt.flatMap(Self.number)
        c.buildOrder = BuildOrder(
            service: .azurePipelines, number: env["BUILD_BUILDID"], attempt: attempt,
            scopeName: env["SYSTEM_COLLECTIONID"] ?? env["SYSTEM_COLLECTIONURI"])
        c.actor = env["BUILD_REQUESTEDFOR"]
        return c
    }

    // MARK: AWS CodeBuild
    // https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-env-vars.html
    // The branch is known only on webhook builds (CODEBUILD_WEBHOOK_TRIGGER branch/x | tag/x | pr/N).

    private func codebuild(_ env: inout Lookup) -> CIContext {
        var c = CIContext(service: .codebuild, isCI: true)
        let trigger = env["CODEBUILD_WEBHOOK_TRIGGER"]
        let webhookEvent = env["CODEBUILD_WEBHOOK_EVENT"]
        let sourceVersion = env["CODEBUILD_SOURCE_VERSION"]
        c.isPullRequest = trigger?.hasPrefix("pr/") == true
            || webhookEvent?.hasPrefix("PULL_REQUEST") == true
            || sourceVersion?.hasPrefix("pr/") == true
        if c.isPullRequest {
            let number = [trigger, sourceVersion].compactMap { $0 }.first { $0.hasPrefix("pr/") }
            c.pullRequestNumber = number.flatMap { Self.number(String($0.dropFirst(3))) }
            c.pullRequestSourceBranch = env["CODEBUILD_WEBHOOK_HEAD_REF"].map(Self.shortRef)
            c.branch = env["CODEBUILD_WEBHOOK_BASE_REF"].map(Self.shortRef)
        } else if let trigger, trigger.hasPrefix("tag/") {
            c.tag = String(trigger.dropFirst(4))
        } else if let trigger, trigger.hasPrefix("branch/") {
            c.branch = String(trigger.dropFirst(7))
        }
        c.commit = Self.commit(env["CODEBUILD_RESOLVED_SOURCE_VERSION"])
        if c.isPullRequest {
            c.eventType = .pullRequest
        } else if c.tag != nil {
            c.eventType = .tag
        } else if trigger != nil || webhookEvent == "PUSH" {
            c.eventType = .push
        } else {
            // Not a webhook build: started from the console/CLI, or by CodePipeline.
            let initiator = env["CODEBUILD_INITIATOR"] ?? ""
            c.eventType = initiator.hasPrefix("codepipeline/") ? .api : .manual
        }
        c.buildNumber = env["CODEBUILD_BUILD_NUMBER"]
        c.buildURL = env["CODEBUILD_PUBLIC_BUILD_URL"].map(MaskedURL.init)
        // Per project (CODEBUILD_BUILD_ID is `project:uuid`); a retry is a new build.
        let projectName = env["CODEBUILD_BUILD_ID"].flatMap { id in id.firstIndex(of: ":").map { String(id[..<$0]) } }
        c.buildOrder = BuildOrder(service: .codebuild, number: c.buildNumber, scopeName: projectName)
        c.repositorySlug = env["CODEBUILD_SOURCE_REPO_URL"].flatMap(Self.repositoryPath)
        c.actor = env["CODEBUILD_INITIATOR"]
        return c
    }

    // MARK: Helpers

    static func isFalse(_ value: String) -> Bool {
        ["false", "0", "no", "off", ""].contains(value.trimmingWhitespace().lowercased())
    }

    static func number(_ text: String) -> Int? {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty, trimmed.count <= 18, trimmed.allSatisfy(\.isASCII), let value = Int(trimmed), value >= 0
        else { return nil }
        return value
    }

    /// The number at the end of a PR URL like `https://github.com/o/r/pull/123`.
    static func trailingNumber(_ text: String) -> Int? {
        let first = text.split(separator: ",").first.map(String.init) ?? text
        return first.split(separator: "/").last.flatMap { number(String($0)) }
    }

    /// A commit id, or nil when the service gives a placeholder (`HEAD`), nothing, or anything
    /// that is not a full object id (it would reach git and the records).
    static func commit(_ value: String?) -> String? {
        guard let value = value?.trimmingWhitespace().lowercased(), GitNames.isObjectID(value) else { return nil }
        return value
    }

    static func shortRef(_ ref: String) -> String {
        ref.hasPrefix("refs/heads/") ? String(ref.dropFirst("refs/heads/".count)) : ref
    }

    /// `owner/name` from a clone URL (https or scp-like), for comparing repositories.
    static func repositoryPath(_ url: String) -> String? {
        var text = url.trimmingWhitespace()
        if text.hasSuffix(".git") { text = String(text.dropLast(4)) }
        let separators: Set<Character> = ["/", ":"]
        let parts = text.split(whereSeparator: { separators.contains($0) })
        guard parts.count >= 2 else { return nil }
        return "\(parts[parts.count - 2])/\(parts[parts.count - 1])"
    }

    /// The 1-based index among parallel jobs as a string, or nil when the build is not parallel.
    static func parallelIndex(_ index: String?, total: String?, zeroBased: Bool) -> String? {
        guard let index = index.flatMap(number) else { return nil }
        if let total = total.flatMap(number), total <= 1 { return nil }
        return String(zeroBased ? index + 1 : index)
    }

    /// The event from the service's raw value; PR and tag indicators win over it.
    static func event(isPR: Bool, tag: String?, raw: String?, table: [String: CIEvent]) -> CIEvent {
        if isPR { return .pullRequest }
        if tag != nil { return .tag }
        guard let raw else { return .push }  // services that do not say: a push
        return table[raw] ?? .other
    }
}

/// Environment lookups that remember which variables were consulted, so the context can show its
/// evidence, without ever keeping a secret-looking one.
struct Lookup {
    private let environment: [String: String]
    private(set) var consulted: [String: String] = [:]

    init(_ environment: [String: String]) {
        self.environment = environment
    }

    /// The value, or nil when unset or blank (several services export empty variables).
    subscript(_ name: String) -> String? {
        mutating get {
            guard let value = environment[name] else { return nil }
            if !Self.looksSecret(name) {
                consulted[name] = URLText.maskingUserinfo(value)
            }
            return value.trimmingWhitespace().isEmpty ? nil : value
        }
    }

    /// A variable like `TRAVIS=true` / `TF_BUILD=True`: set and not false-like.
    mutating func flag(_ name: String) -> Bool {
        guard let value = self[name] else { return false }
        return !CIEnvironmentReader.isFalse(value)
    }

    /// Names that are not secrets although they contain a secret-looking word.
    static let knownSafe: Set<String> = ["AWS_WEB_IDENTITY_TOKEN_FILE", "BITBUCKET_SSH_KEY_FILE"]
    static let secretWords = ["SECRET", "TOKEN", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "PRIVATE"]

    static func looksSecret(_ name: String) -> Bool {
        if knownSafe.contains(name) { return false }
        let upper = name.uppercased()
        return secretWords.contains { upper.contains($0) }
    }
}
