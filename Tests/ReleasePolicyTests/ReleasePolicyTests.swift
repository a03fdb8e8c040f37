import Testing
@testable import ReleasePolicy

/// A push build on Travis, the service the tool was first written for.
func travisPush(
    branch: String? = "master", tag: String? = nil, event: CIEvent = .push, job: String? = "1.1",
    pr: Bool = false, fork: Bool = false
) -> CIContext {
    CIContext(
        service: .travis, isCI: true, branch: branch, commit: sha, isPullRequest: pr,
        pullRequestNumber: pr ? 5 : nil, tag: tag, eventType: pr ? .pullRequest : (tag != nil ? .tag : event),
        jobNumber: job, isFork: fork)
}

func config(_ yaml: String) throws -> DeployConfig {
    try DeployConfig.parse(yaml: yaml, file: "lambda-deploy.yml")
}

@Suite("Release policy")
struct ReleasePolicyTests {
    let policy = ReleasePolicy(config: .default)

    @Test("a pull request never deploys, even when the branch says main and the config maps every branch")
    func pullRequestFirst() throws {
        let policy = ReleasePolicy(config: try config("branches: {'**': dev}\nmatrix: every-job\nevents: [cron, api]"))
        let decision = policy.decide(travisPush(branch: "main", pr: true))
        #expect(decision.action == .skip)
        #expect(decision.reason.contains("pull request #5"))
        #expect(decision.reason.contains("never deploy"))
    }

    @Test("a fork build never deploys")
    func forkNeverDeploys() {
        let decision = policy.decide(travisPush(fork: true))
        #expect(decision.action == .skip)
        #expect(decision.reason.contains("fork"))
    }

    @Test("tag builds deploy only through tags:")
    func tags() throws {
        #expect(policy.decide(travisPush(branch: nil, tag: "v1.0.0")).action == .skip)
        #expect(policy.decide(travisPush(branch: nil, tag: "v1.0.0")).reason.contains("no `tags:` mapping"))

        let tagged = ReleasePolicy(config: try config("tags:\n  'v*': prod\n  'rc-*': staging"))
        let release = tagged.decide(travisPush(branch: nil, tag: "v1.0.0"))
        #expect(release.action == .deploy)
        #expect(release.alias == "prod")
        #expect(tagged.decide(travisPush(branch: nil, tag: "rc-3")).alias == "staging")
        let other = tagged.decide(travisPush(branch: nil, tag: "nightly"))
        #expect(other.action == .skip)
        #expect(other.reason.contains("`nightly` matches nothing"))
    }

    @Test("a tag build whose branch variable says master is still a tag build")
    func tagBeatsBranch() {
        let decision = policy.decide(travisPush(branch: "master", tag: "v2"))
        #expect(decision.action == .skip)
        #expect(decision.reason.contains("tag"))
    }

    @Test("cron, api and manual builds deploy only when events: lists them", arguments: [
        (CIEvent.cron, AllowedEvent.cron), (.api, .api), (.manual, .manual),
    ])
    func events(_ event: CIEvent, _ allowed: AllowedEvent) throws {
        let skipped = policy.decide(travisPush(event: event))
        #expect(skipped.action == .skip)
        #expect(skipped.reason.contains("`events:`"))

        let allowing = ReleasePolicy(config: try config("events: [\(allowed.rawValue)]"))
        #expect(allowing.decide(travisPush(event: event)).action == .deploy)
        // Allowing one kind does not allow the others.
        for other in [CIEvent.cron, .api, .manual] where other != event {
            #expect(allowing.decide(travisPush(event: other)).action == .skip)
        }
    }

    @Test("events that are none of push/tag/cron/api/manual never deploy")
    func otherEvents() throws {
        let allowing = ReleasePolicy(config: try config("events: [cron, api, manual]"))
        var context = travisPush()
        context.eventType = .other
        context.rawVariables = ["GITHUB_EVENT_NAME": "workflow_run"]
        let decision = allowing.decide(context)
        #expect(decision.action == .skip)
        #expect(decision.reason.contains("GITHUB_EVENT_NAME=workflow_run"))
    }

    @Test("only the leader matrix job deploys unless every-job", arguments: [
        ("42.1", true), ("42.2", false), ("42.10", false), ("1", true), ("2", false), ("garbled", false),
    ])
    func matrix(_ job: String, _ leader: Bool) throws {
        #expect(policy.decide(travisPush(job: job)).action == (leader ? .deploy : .skip))
        let every = ReleasePolicy(config: try config("matrix: every-job"))
        #expect(every.decide(travisPush(job: job)).action == .deploy)
    }

    @Test("no job number means a single job, which leads")
    func noJobNumber() {
        #expect(policy.decide(travisPush(job: nil)).action == .deploy)
    }

    @Test("the tag rule comes before the matrix rule")
    func orderTagBeforeMatrix() {
        let decision = policy.decide(travisPush(branch: nil, tag: "v1", job: "3.2"))
        #expect(decision.reason.contains("tags:"))
    }

    @Test("the event rule comes before the matrix rule")
    func orderEventBeforeMatrix() {
        let decision = policy.decide(travisPush(event: .cron, job: "3.2"))
        #expect(decision.reason.contains("events:"))
    }

    @Test("branches are normalised before mapping", arguments: [
        ("refs/heads/main", Decision.Action.deploy), ("origin/master", .deploy), ("main", .deploy),
        ("refs/remotes/origin/main", .deploy), ("refs/pull/3/merge", .skip), ("PR-123", .skip), ("HEAD", .skip),
        ("refs/tags/v1", .skip), ("feature/main", .skip), ("mainline", .skip), ("", .skip),
    ])
    func normalisation(_ branch: String, _ action: Decision.Action) {
        #expect(policy.decide(travisPush(branch: branch)).action == action)
    }

    @Test("an unmapped branch is skipped with the reason and the mapping")
    func unmapped() {
        let decision = policy.decide(travisPush(branch: "develop"))
        #expect(decision.action == .skip)
        #expect(decision.reason == "branch `develop` maps to no alias (`branches:` maps only `main`, `master`)")
    }

    @Test("an unknown branch is skipped")
    func unknownBranch() {
        #expect(policy.decide(travisPush(branch: nil)).action == .skip)
    }

    @Test("globs map branches; exact names win over globs; otherwise file order")
    func globs() throws {
        let policy = ReleasePolicy(config: try config("""
            branches:
              'release/*': staging
              'release/special': canary
              '**': dev
              main: prod
            """))
        #expect(policy.decide(travisPush(branch: "main")).alias == "prod")
        #expect(policy.decide(travisPush(branch: "release/1.2")).alias == "staging")
        #expect(policy.decide(travisPush(branch: "release/special")).alias == "canary")
        #expect(policy.decide(travisPush(branch: "release/1/hotfix")).alias == "dev")
        #expect(policy.decide(travisPush(branch: "feature/ü-näme")).alias == "dev")
    }

    @Test("outside CI a protected alias is refused unless overridden")
    func protectedLocally() {
        let local = CIContext(service: .local, isCI: false, branch: "main", eventType: .local)
        let refused = policy.decide(local)
        #expect(refused.action == .skip)
        #expect(refused.alias == "prod")
        #expect(refused.reason.contains("protected"))
        #expect(refused.reason.contains("--override-protection"))

        let forced = policy.decide(local, overrideProtection: true)
        #expect(forced.action == .deploy)
        #expect(forced.alias == "prod")
        #expect(forced.reason.contains("overridden"))
    }

    @Test("outside CI an unprotected alias deploys")
    func unprotectedLocally() throws {
        let policy = ReleasePolicy(config: try config("branches: {'**': dev}"))
        let local = CIContext(service: .local, isCI: false, branch: "feature/x", eventType: .local)
        #expect(policy.decide(local).action == .deploy)
    }

    @Test("an unknown CI service never deploys")
    func genericCI() {
        var context = travisPush()
        context.service = .generic
        #expect(policy.decide(context).action == .skip)
    }
}

@Suite("Manual deploys to protected aliases")
struct ManualDeployTests {
    let policy = ReleasePolicy(config: .default)

    /// A manual deploy as every caller makes it: decide for the named alias, then the one check.
    @discardableResult
    func check(_ alias: String, _ context: CIContext, override: Bool = false) throws(PolicyError) -> Protection {
        try policy.checkProtection(policy.decide(alias: alias, context: context, overrideProtection: override))
    }

    @Test("a developer's machine cannot deploy prod, and the message says how prod moves")
    func refusedLocally() {
        let error = #expect(throws: PolicyError.self) { try check("prod", .local) }
        let message = error?.localizedDescription ?? ""
        #expect(message.contains("alias `prod` is protected"))
        #expect(message.contains("`main` or `master`"))
        #expect(message.contains("--override-protection"))
        #expect(!message.contains("\n"))
    }

    @Test("override lets it through, and says so")
    func override() throws {
        #expect(try check("prod", .local, override: true) == .overridden)
        #expect(policy.decide(alias: "prod", context: .local, overrideProtection: true).protectionOverridden)
    }

    @Test("an unprotected alias is fine anywhere")
    func unprotected() throws {
        #expect(try check("dev", .local) == .unprotected)
    }

    @Test("a CI push build of a mapped branch may deploy prod")
    func ciPushOfMappedBranch() throws {
        #expect(try check("prod", travisPush(branch: "origin/master")) == .allowedFromCI)
    }

    @Test("CI builds that are not a push of a mapped branch are refused", arguments: [
        travisPush(branch: "develop"), travisPush(pr: true), travisPush(branch: nil, tag: "v1"),
        travisPush(event: .cron), travisPush(fork: true), travisPush(branch: nil),
    ])
    func refusedInCI(_ context: CIContext) {
        #expect(throws: PolicyError.self) { try check("prod", context) }
    }

    @Test("an invalid alias is refused before anything else")
    func invalidAlias() {
        #expect(throws: PolicyError.invalidAlias(alias: "12", reason: "an alias name cannot be all digits (Lambda would read it as a version)")) {
            try check("12", .local, override: true)
        }
    }
}
