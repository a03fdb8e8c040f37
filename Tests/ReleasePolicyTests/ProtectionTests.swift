import Foundation
import Testing
@testable import ReleasePolicy

/// Issue 14 D5: protection is checked from the decision, in one place, whoever decided.
@Suite("Protection from a decision")
struct ProtectionTests {
    let policy = ReleasePolicy(config: .default)
    /// A developer's machine on `main`, as the caller fills it from git.
    let laptop = CIContext(service: .local, isCI: false, branch: "main", eventType: .local)

    @Test("a local deploy of prod is refused, with one line saying how prod moves")
    func localProdRefused() throws {
        let decision = policy.decide(laptop)
        #expect(decision.action == .skip)
        #expect(decision.alias == "prod")
        let error = #expect(throws: PolicyError.self) { try policy.checkProtection(decision) }
        #expect(error == .protectedAlias(alias: "prod", mappedBranches: ["main", "master"], where: "not a CI build"))
        let message = try #require(error?.errorDescription)
        #expect(!message.contains("\n"))
        #expect(message.contains("--override-protection"))
    }

    @Test("with --override-protection it is allowed, and the decision says so for the record")
    func overrideAllowedAndMarked() throws {
        let decision = policy.decide(laptop, overrideProtection: true)
        #expect(decision.action == .deploy)
        #expect(decision.alias == "prod")
        #expect(decision.overrideProtection)
        #expect(decision.protectionOverridden)
        #expect(try policy.checkProtection(decision) == .overridden)
        let json = String(decoding: try JSONEncoder.sorted.encode(decision), as: UTF8.self)
        #expect(json.contains("\"protectionOverridden\":true"))
    }

    @Test("a CI decision on a mapped branch passes")
    func ciMappedBranchPasses() throws {
        let decision = policy.decide(travisPush(branch: "main"))
        #expect(decision.action == .deploy)
        #expect(!decision.protectionOverridden)
        #expect(try policy.checkProtection(decision) == .allowedFromCI)
    }

    @Test("a CI tag build mapped to prod by tags: passes")
    func ciTagPasses() throws {
        let tagged = ReleasePolicy(config: try config("tags: {'v*': prod}"))
        let decision = tagged.decide(travisPush(branch: nil, tag: "v2.0"))
        #expect(try tagged.checkProtection(decision) == .allowedFromCI)
    }

    @Test("calling a decision a CI one does not make it one: the context decides")
    func forgedTriggerRefused() {
        let forged = Decision(action: .deploy, alias: "prod", reason: "trust me", context: laptop, trigger: .ci)
        #expect(throws: PolicyError.self) { try policy.checkProtection(forged) }
        var fromPR = policy.decide(travisPush(branch: "main"))
        fromPR.context.isPullRequest = true
        #expect(throws: PolicyError.self) { try policy.checkProtection(fromPR) }
    }

    @Test("a decision is checked against the config in force, not the one it was made with")
    func checkedAgainstThisConfig() throws {
        let lax = ReleasePolicy(config: try config("branches: {main: staging}\nprotected: []"))
        let decision = lax.decide(CIContext(service: .local, isCI: false, branch: "main", eventType: .local))
        #expect(decision.action == .deploy)
        let strict = ReleasePolicy(config: try config("branches: {main: staging}\nprotected: [staging]"))
        #expect(throws: PolicyError.self) { try strict.checkProtection(decision) }
    }

    @Test("a skip is never deployed")
    func skipIsNotADeploy() {
        let decision = policy.decide(travisPush(pr: true))
        #expect(throws: PolicyError.notADeploy(reason: decision.reason)) { try policy.checkProtection(decision) }
        var unprotectedSkip = policy.decide(alias: "dev", context: laptop)
        unprotectedSkip.action = .skip
        #expect(throws: PolicyError.self) { try policy.checkProtection(unprotectedSkip) }
    }

    @Test("outside CI without the local branch, nothing deploys")
    func localWithoutBranch() {
        let decision = policy.decide(.local)
        #expect(decision.action == .skip)
        #expect(decision.reason.contains("branch being built is unknown"))
    }

    @Test("the hook's deploy is checked the same way")
    func hook() throws {
        let hookPolicy = ReleasePolicy(config: try config("hook: {alias: dev}"))
        let update = PrePushUpdate(localRef: "refs/heads/feature", localSha: sha, remoteRef: "refs/heads/feature", remoteSha: sha)
        let hookDecision = hookPolicy.decideHook(updates: [update], remoteName: "origin")
        let decision = hookPolicy.decision(forHook: hookDecision, context: .local)
        #expect(decision.trigger == .hook)
        #expect(decision.context.branch == "feature")
        #expect(try hookPolicy.checkProtection(decision) == .unprotected)

        let protectedHook = ReleasePolicy(config: try config("hook: {alias: prod}"))
        let refused = protectedHook.decideHook(updates: [update], remoteName: "origin")
        #expect(refused.action == .skip)
        #expect(refused.reason.contains("protected"))
        #expect(throws: PolicyError.self) {
            try protectedHook.checkProtection(protectedHook.decision(forHook: refused, context: .local))
        }
    }
}
