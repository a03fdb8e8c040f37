import Testing
@testable import ReleasePolicy

/// Issue 16: one command decides for every function of the config, each with its own policy.
@Suite("Deciding for every function")
struct ManyFunctionsTests {
    static let three = """
        region: us-east-1
        parallel: 8
        rateLimit: {requestsPerSecond: 10.5, burst: 20}
        hook: {alias: dev, branches: ['**'], timeout: 300}
        functions:
          - name: orders
            directory: services/orders
          - name: billing
            directory: services/billing
            branches: {main: staging, 'release/*': prod}
            protected: [prod, staging]
            hook: {alias: dev-billing, branches: ['billing/**']}
          - name: reports
            directory: services/reports
            branches: {main: reports-live}
            protected: [reports-live]
            hook: {branches: []}
        """

    @Test("each function decides with its own branches and protection, in file order")
    func decideAll() throws {
        let policy = ReleasePolicy(config: try config(Self.three))
        let decisions = policy.decideAll(travisPush(branch: "main"))
        #expect(decisions.map(\.function) == ["orders", "billing", "reports"])
        #expect(decisions.map(\.alias) == ["prod", "staging", "reports-live"])
        #expect(decisions.allSatisfy { $0.action == .deploy })
        for decision in decisions {
            let own = ReleasePolicy(config: try config(Self.three).selecting(function: decision.function))
            #expect(try own.checkProtection(decision) == .allowedFromCI)
        }

        let release = policy.decideAll(travisPush(branch: "release/2"))
        #expect(release.map(\.action) == [.skip, .deploy, .skip])
        #expect(release[1].alias == "prod")
    }

    @Test("from a laptop each protected alias is refused on its own")
    func decideAllLocally() throws {
        let decisions = ReleasePolicy(config: try config(Self.three))
            .decideAll(CIContext(service: .local, isCI: false, branch: "main", eventType: .local))
        #expect(decisions.map(\.action) == [.skip, .skip, .skip])
        #expect(decisions.allSatisfy { $0.reason.contains("protected") })
    }

    @Test("the shorthand is one function; a config naming none gives one decision without a name")
    func shorthandAndNone() throws {
        let shorthand = ReleasePolicy(config: try config("function: pr\n")).decideAll(travisPush(branch: "main"))
        #expect(shorthand.map(\.function) == ["pr"])
        let none = ReleasePolicy(config: .default).decideAll(travisPush(branch: "main"))
        #expect(none.count == 1)
        #expect(none[0].function == nil)
        #expect(none[0].alias == "prod")
    }

    @Test("the hook decides per function with each function's own hook keys")
    func hookPerFunction() throws {
        let policy = ReleasePolicy(config: try config(Self.three))
        let push = [PrePushUpdate(localRef: "refs/heads/billing/fix", localSha: sha, remoteRef: "refs/heads/billing/fix", remoteSha: sha)]
        let decisions = policy.decideHookAll(updates: push, remoteName: "origin")
        #expect(decisions.map(\.function) == ["orders", "billing", "reports"])
        #expect(decisions.map(\.action) == [.deploy, .deploy, .skip])
        #expect(decisions.map(\.alias) == ["dev", "dev-billing", nil])

        let feature = [PrePushUpdate(localRef: "refs/heads/feature", localSha: sha, remoteRef: "refs/heads/feature", remoteSha: sha)]
        #expect(policy.decideHookAll(updates: feature, remoteName: "origin").map(\.action) == [.deploy, .skip, .skip])
        // The remote and the timeout belong to the push: one for all functions.
        #expect(try config(Self.three).resolvedTargets.allSatisfy { $0.hook.timeout == 300 && $0.hook.remote == "origin" })
    }

    @Test("the run's pace: parallel and rateLimit, with defaults")
    func runSettings() throws {
        let custom = try config(Self.three)
        #expect(custom.parallel == 8)
        #expect(custom.rateLimit == RateLimit(requestsPerSecond: 10.5, burst: 20))
        #expect(DeployConfig.default.parallel == 4)
        #expect(DeployConfig.default.rateLimit == RateLimit(requestsPerSecond: 15, burst: 15))
        #expect(try config("rateLimit: {burst: 3}").rateLimit == RateLimit(requestsPerSecond: 15, burst: 3))
    }

    @Test("parallel and rateLimit are run settings, not a function's")
    func notPerFunction() {
        #expect(throws: PolicyError.self) { try config("functions: [{name: a, parallel: 2}]") }
        #expect(throws: PolicyError.self) { try config("functions: [{name: a, rateLimit: {burst: 2}}]") }
    }
}
