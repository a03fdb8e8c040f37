/// The contents of `lambda-deploy.yml`, with every default applied.
///
/// The file is optional: `DeployConfig.default` is what an absent or empty file means. Flags win
/// over the file and the file wins over these defaults; merging flags is the caller's business.
///
/// One function per repository is written with the top-level shorthand (`function`, `directory`,
/// `region`, `s3`); several functions go in a `functions:` list whose entries carry their own
/// name, directory and overrides. Both shapes parse today; `targets` gives one list either way.
public struct DeployConfig: Sendable, Equatable {
    /// The conventional file name, looked up at the repository root or the current directory.
    public static let fileName = "lambda-deploy.yml"

    /// The Lambda function name (or ARN), single-function shorthand.
    public var function: String?
    /// The directory packaged into the zip, relative to the repository root.
    public var directory: String?
    /// The AWS region.
    public var region: String?
    /// Where large packages go (through S3 when the request would pass Lambda's cap).
    public var s3: S3Location?
    /// Pushed branch (exact name or glob) -> alias, in file order. Exact names win over globs;
    /// among globs the first match in file order wins.
    public var branches: [AliasRule]
    /// Aliases that only a CI push build of a mapped branch may move.
    public var protected: [String]
    /// Tag (exact or glob) -> alias, for tag builds. Empty: tag builds never deploy.
    public var tags: [AliasRule]
    /// Build events besides a push that may deploy (through the same branch mapping).
    public var events: Set<AllowedEvent>
    /// Which matrix job deploys.
    public var matrix: MatrixMode
    /// The pre-push hook's settings.
    public var hook: HookSettings
    /// Where deployment records go.
    public var notes: NotesSettings
    /// API Gateway setup; nil when the file has no `gateway:` section.
    public var gateway: GatewaySettings?
    /// Extra ignore patterns for packaging, added to `.lambdaignore`.
    public var exclude: [String]
    /// Several functions in one repository; empty when the shorthand (or nothing) is used.
    public var functions: [FunctionConfig]

    public init(
        function: String? = nil,
        directory: String? = nil,
        region: String? = nil,
        s3: S3Location? = nil,
        branches: [AliasRule] = DeployConfig.defaultBranches,
        protected: [String] = ["prod"],
        tags: [AliasRule] = [],
        events: Set<AllowedEvent> = [],
        matrix: MatrixMode = .firstJob,
        hook: HookSettings = HookSettings(),
        notes: NotesSettings = NotesSettings(),
        gateway: GatewaySettings? = nil,
        exclude: [String] = [],
        functions: [FunctionConfig] = []
    ) {
        self.function = function
        self.directory = directory
        self.region = region
        self.s3 = s3
        self.branches = branches
        self.protected = protected
        self.tags = tags
        self.events = events
        self.matrix = matrix
        self.hook = hook
        self.notes = notes
        self.gateway = gateway
        self.exclude = exclude
        self.functions = functions
    }

    /// What an absent or empty file means.
    public static let `default` = DeployConfig()

    /// `main` and `master` deploy `prod`; nothing else deploys from CI.
    public static let defaultBranches: [AliasRule] = [
        AliasRule(pattern: "main", alias: "prod"),
        AliasRule(pattern: "master", alias: "prod"),
    ]

    /// The functions to deploy: the `functions:` list, or the shorthand as a one-element list, or
    /// empty when neither names a function (the caller then needs `--function`).
    public var targets: [FunctionConfig] {
        if !functions.isEmpty { return functions }
        guard let function else { return [] }
        return [FunctionConfig(name: function, directory: directory, region: region, s3: s3)]
    }

    /// The config as it applies to one function: with a `functions:` list, the entry named
    /// `name` (or the only entry when `name` is nil) supplies the function, and any directory,
    /// region, s3, branches, tags, protected and exclude of its own, each replacing the top-level
    /// value; the result has no list. With the shorthand, `name` (a `--function` flag)
    /// replaces `function` and everything else stays.
    ///
    /// Throws when the list has several entries and `name` is nil, or `name` is not in it.
    public func selecting(function name: String?) throws(PolicyError) -> DeployConfig {
        guard !functions.isEmpty else {
            var selected = self
            if let name, !name.isEmpty { selected.function = name }
            return selected
        }
        let names = functions.map(\.name)
        let entry: FunctionConfig
        if let name, !name.isEmpty {
            guard let found = functions.first(where: { $0.name == name }) else {
                throw .unknownFunction(name: name, names: names)
            }
            entry = found
        } else {
            guard functions.count == 1 else { throw .functionNotChosen(names: names) }
            entry = functions[0]
        }
        var selected = self
        selected.functions = []
        selected.function = entry.name
        selected.directory = entry.directory ?? directory
        selected.region = entry.region ?? region
        selected.s3 = entry.s3 ?? s3
        selected.branches = entry.branches ?? branches
        selected.tags = entry.tags ?? tags
        selected.protected = entry.protected ?? protected
        selected.exclude = entry.exclude ?? exclude
        return selected
    }

    /// The alias a branch deploys, or nil. Exact names win over globs, then file order.
    public func alias(forBranch branch: String) -> AliasRule? {
        Self.resolve(branch, in: branches)
    }

    /// The alias a tag deploys, or nil.
    public func alias(forTag tag: String) -> AliasRule? {
        Self.resolve(tag, in: tags)
    }

    /// Whether `alias` is protected.
    public func isProtected(_ alias: String) -> Bool {
        protected.contains(alias)
    }

    static func resolve(_ name: String, in rules: [AliasRule]) -> AliasRule? {
        rules.first { $0.glob.isLiteral && $0.pattern == name }
            ?? rules.first { !$0.glob.isLiteral && $0.glob.matches(name) }
    }
}

/// One `pattern: alias` line of `branches:` or `tags:`.
public struct AliasRule: Sendable, Equatable, Hashable {
    public var pattern: String
    public var alias: String
    public init(pattern: String, alias: String) {
        self.pattern = pattern
        self.alias = alias
    }
    var glob: Glob { Glob(pattern) }
}

/// `s3: {bucket, prefix}`.
public struct S3Location: Sendable, Equatable {
    public var bucket: String
    /// Key prefix, "" when absent.
    public var prefix: String
    public init(bucket: String, prefix: String = "") {
        self.bucket = bucket
        self.prefix = prefix
    }
}

/// Build events other than a push that the config lets deploy (`events: [cron, api, manual]`).
public enum AllowedEvent: String, Sendable, Equatable, Hashable, CaseIterable, Codable {
    /// Scheduled builds: Travis cron, GitHub `schedule`, GitLab/Buildkite/Azure schedules.
    case cron
    /// Builds started through an API or by another pipeline: Travis/GitLab `api`, GitHub
    /// `repository_dispatch`, GitLab `trigger`/`pipeline`, Buildkite `api`/`trigger_job`.
    case api
    /// Builds started by a person from the CI's UI: GitHub `workflow_dispatch`, GitLab `web`,
    /// Azure `Manual`, Buildkite `ui`.
    case manual
}

/// `matrix: first-job | every-job`.
public enum MatrixMode: String, Sendable, Equatable, CaseIterable, Codable {
    /// Only the leader job (Travis `N.1`, parallel index 1) deploys; the others skip.
    case firstJob = "first-job"
    /// Every job deploys (each job builds something different).
    case everyJob = "every-job"
}

/// `hook:` settings for the pre-push hook.
public struct HookSettings: Sendable, Equatable {
    /// The alias a developer's push deploys.
    public var alias: String
    /// Globs of pushed branches that deploy it. The default `**` is every branch (`*` alone
    /// would not match `feature/x`: see `Glob`).
    public var branches: [String]
    /// The remote whose pushes deploy.
    public var remote: String
    /// Deploy from a dirty tree, recording it, instead of refusing.
    public var allowDirty: Bool
    /// Seconds before a hook deploy gives up.
    public var timeout: Int
    /// A failed hook deploy blocks the push (default: warn and let it go on).
    public var blockPushOnFailure: Bool

    public init(
        alias: String = "dev",
        branches: [String] = ["**"],
        remote: String = "origin",
        allowDirty: Bool = false,
        timeout: Int = 120,
        blockPushOnFailure: Bool = false
    ) {
        self.alias = alias
        self.branches = branches
        self.remote = remote
        self.allowDirty = allowDirty
        self.timeout = timeout
        self.blockPushOnFailure = blockPushOnFailure
    }
}

/// `notes:` settings for the deploy ledger.
public struct NotesSettings: Sendable, Equatable {
    /// The notes ref that holds the records.
    public var ref: String
    /// Push records to the remote: nil means the default (true in CI, false locally).
    public var push: Bool?
    /// The remote to share records with.
    public var remote: String

    public init(ref: String = "refs/notes/deploys", push: Bool? = nil, remote: String = "origin") {
        self.ref = ref
        self.push = push
        self.remote = remote
    }

    /// Whether to push, with the default applied for where we run.
    public func shouldPush(isCI: Bool) -> Bool { push ?? isCI }
}

/// `gateway:` settings for `lambda-deploy gateway setup`.
public struct GatewaySettings: Sendable, Equatable {
    /// The REST API's name; nil lets the caller choose (e.g. the function name).
    public var api: String?
    /// The aliases that get a stage; nil lets the caller choose (e.g. the mapped aliases).
    public var aliases: [String]?
    /// The HTTP method (upper case).
    public var method: String
    /// The resource path, starting with `/`.
    public var path: String

    public init(api: String? = nil, aliases: [String]? = nil, method: String = "POST", path: String = "/") {
        self.api = api
        self.aliases = aliases
        self.method = method
        self.path = path
    }
}

/// One entry of `functions:` (several functions in one repository).
public struct FunctionConfig: Sendable, Equatable {
    public var name: String
    public var directory: String?
    public var region: String?
    public var s3: S3Location?
    /// Overrides the top-level mapping for this function; nil inherits it.
    public var branches: [AliasRule]?
    public var tags: [AliasRule]?
    public var protected: [String]?
    public var exclude: [String]?

    public init(
        name: String,
        directory: String? = nil,
        region: String? = nil,
        s3: S3Location? = nil,
        branches: [AliasRule]? = nil,
        tags: [AliasRule]? = nil,
        protected: [String]? = nil,
        exclude: [String]? = nil
    ) {
        self.name = name
        self.directory = directory
        self.region = region
        self.s3 = s3
        self.branches = branches
        self.tags = tags
        self.protected = protected
        self.exclude = exclude
    }
}
