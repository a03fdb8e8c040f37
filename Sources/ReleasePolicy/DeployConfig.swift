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
    /// The command that builds what is packaged; nil packages the directory as it is.
    public var build: BuildStep?
    /// The invocation a new version must pass before traffic moves to it; nil: no check.
    public var check: InvokeCheck?
    /// Old versions deleted after a successful deploy; nil: none are.
    public var prune: PruneSettings?
    /// Which packaging lints run, and the files the secret-file lint lets through.
    public var lint: LintSettings
    /// How many functions deploy at once when a command acts on several.
    public var parallel: Int
    /// The pace of AWS calls for the whole run (all functions together).
    public var rateLimit: RateLimit
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
        build: BuildStep? = nil,
        check: InvokeCheck? = nil,
        prune: PruneSettings? = nil,
        lint: LintSettings = LintSettings(),
        parallel: Int = DeployConfig.defaultParallel,
        rateLimit: RateLimit = RateLimit(),
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
        self.build = build
        self.check = check
        self.prune = prune
        self.lint = lint
        self.parallel = parallel
        self.rateLimit = rateLimit
        self.functions = functions
    }

    /// Functions deployed at once by default (`parallel:`).
    public static let defaultParallel = 4

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
    /// `name` (or the only entry when `name` is nil) supplies the function, and what it sets of
    /// its own (directory, region, s3, branches, tags, protected, exclude, build, check, prune,
    /// lint) replaces the top-level value; its `hook:` keys replace those keys of the top-level
    /// `hook:`. The result has no list. With the shorthand, `name` (a `--function` flag) replaces
    /// `function` and everything else stays.
    ///
    /// Throws when the list has several entries and `name` is nil, or `name` is not in it.
    public func selecting(function name: String?) throws(PolicyError) -> DeployConfig {
        guard !functions.isEmpty else {
            var selected = self
            if let name, !name.isEmpty { selected.function = name }
            return selected
        }
        let names = functions.map(\.name)
        if let name, !name.isEmpty {
            guard let found = functions.first(where: { $0.name == name }) else {
                throw .unknownFunction(name: name, names: names)
            }
            return resolved(found)
        }
        guard functions.count == 1 else { throw .functionNotChosen(names: names) }
        return resolved(functions[0])
    }

    /// The config of every function it names, each as `selecting(function:)` gives it, in file
    /// order: the `functions:` list, or the shorthand's one function, or nothing.
    public var resolvedTargets: [DeployConfig] {
        if !functions.isEmpty { return functions.map(resolved) }
        return function == nil ? [] : [self]
    }

    /// The config as it applies to `entry` of the `functions:` list.
    func resolved(_ entry: FunctionConfig) -> DeployConfig {
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
        selected.hook = hook.applying(entry.hook)
        selected.build = entry.build ?? build
        selected.check = entry.check ?? check
        selected.prune = entry.prune ?? prune
        selected.lint = entry.lint ?? lint
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

/// The `hook:` keys a `functions:` entry may set for itself; the others (remote, timeout,
/// blockPushOnFailure) belong to the push as a whole and stay top-level.
public struct HookOverrides: Sendable, Equatable {
    public var alias: String?
    public var branches: [String]?
    public var allowDirty: Bool?

    public init(alias: String? = nil, branches: [String]? = nil, allowDirty: Bool? = nil) {
        self.alias = alias
        self.branches = branches
        self.allowDirty = allowDirty
    }

    /// The keys a function entry's `hook:` accepts.
    static let keys = ["alias", "branches", "allowDirty"]
}

extension HookSettings {
    /// These settings with a function's own keys in their place.
    func applying(_ overrides: HookOverrides?) -> HookSettings {
        guard let overrides else { return self }
        var result = self
        if let alias = overrides.alias { result.alias = alias }
        if let branches = overrides.branches { result.branches = branches }
        if let allowDirty = overrides.allowDirty { result.allowDirty = allowDirty }
        return result
    }

    /// The range `hook.timeout` must fall in, in seconds.
    public static let timeoutRange = 1...3600
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
    /// This function's `hook:` keys; nil inherits the top-level `hook:` whole.
    public var hook: HookOverrides?
    public var build: BuildStep?
    public var check: InvokeCheck?
    public var prune: PruneSettings?
    public var lint: LintSettings?

    public init(
        name: String,
        directory: String? = nil,
        region: String? = nil,
        s3: S3Location? = nil,
        branches: [AliasRule]? = nil,
        tags: [AliasRule]? = nil,
        protected: [String]? = nil,
        exclude: [String]? = nil,
        hook: HookOverrides? = nil,
        build: BuildStep? = nil,
        check: InvokeCheck? = nil,
        prune: PruneSettings? = nil,
        lint: LintSettings? = nil
    ) {
        self.name = name
        self.directory = directory
        self.region = region
        self.s3 = s3
        self.branches = branches
        self.tags = tags
        self.protected = protected
        self.exclude = exclude
        self.hook = hook
        self.build = build
        self.check = check
        self.prune = prune
        self.lint = lint
    }
}
