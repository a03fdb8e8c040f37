import Safety

/// The outcome of the release policy for one build and one function: deploy an alias, or skip,
/// and why — with everything protection needs, so the deploy can check it from this value alone.
///
/// Encoded as `plan --json` prints it: `{"action", "function", "alias", "reason", "trigger",
/// "overrideProtection", "protectionOverridden", "context"}`.
public struct Decision: Sendable, Equatable, Codable {
    public enum Action: String, Sendable, Equatable, Codable {
        case deploy
        case skip
    }

    /// Who asked for the deploy.
    public enum Trigger: String, Sendable, Equatable, Codable {
        /// The CI command deciding from the build (`lambda-deploy ci`).
        case ci
        /// A person naming the alias (`deploy --alias`, promote, rollback).
        case manual
        /// The pre-push hook.
        case hook
    }

    public var action: Action
    /// The function this decision is for; nil when the config names at most one.
    public var function: String?
    /// The alias to move (deploy), or the alias that was refused (a protected skip); else nil.
    public var alias: String?
    /// One human sentence: why this action. Values from outside in it are escaped.
    public var reason: String
    public var trigger: Trigger
    /// `--override-protection` was given.
    public var overrideProtection: Bool
    /// The alias is protected and only `--override-protection` let this deploy through: the
    /// record must say so.
    public var protectionOverridden: Bool
    /// The build (or, outside CI, the machine: the caller fills `branch` from git).
    public var context: CIContext

    public init(
        action: Action, alias: String?, reason: String, context: CIContext, function: String? = nil,
        trigger: Trigger = .ci, overrideProtection: Bool = false, protectionOverridden: Bool = false
    ) {
        self.action = action
        self.function = function
        self.alias = alias
        self.reason = reason
        self.trigger = trigger
        self.overrideProtection = overrideProtection
        self.protectionOverridden = protectionOverridden
        self.context = context
    }

    public static func deploy(_ alias: String, _ reason: String, _ context: CIContext) -> Decision {
        Decision(action: .deploy, alias: alias, reason: reason, context: context)
    }

    public static func skip(_ reason: String, alias: String? = nil, _ context: CIContext) -> Decision {
        Decision(action: .skip, alias: alias, reason: reason, context: context)
    }
}

/// What protection says about moving one alias from one place.
public enum Protection: Sendable, Equatable {
    /// The alias is not protected.
    case unprotected
    /// Protected, and this is a CI build (not a pull request or a fork) of a branch or tag that
    /// maps to it.
    case allowedFromCI
    /// Protected, and only `--override-protection` allows it (recorded).
    case overridden
    /// Protected and refused: where this is, and the branches that may move it.
    case refused(where: String, mappedBranches: [String])
}

/// Decides whether a build deploys, and which alias: production moves only from a CI build of a
/// mapped branch (or tag), never from a pull request, and never from a laptop unless forced.
public struct ReleasePolicy: Sendable {
    public let config: DeployConfig

    public init(config: DeployConfig) {
        self.config = config
    }

    /// The decision for a build, applying the rules in this order (the first that applies wins):
    ///
    /// 1. pull-request and fork builds never deploy, whatever the branch variable says;
    /// 2. tag builds deploy only through `tags:`;
    /// 3. cron/api/manual builds only when `events:` lists them; other events never;
    /// 4. only the leader matrix job deploys (`matrix: every-job` turns that off);
    /// 5. the branch, normalised (`refs/heads/`, `origin/` stripped; `refs/pull/*`, `PR-*`,
    ///    `HEAD` refused) and a name git accepts, must map to an alias in `branches:`;
    /// 6. a protected alias moves only from CI (`protection(of:context:overrideProtection:)`):
    ///    outside CI it is refused unless `overrideProtection`, which the decision marks.
    ///
    /// Outside CI, rule 5 needs the local branch: the caller fills `context.branch` from git.
    public func decide(_ context: CIContext, overrideProtection: Bool = false) -> Decision {
        let rule: AliasRule
        let source: String
        switch route(context, checkMatrix: true) {
        case .skipped(let reason):
            return Decision(
                action: .skip, alias: nil, reason: reason, context: context, function: config.function, trigger: .ci,
                overrideProtection: overrideProtection)
        case let .mapped(mapped, description):
            rule = mapped
            source = description
        }
        var decision = Decision(
            action: .deploy, alias: rule.alias, reason: "\(source) on \(context.service.displayName)", context: context,
            function: config.function, trigger: .ci, overrideProtection: overrideProtection)
        switch protection(of: rule.alias, context: context, overrideProtection: overrideProtection) {
        case .unprotected, .allowedFromCI:
            break
        case .overridden:
            decision.protectionOverridden = true
            decision.reason += " (protection overridden by --override-protection)"
        case .refused(let place, _):
            decision.action = .skip
            decision.reason = "\(source), but `\(rule.alias)` is protected and this is \(place): it moves only from CI (or with --override-protection, which is recorded)"
        }
        return decision
    }

    /// The decision for a deploy to an alias someone named (`deploy --alias`, promote, rollback,
    /// the pre-push hook): deploy, unless the alias is not a valid name or protection refuses it
    /// (then a skip naming the alias, which `checkProtection` turns into the error to show).
    public func decide(
        alias: String, context: CIContext, trigger: Decision.Trigger = .manual, overrideProtection: Bool = false
    ) -> Decision {
        var decision = Decision(
            action: .deploy, alias: alias, reason: "", context: context, function: config.function, trigger: trigger,
            overrideProtection: overrideProtection)
        if let problem = LambdaNames.aliasProblem(alias) {
            decision.action = .skip
            decision.reason = "alias \"\(Self.shown(alias))\" is invalid: \(problem)"
            return decision
        }
        switch protection(of: alias, context: context, overrideProtection: overrideProtection) {
        case .unprotected:
            decision.reason = "`\(alias)` is not protected"
        case .allowedFromCI:
            decision.reason = "`\(alias)` is protected and this CI build's \(context.tag != nil ? "tag" : "branch") maps to it"
        case .overridden:
            decision.protectionOverridden = true
            decision.reason = "`\(alias)` is protected; protection overridden by --override-protection"
        case .refused(let place, _):
            decision.action = .skip
            decision.reason = "`\(alias)` is protected and this is \(place)"
        }
        return decision
    }

    /// The one check every deploy makes before it moves an alias, whoever decided (CI, a person,
    /// the hook): protection is evaluated again from the decision's alias, context and override
    /// against this config, so a decision built by hand, or for another config, cannot slip
    /// through. Returns what protection said (the caller records `.overridden`).
    @discardableResult
    public func checkProtection(_ decision: Decision) throws(PolicyError) -> Protection {
        guard let alias = decision.alias else { throw .notADeploy(reason: decision.reason) }
        if let problem = LambdaNames.aliasProblem(alias) { throw .invalidAlias(alias: alias, reason: problem) }
        let verdict = protection(of: alias, context: decision.context, overrideProtection: decision.overrideProtection)
        if case let .refused(place, mappedBranches) = verdict {
            throw .protectedAlias(alias: alias, mappedBranches: mappedBranches, where: place)
        }
        guard decision.action == .deploy else { throw .notADeploy(reason: decision.reason) }
        return verdict
    }

    /// `checkProtection` for an alias named by hand: the decision for it, then the one check.
    @discardableResult
    public func checkManualDeploy(
        alias: String, context: CIContext, trigger: Decision.Trigger = .manual, overrideProtection: Bool
    ) throws(PolicyError) -> Protection {
        try checkProtection(decide(alias: alias, context: context, trigger: trigger, overrideProtection: overrideProtection))
    }

    /// The protection rule, in one place: a protected alias moves only from a CI build (not a
    /// pull request or fork) of a branch or tag that maps to it through this config, or with
    /// `overrideProtection`.
    public func protection(of alias: String, context: CIContext, overrideProtection: Bool) -> Protection {
        guard config.isProtected(alias) else { return .unprotected }
        let route = route(context, checkMatrix: false)
        if context.isCI, case let .mapped(rule, _) = route, rule.alias == alias { return .allowedFromCI }
        if overrideProtection { return .overridden }
        let mappedBranches = config.branches.filter { $0.alias == alias }.map(\.pattern)
        return .refused(where: Self.place(context, route: route), mappedBranches: mappedBranches)
    }

    /// One decision per function the config names, each with its own `branches:`, `tags:` and
    /// `protected:` (and `function` set); the config as it is when it names none.
    public func decideAll(_ context: CIContext, overrideProtection: Bool = false) -> [Decision] {
        let targets = config.resolvedTargets
        guard !targets.isEmpty else { return [decide(context, overrideProtection: overrideProtection)] }
        return targets.map { target in
            var decision = ReleasePolicy(config: target).decide(context, overrideProtection: overrideProtection)
            decision.function = target.function
            return decision
        }
    }

    // MARK: Routing: which alias a build maps to

    enum Route: Equatable {
        case mapped(AliasRule, source: String)
        case skipped(String)
    }

    /// Rules 1 to 5 of `decide`: the alias this build maps to, or why none.
    func route(_ context: CIContext, checkMatrix: Bool) -> Route {
        if context.service == .generic {
            return .skipped(
                "CI is set but the CI service is not one lambda-deploy knows, so it cannot tell the branch or whether this is a pull request: nothing is deployed")
        }
        // 1. Pull requests and forks.
        if context.isPullRequest {
            var what = "pull request"
            if let number = context.pullRequestNumber { what += " #\(number)" }
            if let source = context.pullRequestSourceBranch { what += " from `\(Self.shown(source))`" }
            if let target = context.branch { what += " into `\(Self.shown(target))`" }
            return .skipped("this is a \(what) build on \(context.service.displayName): pull requests never deploy")
        }
        if context.isFork {
            return .skipped("this build runs code from a fork: fork builds never deploy")
        }

        // 2. Tags.
        var tagRule: AliasRule?
        if let tag = context.tag ?? (context.eventType == .tag ? "" : nil) {
            guard !tag.isEmpty else {
                return .skipped("this is a tag build but the tag name is unknown: tag builds deploy only through `tags:`")
            }
            if let problem = GitNames.refProblem("refs/tags/" + tag) {
                return .skipped("tag `\(Self.shown(tag))` is not a tag name git accepts (\(problem)), so nothing is deployed")
            }
            guard let rule = config.alias(forTag: tag) else {
                let hint = config.tags.isEmpty ? "no `tags:` mapping is configured" : "`\(Self.shown(tag))` matches nothing in `tags:`"
                return .skipped("tag build of `\(Self.shown(tag))`: \(hint), and tag builds deploy only through `tags:`")
            }
            tagRule = rule
        }

        // 3. What started the build.
        switch context.eventType {
        case .push, .tag, .local:
            break
        case .cron, .api, .manual:
            if let allowed = context.eventType.allowedEvent, !config.events.contains(allowed) {
                return .skipped(
                    "this is a \(context.eventType.rawValue) build: such builds deploy only when `events:` lists `\(allowed.rawValue)`")
            }
        case .pullRequest:
            return .skipped("this is a pull-request event: pull requests never deploy")
        case .other:
            return .skipped(
                "this build was started by \(Self.rawEventDescription(context)), which never deploys (only pushes, tags and configured events do)")
        }

        // 4. Matrix leader.
        if checkMatrix, config.matrix == .firstJob, let job = context.jobNumber, !Self.isLeader(job) {
            return .skipped(
                "this is matrix job \(Self.shown(job)), not the first: only the first job deploys (set `matrix: every-job` to change that)")
        }

        // 5. Branch mapping (tags were mapped above).
        if let tagRule {
            return .mapped(tagRule, source: "tag `\(Self.shown(context.tag ?? ""))` matches `\(Self.shown(tagRule.pattern))` in `tags:`")
        }
        guard let raw = context.branch else {
            return .skipped("the branch being built is unknown on \(context.service.displayName), so nothing is deployed")
        }
        switch BranchName.normalize(raw) {
        case .refused(let reason):
            return .skipped("\(reason), so nothing is deployed")
        case .branch(let branch):
            if let problem = GitNames.branchProblem(branch) {
                return .skipped("`\(Self.shown(branch))` is not a branch name git accepts (\(problem)), so nothing is deployed")
            }
            guard let mapped = config.alias(forBranch: branch) else {
                let known = config.branches.map { "`\(Self.shown($0.pattern))`" }.joined(separator: ", ")
                let listed = known.isEmpty ? "`branches:` is empty" : "`branches:` maps only \(known)"
                return .skipped("branch `\(Self.shown(branch))` maps to no alias (\(listed))")
            }
            let source = mapped.pattern == branch
                ? "branch `\(Self.shown(branch))` maps to `\(mapped.alias)`"
                : "branch `\(Self.shown(branch))` matches `\(Self.shown(mapped.pattern))`, which maps to `\(mapped.alias)`"
            return .mapped(mapped, source: source)
        }
    }

    /// Where a refused deploy comes from, for the message.
    private static func place(_ context: CIContext, route: Route) -> String {
        if !context.isCI { return "not a CI build" }
        if context.isPullRequest || context.isFork { return "a pull-request build on \(context.service.displayName)" }
        if case let .mapped(rule, _) = route {
            let what = context.tag.map { "tag `\(shown($0))`" } ?? "`\(shown(context.branch ?? ""))`"
            return "a CI build of \(what), which maps to `\(rule.alias)`"
        }
        if let tag = context.tag { return "a CI build of tag `\(shown(tag))`, which does not map to it" }
        if context.eventType != .push { return "a \(context.eventType.rawValue) build on \(context.service.displayName), not a push" }
        if let branch = context.branch { return "a CI build of `\(shown(branch))`, which does not map to it" }
        return "a CI build whose branch is unknown"
    }

    /// Travis `N.1`, or a plain `1`: the leader job. Anything unparsable is not the leader,
    /// so a garbled job number cannot make every job deploy.
    static func isLeader(_ job: String) -> Bool {
        let last = job.split(separator: ".", omittingEmptySubsequences: false).last.map(String.init) ?? job
        return last.trimmingWhitespace() == "1"
    }

    private static func rawEventDescription(_ context: CIContext) -> String {
        let keys = ["GITHUB_EVENT_NAME", "CI_PIPELINE_SOURCE", "TRAVIS_EVENT_TYPE", "BUILDKITE_SOURCE", "BUILD_REASON"]
        for key in keys {
            if let value = context.rawVariables[key] { return "\(key)=\(shown(value))" }
        }
        return "an event it cannot classify on \(context.service.displayName)"
    }

    /// A value from outside as a reason may quote it: escaped, one line, cut short.
    static func shown(_ value: String) -> String {
        DisplayText.excerpt(value, limit: 100)
    }
}
