/// The outcome of the release policy for one build: deploy an alias, or skip, and why.
///
/// Encoded as `plan --json` prints it: `{"action", "alias", "reason", "context"}`.
public struct Decision: Sendable, Equatable, Codable {
    public enum Action: String, Sendable, Equatable, Codable {
        case deploy
        case skip
    }

    public var action: Action
    /// The alias to move (deploy), or the alias that was refused (a protected skip); else nil.
    public var alias: String?
    /// One human sentence: why this action.
    public var reason: String
    public var context: CIContext

    public init(action: Action, alias: String?, reason: String, context: CIContext) {
        self.action = action
        self.alias = alias
        self.reason = reason
        self.context = context
    }

    public static func deploy(_ alias: String, _ reason: String, _ context: CIContext) -> Decision {
        Decision(action: .deploy, alias: alias, reason: reason, context: context)
    }

    public static func skip(_ reason: String, alias: String? = nil, _ context: CIContext) -> Decision {
        Decision(action: .skip, alias: alias, reason: reason, context: context)
    }
}

/// Decides whether a build deploys, and which alias: production moves only from a CI push build
/// of a mapped branch, never from a pull request.
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
    ///    `HEAD` refused), must map to an alias in `branches:`;
    /// 6. outside CI a protected alias is refused unless `overrideProtection`.
    public func decide(_ context: CIContext, overrideProtection: Bool = false) -> Decision {
        if context.service == .generic {
            return .skip(
                "CI is set but the CI service is not one lambda-deploy knows, so it cannot tell the branch or whether this is a pull request: nothing is deployed",
                context)
        }
        // 1. Pull requests and forks.
        if context.isPullRequest {
            var what = "pull request"
            if let number = context.pullRequestNumber { what += " #\(number)" }
            if let source = context.pullRequestSourceBranch {
                what += " from `\(source)`"
            }
            if let target = context.branch { what += " into `\(target)`" }
            return .skip("this is a \(what) build on \(context.service.displayName): pull requests never deploy", context)
        }
        if context.isFork {
            return .skip("this build runs code from a fork: fork builds never deploy", context)
        }

        // 2. Tags.
        var tagAlias: AliasRule?
        if let tag = context.tag ?? (context.eventType == .tag ? "" : nil) {
            guard !tag.isEmpty else {
                return .skip("this is a tag build but the tag name is unknown: tag builds deploy only through `tags:`", context)
            }
            guard let rule = config.alias(forTag: tag) else {
                let hint = config.tags.isEmpty
                    ? "no `tags:` mapping is configured"
                    : "`\(tag)` matches nothing in `tags:`"
                return .skip("tag build of `\(tag)`: \(hint), and tag builds deploy only through `tags:`", context)
            }
            tagAlias = rule
        }

        // 3. What started the build.
        switch context.eventType {
        case .push, .tag, .local:
            break
        case .cron, .api, .manual:
            if let allowed = context.eventType.allowedEvent, !config.events.contains(allowed) {
                return .skip(
                    "this is a \(context.eventType.rawValue) build: such builds deploy only when `events:` lists `\(allowed.rawValue)`",
                    context)
            }
        case .pullRequest:
            return .skip("this is a pull-request event: pull requests never deploy", context)
        case .other:
            let raw = Self.rawEventDescription(context)
            return .skip("this build was started by \(raw), which never deploys (only pushes, tags and configured events do)", context)
        }

        // 4. Matrix leader.
        if config.matrix == .firstJob, let job = context.jobNumber, !Self.isLeader(job) {
            return .skip(
                "this is matrix job \(job), not the first: only the first job deploys (set `matrix: every-job` to change that)",
                context)
        }

        // 5. Branch mapping (tags were mapped above).
        let rule: AliasRule
        let source: String
        if let tagAlias {
            rule = tagAlias
            source = "tag `\(context.tag ?? "")` matches `\(tagAlias.pattern)` in `tags:`"
        } else {
            guard let raw = context.branch else {
                return .skip("the branch being built is unknown on \(context.service.displayName), so nothing is deployed", context)
            }
            switch BranchName.normalize(raw) {
            case .refused(let reason):
                return .skip("\(reason), so nothing is deployed", context)
            case .branch(let branch):
                guard let mapped = config.alias(forBranch: branch) else {
                    let known = config.branches.map { "`\($0.pattern)`" }.joined(separator: ", ")
                    let listed = known.isEmpty ? "`branches:` is empty" : "`branches:` maps only \(known)"
                    return .skip("branch `\(branch)` maps to no alias (\(listed))", context)
                }
                rule = mapped
                source = mapped.pattern == branch
                    ? "branch `\(branch)` maps to `\(mapped.alias)`"
                    : "branch `\(branch)` matches `\(mapped.pattern)`, which maps to `\(mapped.alias)`"
            }
        }

        // 6. Protection outside CI.
        if !context.isCI, config.isProtected(rule.alias), !overrideProtection {
            return .skip(
                "\(source), but `\(rule.alias)` is protected and this is not a CI build: it moves only from CI (or with --override-protection, which is recorded)",
                alias: rule.alias, context)
        }
        var reason = "\(source) on \(context.service.displayName)"
        if !context.isCI, config.isProtected(rule.alias) {
            reason += " (protection overridden by --override-protection)"
        }
        return .deploy(rule.alias, reason, context)
    }

    /// Checks a deploy to an explicit alias (`lambda-deploy deploy --alias prod`) before any AWS
    /// call. A protected alias may be moved only by a CI push build of a branch that maps to it,
    /// or with `overrideProtection` (which the caller records, with who ran it).
    public func checkManualDeploy(alias: String, context: CIContext, overrideProtection: Bool) throws(PolicyError) {
        try AliasName.validate(alias)
        guard config.isProtected(alias), !overrideProtection else { return }
        let mappedBranches = config.branches.filter { $0.alias == alias }.map(\.pattern)
        if context.isCI, !context.isPullRequest, !context.isFork, context.tag == nil, context.eventType == .push,
           let raw = context.branch, case .branch(let branch) = BranchName.normalize(raw),
           config.alias(forBranch: branch)?.alias == alias {
            return
        }
        let place: String
        if !context.isCI {
            place = "not a CI build"
        } else if context.isPullRequest || context.isFork {
            place = "a pull-request build on \(context.service.displayName)"
        } else if context.tag != nil || context.eventType != .push {
            place = "a \(context.eventType.rawValue) build on \(context.service.displayName), not a push"
        } else if let branch = context.branch {
            place = "a CI build of `\(branch)`, which does not map to it"
        } else {
            place = "a CI build whose branch is unknown"
        }
        throw .protectedAlias(alias: alias, mappedBranches: mappedBranches, where: place)
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
            if let value = context.rawVariables[key] { return "\(key)=\(value)" }
        }
        return "an event it cannot classify on \(context.service.displayName)"
    }
}
