import Safety

/// `build:`: the command that turns the function's sources into what is packaged.
///
/// The command runs with `sh -c` in the function's directory into a clean `output` folder; the
/// deploy then packages `output`. Its inputs (the files `inputs` matches, the command text and
/// the tool's version) are hashed so an unchanged build is reused.
public struct BuildStep: Sendable, Equatable {
    /// The shell command (may span lines).
    public var command: String
    /// Where the command writes what is packaged: a relative path inside the function directory,
    /// normalised (no `./`, no trailing `/`), never the directory itself.
    public var output: String
    /// Globs, relative to the function directory, of the files the build reads. Empty: every
    /// file of the directory except `output`.
    public var inputs: [String]

    public init(command: String, output: String, inputs: [String] = []) {
        self.command = command
        self.output = output
        self.inputs = inputs
    }
}

/// `check:`: an invocation of the newly published version that must pass before the alias
/// moves to it.
public struct InvokeCheck: Sendable, Equatable {
    public enum Event: Sendable, Equatable {
        /// Written in the config (as YAML or as a JSON string).
        case inline(JSONValue)
        /// A JSON file, relative to the config file's directory.
        case file(String)
    }

    public var event: Event
    /// A subset the function's answer must contain (see `JSONValue.contains`); nil: any answer
    /// without a function error passes.
    public var expect: JSONValue?

    public init(event: Event, expect: JSONValue? = nil) {
        self.event = event
        self.expect = expect
    }

    /// Whether the invocation passed. One line when it did not: the function's error or how the
    /// answer differs, quoted escaped and cut short.
    public func evaluate(functionError: String?, payload: String) -> CheckOutcome {
        if let functionError {
            let kind = functionError.isEmpty ? "an error" : "a \(DisplayText.excerpt(functionError, limit: 40)) error"
            return .failed(reason: "the function returned \(kind): \(DisplayText.excerpt(payload, limit: 200))")
        }
        guard let expect else { return .passed }
        switch JSONValue.parse(payload) {
        case .invalid(let reason):
            return .failed(reason: "the answer is not JSON (\(reason)): \(DisplayText.excerpt(payload, limit: 200))")
        case .value(let answer):
            guard answer.contains(expect) else {
                return .failed(reason: "the answer \(DisplayText.excerpt(answer.text, limit: 200)) does not contain \(DisplayText.excerpt(expect.text, limit: 200))")
            }
            return .passed
        }
    }
}

/// The result of a check before traffic.
public enum CheckOutcome: Sendable, Equatable {
    case passed
    case failed(reason: String)
}

/// `prune: {keep: N}`: after a successful deploy, delete published versions nothing needs,
/// keeping the newest `keep` (and every version an alias or the ledger still needs).
public struct PruneSettings: Sendable, Equatable {
    public var keep: Int
    public init(keep: Int = PruneSettings.defaultKeep) { self.keep = keep }

    public static let defaultKeep = 10
    /// The range `prune.keep` must fall in.
    public static let keepRange = 1...10_000
}

/// The packaging lints, by the names `lint.disable` and `--no-lint` use.
public enum LintName: String, Sendable, Equatable, Hashable, CaseIterable, Codable {
    /// The module the handler names is where the runtime looks (or `bootstrap` for `provided*`).
    case handler
    /// Files that look like secrets (`.env`, `*.pem`, `id_rsa*`, ...) are refused unless allowed.
    case secretFiles = "secret-files"
    /// Oversized entries are reported.
    case largeEntries = "large-entries"
    /// Dev-only folders (`node_modules/.cache`, `__pycache__`, ...) are reported.
    case devFiles = "dev-files"
}

/// `lint: {allow, disable}`.
public struct LintSettings: Sendable, Equatable {
    /// Paths or globs (relative to the function directory) of files the secret-file lint lets
    /// through although they look secret.
    public var allow: [String]
    /// Lints that do not run.
    public var disable: Set<LintName>

    public init(allow: [String] = [], disable: Set<LintName> = []) {
        self.allow = allow
        self.disable = disable
    }
}

/// `rateLimit: {requestsPerSecond, burst}`: one token bucket paces every AWS call of a run.
///
/// Lambda's control plane allows about 15 requests per second per account and region for most
/// calls; a run that deploys many functions shares that.
public struct RateLimit: Sendable, Equatable {
    /// Calls per second, on average.
    public var requestsPerSecond: Double
    /// Calls that may go at once after a quiet spell (the bucket's size).
    public var burst: Int

    public init(requestsPerSecond: Double = 15, burst: Int = 15) {
        self.requestsPerSecond = requestsPerSecond
        self.burst = burst
    }

    public static let requestsPerSecondRange = 0.1...1000.0
    public static let burstRange = 1...1000
}

/// Paths written in the config: relative, inside the directory they are relative to.
enum ConfigPath {
    /// Why `path` is not a relative path that stays inside its directory, or nil. `.` and empty
    /// are refused where `allowDot` is false (e.g. a build output: it is emptied first).
    static func relativeProblem(_ path: String, allowDot: Bool = false) -> String? {
        if path.isEmpty { return "a path cannot be empty" }
        if path.hasPrefix("/") { return "use a path relative to the function directory, not an absolute one" }
        if path.hasPrefix("~") { return "use a path relative to the function directory (~ is not expanded)" }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        if parts.contains("..") { return "a path cannot leave its directory with '..'" }
        if !allowDot, parts.allSatisfy({ $0 == "." }) { return "this is the directory itself; name a folder inside it" }
        return nil
    }

    /// `path` without `./` parts and trailing `/`.
    static func normalized(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }.joined(separator: "/")
    }
}
