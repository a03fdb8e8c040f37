import Safety

/// Where the tool runs, reduced to what the release policy needs, with the raw variables behind
/// it so `plan` can show its evidence.
///
/// Outside CI the caller fills `branch` (and `commit`) from git: the policy then knows which
/// branch a developer deploys from, and protection can say "not from a laptop".
public struct CIContext: Sendable, Equatable, Codable {
    /// The CI service, `generic` for an unknown one that sets `CI=true`, `local` for none.
    public var service: CIService
    /// False only for `local` (no CI detected, or `CI=false`).
    public var isCI: Bool
    /// The branch being built as the service reports it. On a pull-request build this is the
    /// *target* branch where the service says so (Travis' `TRAVIS_BRANCH` is the trap): never a
    /// reason to deploy. Nil on tag builds and when the service does not tell.
    public var branch: String?
    /// The commit being built; nil when unknown (Buildkite's literal `HEAD`).
    public var commit: String?
    /// Any pull-request (or merge-request) indicator was present.
    public var isPullRequest: Bool
    public var pullRequestNumber: Int?
    public var pullRequestSourceBranch: String?
    /// The tag being built, for tag builds.
    public var tag: String?
    /// What started the build.
    public var eventType: CIEvent
    /// The number of the build (pipeline, workflow run) as the service shows it: Travis' build
    /// number, GitHub's run number, GitLab's pipeline IID, Azure's build number. Never a job's.
    public var buildNumber: String?
    /// The job within the build: Travis' `N.M`, or the 1-based index among parallel jobs or
    /// nodes (`"1"` is the leader). Nil when the build is not split into jobs the environment can
    /// tell.
    public var jobNumber: String?
    /// Which attempt of this build (or job) this is, 1 for the first, where the service says:
    /// GitHub's run attempt, Azure's job attempt, Buildkite's retry count plus one.
    public var runAttempt: Int?
    /// Where this build stands among the builds of the same pipeline, for "is that deploy from
    /// a later build?" when git ancestry cannot tell (a depth-1 clone).
    public var buildOrder: BuildOrder?
    /// The build's page; credentials in it are masked when it is made, so none is ever kept.
    public var buildURL: MaskedURL?
    /// `owner/name` where the service says it.
    public var repositorySlug: String?
    /// Who started the build (CI login), where the service says it.
    public var actor: String?
    /// The build runs code from a fork.
    public var isFork: Bool
    /// The variables consulted for this context (secret-looking names never included,
    /// credentials in URLs masked). Encoded with sorted keys by `JSONEncoder(.sortedKeys)`;
    /// `rawVariableLines` gives them sorted for humans.
    public var rawVariables: [String: String]

    public init(
        service: CIService,
        isCI: Bool,
        branch: String? = nil,
        commit: String? = nil,
        isPullRequest: Bool = false,
        pullRequestNumber: Int? = nil,
        pullRequestSourceBranch: String? = nil,
        tag: String? = nil,
        eventType: CIEvent = .push,
        buildNumber: String? = nil,
        jobNumber: String? = nil,
        runAttempt: Int? = nil,
        buildOrder: BuildOrder? = nil,
        buildURL: MaskedURL? = nil,
        repositorySlug: String? = nil,
        actor: String? = nil,
        isFork: Bool = false,
        rawVariables: [String: String] = [:]
    ) {
        self.service = service
        self.isCI = isCI
        self.branch = branch
        self.commit = commit
        self.isPullRequest = isPullRequest
        self.pullRequestNumber = pullRequestNumber
        self.pullRequestSourceBranch = pullRequestSourceBranch
        self.tag = tag
        self.eventType = eventType
        self.buildNumber = buildNumber
        self.jobNumber = jobNumber
        self.runAttempt = runAttempt
        self.buildOrder = buildOrder
        self.buildURL = buildURL
        self.repositorySlug = repositorySlug
        self.actor = actor
        self.isFork = isFork
        self.rawVariables = rawVariables
    }

    /// A developer's machine: no CI, nothing known yet (the caller may fill `branch`/`commit` from git).
    public static let local = CIContext(service: .local, isCI: false, eventType: .local)

    /// `NAME=value` lines, sorted by name.
    public var rawVariableLines: [String] {
        rawVariables.keys.sorted().map { "\($0)=\(rawVariables[$0] ?? "")" }
    }
}

/// A URL from outside (a CI build page) with any `user:password@` masked when it is made: the
/// one form in which such a URL is kept, so it can be printed, recorded and encoded as is.
public struct MaskedURL: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    /// The URL with userinfo masked (`https://***@host/...`).
    public let text: String

    public init(_ url: String) {
        text = URLText.maskingUserinfo(url)
    }

    public var description: String { text }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

/// The CI services the reader knows.
public enum CIService: String, Sendable, Equatable, Codable, CaseIterable {
    case travis
    case githubActions = "github-actions"
    case gitlab
    case circleci
    case buildkite
    case jenkins
    case bitbucket
    case azurePipelines = "azure-pipelines"
    case codebuild
    /// `CI=true` from a service we do not know: branch and pull-request status are unknown.
    case generic
    case local

    /// The name people call it by.
    public var displayName: String {
        switch self {
        case .travis: "Travis CI"
        case .githubActions: "GitHub Actions"
        case .gitlab: "GitLab CI"
        case .circleci: "CircleCI"
        case .buildkite: "Buildkite"
        case .jenkins: "Jenkins"
        case .bitbucket: "Bitbucket Pipelines"
        case .azurePipelines: "Azure Pipelines"
        case .codebuild: "AWS CodeBuild"
        case .generic: "unknown CI"
        case .local: "local"
        }
    }
}

/// What started a build, normalised across services.
public enum CIEvent: String, Sendable, Equatable, Codable, CaseIterable {
    /// A push to a branch (the only event that deploys by default).
    case push
    case pullRequest = "pull_request"
    /// A pushed tag (or a GitHub release).
    case tag
    /// A scheduled build.
    case cron
    /// Started through an API or by another pipeline.
    case api
    /// Started by a person from the CI's UI.
    case manual
    /// An event that is none of these (GitHub `workflow_run`, `issue_comment`, GitLab `chat`...):
    /// never deploys, since such builds may run on behalf of untrusted code.
    case other
    /// Not in CI.
    case local

    /// The config's name for events that may be allowed, nil for those that never are.
    var allowedEvent: AllowedEvent? {
        switch self {
        case .cron: .cron
        case .api: .api
        case .manual: .manual
        default: nil
        }
    }
}
