/// Where a build stands among the builds of one pipeline of one CI service: "this build was
/// started after that one", for deciding that a deploy must not move an alias backwards when git
/// ancestry cannot tell (a depth-1 clone has no history).
///
/// Each service numbers its builds upwards within some scope, and only numbers from the same
/// scope compare. What each number is, from the service's own documentation:
///
/// | Service | Number | Scope | Attempt |
/// |---|---|---|---|
/// | Travis CI | `TRAVIS_BUILD_NUMBER` (a restart keeps it) | `TRAVIS_REPO_SLUG` | – |
/// | GitHub Actions | `GITHUB_RUN_NUMBER` (a re-run keeps it) | repository + workflow file | `GITHUB_RUN_ATTEMPT` |
/// | GitLab CI | `CI_PIPELINE_IID` (per project), else `CI_PIPELINE_ID` (per instance) | `CI_PROJECT_ID`, and which of the two | – |
/// | CircleCI | `CIRCLE_BUILD_NUM` (the job's number) | project | – |
/// | Buildkite | `BUILDKITE_BUILD_NUMBER` (per pipeline, only grows) | organization + pipeline | `BUILDKITE_RETRY_COUNT` + 1 |
/// | Jenkins | `BUILD_NUMBER` (per job) | `JOB_NAME` | – |
/// | Bitbucket | `BITBUCKET_BUILD_NUMBER` (per repository) | `BITBUCKET_REPO_UUID` or full name | – |
/// | Azure Pipelines | `BUILD_BUILDID` (per organization) | `SYSTEM_COLLECTIONID` or the collection URI | `SYSTEM_JOBATTEMPT` |
/// | AWS CodeBuild | `CODEBUILD_BUILD_NUMBER` (per project) | the project, from `CODEBUILD_BUILD_ID` | – |
///
/// A number says when a build started, not how new its commit is: where a service gives a rerun
/// of an old commit a new number (CircleCI, Jenkins, Bitbucket, CodeBuild), that rerun counts as
/// later. That is why the comparison also needs the same branch, and why git ancestry, where it
/// is known, goes first.
///
/// The text form fits a Lambda version description: `github-actions:1234.2/5f3a9c1e` (service,
/// number, `.attempt` where there is one, `/` and the scope as 8 hex digits of its FNV-1a hash),
/// written there as `build=<text>`.
public struct BuildOrder: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    public var service: CIService
    /// The build's number within its scope.
    public var number: UInt64
    /// Which attempt of that build, 1 for the first; nil where the service does not say.
    public var attempt: UInt64?
    /// What the numbers count within (repository, workflow, pipeline or job), as 8 lower-case
    /// hex digits of a 32-bit FNV-1a hash of its name.
    public var scope: String

    public init(service: CIService, number: UInt64, attempt: UInt64? = nil, scope: String) {
        self.service = service
        self.number = number
        self.attempt = attempt
        self.scope = scope
    }

    /// A build order from its parts as the environment gives them; nil when the number is not a
    /// plain decimal number or the scope is unknown.
    init?(service: CIService, number: String?, attempt: String? = nil, scopeName: String?) {
        guard let number = number.flatMap(Self.decimal), let scopeName, !scopeName.isEmpty else { return nil }
        self.init(service: service, number: number, attempt: attempt.flatMap(Self.decimal), scope: Self.hash(scopeName))
    }

    /// `service:number[.attempt]/scope`.
    public var text: String {
        var out = "\(service.rawValue):\(number)"
        if let attempt { out += ".\(attempt)" }
        return out + "/" + scope
    }

    public var description: String { text }

    /// The key a version description carries it under: `build=<text>`.
    public static let descriptionKey = "build"

    /// `build=<text>`, for a version description.
    public var descriptionField: String { "\(Self.descriptionKey)=\(text)" }

    /// Parses `text` as written by `text`; nil for anything else.
    public init?(text: String) {
        guard text.utf8.count <= 80, let colon = text.firstIndex(of: ":"), let slash = text.lastIndex(of: "/"),
              colon < slash
        else { return nil }
        guard let service = CIService(rawValue: String(text[..<colon])), service != .local, service != .generic
        else { return nil }
        let numbers = text[text.index(after: colon)..<slash].split(separator: ".", omittingEmptySubsequences: false)
        guard numbers.count == 1 || numbers.count == 2, let number = Self.decimal(String(numbers[0])) else { return nil }
        var attempt: UInt64?
        if numbers.count == 2 {
            guard let value = Self.decimal(String(numbers[1])) else { return nil }
            attempt = value
        }
        let scope = String(text[text.index(after: slash)...])
        guard scope.utf8.count == 8, scope.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else { return nil }
        self.init(service: service, number: number, attempt: attempt, scope: scope)
    }

    /// The build order a version description carries (`... build=<text> ...`), or nil.
    public static func find(inDescription description: String) -> BuildOrder? {
        let prefix = descriptionKey + "="
        for word in description.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == ";" || $0 == "," }) {
            if word.hasPrefix(prefix) { return BuildOrder(text: String(word.dropFirst(prefix.count))) }
        }
        return nil
    }

    /// Whether the build `ours` came later than `theirs`: `.later` or `.earlier` only when both
    /// are known, from the same service and scope, and of the same branch (`sameBranch`, which
    /// the caller knows from the records); the number decides, then the attempt where both have
    /// one. Anything else, the same build included, is `.unknown`.
    public static func isLater(_ ours: BuildOrder?, than theirs: BuildOrder?, sameBranch: Bool) -> BuildSequence {
        guard sameBranch, let ours, let theirs, ours.service == theirs.service, ours.scope == theirs.scope else {
            return .unknown
        }
        if ours.number != theirs.number { return ours.number > theirs.number ? .later : .earlier }
        guard let a = ours.attempt, let b = theirs.attempt, a != b else { return .unknown }
        return a > b ? .later : .earlier
    }

    /// A plain decimal number (no sign, no spaces, at most 19 digits).
    static func decimal(_ text: String) -> UInt64? {
        guard (1...19).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return UInt64(text)
    }

    /// 32-bit FNV-1a of `name`'s UTF-8 bytes, as 8 lower-case hex digits. Fixed forever: the
    /// scope is compared across versions of the tool.
    static func hash(_ name: String) -> String {
        var value: UInt32 = 0x811C_9DC5
        for byte in name.utf8 {
            value ^= UInt32(byte)
            value = value &* 0x0100_0193
        }
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}

/// How two builds are ordered.
public enum BuildSequence: String, Sendable, Equatable, Codable {
    case later
    case earlier
    /// Not comparable: a different service, pipeline or branch, a missing number, or the same build.
    case unknown
}
