public import Foundation
internal import Safety

/// The AWS services this tool talks to, with their SigV4 signing names.
public enum AWSService: String, Sendable, CaseIterable {
    case lambda
    case s3
    case sts
    case apiGateway = "apigateway"
    case iam

    /// The name used in messages.
    public var displayName: String {
        switch self {
        case .lambda: "Lambda"
        case .s3: "S3"
        case .sts: "STS"
        case .apiGateway: "API Gateway"
        case .iam: "IAM"
        }
    }

    /// The service-specific endpoint variable (`AWS_ENDPOINT_URL_<SERVICE>`).
    /// https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
    public var endpointVariable: String {
        switch self {
        case .lambda: "AWS_ENDPOINT_URL_LAMBDA"
        case .s3: "AWS_ENDPOINT_URL_S3"
        case .sts: "AWS_ENDPOINT_URL_STS"
        case .apiGateway: "AWS_ENDPOINT_URL_API_GATEWAY"
        case .iam: "AWS_ENDPOINT_URL_IAM"
        }
    }
}

/// The region and where it came from.
public struct ResolvedRegion: Sendable, Equatable {
    public var region: String
    public var source: String
}

/// Region resolution: flag, config file, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`.
public func resolveRegion(
    flag: String?, config: String?, environment: [String: String], files: any FileReading = LocalFileReader()
) throws -> ResolvedRegion {
    let candidates: [(String?, String)] = [
        (flag, "--region"), (config, "config file"),
        (environment["AWS_REGION"], "AWS_REGION"), (environment["AWS_DEFAULT_REGION"], "AWS_DEFAULT_REGION"),
    ]
    for (value, source) in candidates {
        if let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty {
            return try validated(ResolvedRegion(region: value, source: source))
        }
    }
    let shared = SharedConfigFiles(environment: environment, files: files)
    if let (region, source) = try shared.region() {
        return try validated(ResolvedRegion(region: region, source: source))
    }
    throw AWSError.noRegion(searched: ["--region", "config file", "AWS_REGION", "AWS_DEFAULT_REGION", "profile \(shared.profile) in \(shared.configDisplay)"])
}

private func validated(_ region: ResolvedRegion) throws -> ResolvedRegion {
    let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-")
    guard region.region.allSatisfy({ allowed.contains($0) }), region.region.contains("-") else {
        throw AWSError.invalidRegion(region.region, source: region.source)
    }
    return region
}

/// Where each service's requests go.
public struct AWSEndpoints: Sendable {
    /// Per-service override (already validated), else the real AWS host.
    public var overrides: [AWSService: URL]
    public var region: String
    /// Where each override came from (`--endpoint-url`, `AWS_ENDPOINT_URL`...), for messages.
    public var sources: [AWSService: String]

    public init(region: String, overrides: [AWSService: URL] = [:], sources: [AWSService: String] = [:]) {
        self.region = region
        self.overrides = overrides
        self.sources = sources
    }

    /// Endpoint resolution: an explicit URL (flag) for every service, else `AWS_ENDPOINT_URL_<SERVICE>`,
    /// else `AWS_ENDPOINT_URL`, else AWS's own host names. A malformed URL is an error naming it.
    public static func resolve(explicit: String?, environment: [String: String], region: String) throws -> AWSEndpoints {
        var overrides: [AWSService: URL] = [:]
        var sources: [AWSService: String] = [:]
        for service in AWSService.allCases {
            let candidates: [(String?, String)] = [
                (explicit, "--endpoint-url"), (environment[service.endpointVariable], service.endpointVariable),
                (environment["AWS_ENDPOINT_URL"], "AWS_ENDPOINT_URL"),
            ]
            for (value, source) in candidates {
                guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { continue }
                overrides[service] = try parseEndpoint(value, source: source)
                sources[service] = source
                break
            }
        }
        return AWSEndpoints(region: region, overrides: overrides, sources: sources)
    }

    /// Checks that an endpoint is an absolute http(s) URL with a host, no user or password, and
    /// no query. The error shows the value with any userinfo masked.
    public static func parseEndpoint(_ value: String, source: String) throws -> URL {
        guard !value.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }), let components = URLComponents(string: value),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty, components.query == nil, components.fragment == nil,
            components.user == nil, components.password == nil, let url = components.url
        else { throw AWSError.invalidEndpoint(DisplayText.excerpt(URLText.maskingUserinfo(value), limit: 200), source: source) }
        return url
    }

    /// One warning per plain-http endpoint that is not on this machine: requests to it are
    /// signed in the clear (the session token travels with them), and anyone on the path can
    /// read or replay them.
    public var plainHTTPWarnings: [String] {
        var seen: Set<String> = []
        var warnings: [String] = []
        for service in AWSService.allCases {
            guard let url = overrides[service], url.scheme?.lowercased() == "http", let host = url.host, !Self.isLoopback(host),
                seen.insert(url.absoluteString).inserted
            else { continue }
            warnings.append(
                "endpoint \(DisplayText.escaped(url.absoluteString)) (from \(sources[service] ?? "the endpoint setting")) is plain http and not on this machine: signed requests, session token included, cross the network unencrypted; use https")
        }
        return warnings
    }

    /// localhost, 127.0.0.0/8 and ::1.
    static func isLoopback(_ host: String) -> Bool {
        let name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if name == "localhost" || name.hasSuffix(".localhost") || name == "::1" { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    public func isCustom(_ service: AWSService) -> Bool { overrides[service] != nil }

    /// The base URL of a service (no trailing slash).
    public func url(for service: AWSService) -> URL {
        if let url = overrides[service] { return url }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        let host =
            switch service {
            case .iam: region.hasPrefix("cn-") ? "iam.\(suffix)" : "iam.amazonaws.com"
            default: "\(service.rawValue).\(region).\(suffix)"
            }
        return URL(string: "https://\(host)") ?? URL(fileURLWithPath: "/")
    }

    /// The region requests to a service are signed for (IAM is global: us-east-1).
    public func signingRegion(for service: AWSService) -> String {
        service == .iam && overrides[.iam] == nil ? (region.hasPrefix("cn-") ? "cn-north-1" : "us-east-1") : region
    }
}

/// Retry, time-bound and time-budget settings for every AWS call (README, "Network").
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts per call, the first included.
    public var maxAttempts: Int
    /// How long one attempt waits for the complete answer once its request is sent.
    public var requestTimeout: Duration
    /// Setting up a connection (TCP, a proxy's CONNECT, TLS).
    public var connectTimeout: Duration
    /// An attempt that moves no byte either way for this long fails (uploads included).
    public var stallTimeout: Duration
    /// Total time a call may spend across attempts and waits; an attempt in flight is cut at
    /// what is left of it plus one stall bound, so no call outlives `budget + stallTimeout`.
    public var budget: Duration
    /// The same for an upload (a package sent to Lambda or S3), which may take minutes on a
    /// slow link while it keeps moving.
    public var uploadBudget: Duration
    /// Backoff: attempt n waits a random time in [0, min(maxDelay, baseDelay * 2^n)] ("full jitter",
    /// https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(
        maxAttempts: Int = 6, requestTimeout: Duration = .seconds(30), connectTimeout: Duration = .seconds(10),
        stallTimeout: Duration = .seconds(30), budget: Duration = .seconds(60), uploadBudget: Duration = .seconds(900),
        baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(10)
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
        self.stallTimeout = stallTimeout
        self.budget = budget
        self.uploadBudget = uploadBudget
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    public static let `default` = RetryPolicy()

    /// Reads `LAMBDA_DEPLOY_MAX_ATTEMPTS` (1...20) and, in seconds (decimals allowed),
    /// `LAMBDA_DEPLOY_HTTP_TIMEOUT`, `LAMBDA_DEPLOY_CONNECT_TIMEOUT`, `LAMBDA_DEPLOY_STALL_TIMEOUT`
    /// and `LAMBDA_DEPLOY_RETRY_BUDGET`; unset keeps the defaults (6 attempts, 30 s for an answer,
    /// 10 s to connect, 30 s without a byte, a 60 s budget per call and 900 s per upload). A
    /// budget that is set applies to uploads too: it is the user's bound on every call.
    public init(environment: [String: String]) throws {
        self.init()
        func seconds(_ name: String) throws -> Duration? {
            guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            guard let value = Double(text), value.isFinite, value > 0, value <= 86_400 else {
                throw AWSError.invalidSetting(name: name, value: text, expected: "a number of seconds greater than 0")
            }
            return .milliseconds(Int64((value * 1000).rounded()))
        }
        if let text = environment["LAMBDA_DEPLOY_MAX_ATTEMPTS"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            guard let value = Int(text), (1...20).contains(value) else {
                throw AWSError.invalidSetting(name: "LAMBDA_DEPLOY_MAX_ATTEMPTS", value: text, expected: "a whole number from 1 to 20")
            }
            maxAttempts = value
        }
        if let timeout = try seconds("LAMBDA_DEPLOY_HTTP_TIMEOUT") { requestTimeout = timeout }
        if let timeout = try seconds("LAMBDA_DEPLOY_CONNECT_TIMEOUT") { connectTimeout = timeout }
        if let timeout = try seconds("LAMBDA_DEPLOY_STALL_TIMEOUT") { stallTimeout = timeout }
        if let budget = try seconds("LAMBDA_DEPLOY_RETRY_BUDGET") {
            self.budget = budget
            uploadBudget = budget
        }
    }

    /// The full-jitter delay before retry number `retry` (1 = first retry); `random` maps an
    /// upper bound in seconds to a value in [0, bound].
    func backoff(retry: Int, random: (Double) -> Double) -> Duration {
        let cap = seconds(maxDelay)
        let exponential = seconds(baseDelay) * pow(2, Double(min(retry - 1, 30)))
        return .milliseconds(Int64((max(0, min(random(min(cap, exponential)), cap)) * 1000).rounded()))
    }
}

func seconds(_ duration: Duration) -> Double {
    let (whole, attoseconds) = duration.components
    return Double(whole) + Double(attoseconds) / 1e18
}

/// Monotonic time and sleeping, injectable so retry and waiter tests do not wait.
public protocol AWSClock: Sendable {
    /// Time since an arbitrary fixed origin.
    func now() -> Duration
    func sleep(for duration: Duration) async throws
}

/// The real clock.
public struct SystemClock: AWSClock {
    private let origin = ContinuousClock.now
    public init() {}
    public func now() -> Duration { ContinuousClock.now - origin }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}

/// A verbose-log line sink. Lines carry method, URL, status and timing; never headers.
public typealias AWSLogger = @Sendable (String) -> Void

/// Everything a service client needs.
public struct AWSConfiguration: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var endpoints: AWSEndpoints
    public var retryPolicy: RetryPolicy
    public var transport: any HTTPTransport
    public var logger: AWSLogger?
    public var clock: any AWSClock
    /// Wall-clock time for signatures.
    public var date: @Sendable () -> Date
    /// Jitter source: an upper bound in seconds to a value in [0, bound].
    public var random: @Sendable (Double) -> Double
    /// Things the user should hear about even without `--verbose` (a plain-http endpoint off this
    /// machine, a credentials file others can read): `resolve` collects them, the command prints
    /// them as warnings.
    public var warnings: [String] = []

    public init(
        credentials: AWSCredentials, region: String, endpoints: AWSEndpoints? = nil, retryPolicy: RetryPolicy = .default,
        transport: any HTTPTransport = CurlTransport(), logger: AWSLogger? = nil, clock: any AWSClock = SystemClock(),
        date: @escaping @Sendable () -> Date = { Date() },
        random: @escaping @Sendable (Double) -> Double = { $0 > 0 ? Double.random(in: 0...$0) : 0 }
    ) {
        self.credentials = credentials
        self.region = region
        self.endpoints = endpoints ?? AWSEndpoints(region: region)
        self.retryPolicy = retryPolicy
        self.transport = transport
        self.logger = logger
        self.clock = clock
        self.date = date
        self.random = random
    }

    /// Resolves everything from the environment the way the command line does: region (flag,
    /// config, env, profile), endpoints (flag, env), retry policy (env), proxies and CA bundle
    /// (env, see `NetworkSettings`) and credentials (chain; web identity via an unsigned STS call,
    /// a profile's role via a signed AssumeRole, both to the resolved STS endpoint). `transport`
    /// nil: libcurl with those network settings. The verbose log hears which proxy and CA file
    /// are used; `warnings` collects what the user must see.
    public static func resolve(
        environment: [String: String], regionFlag: String? = nil, regionFromConfig: String? = nil, endpointFlag: String? = nil,
        files: any FileReading = LocalFileReader(), transport: (any HTTPTransport)? = nil, logger: AWSLogger? = nil
    ) async throws -> AWSConfiguration {
        let region = try resolveRegion(flag: regionFlag, config: regionFromConfig, environment: environment, files: files)
        let endpoints = try AWSEndpoints.resolve(explicit: endpointFlag, environment: environment, region: region.region)
        let policy = try RetryPolicy(environment: environment)
        let network = try NetworkSettings.resolve(environment: environment)
        for line in network.descriptions { logger?("network: " + line) }
        let anonymous = AWSCredentials(accessKeyId: "", secretAccessKey: "", source: "none")
        var bootstrap = AWSConfiguration(
            credentials: anonymous, region: region.region, endpoints: endpoints, retryPolicy: policy,
            transport: transport ?? CurlTransport(settings: network), logger: logger)
        bootstrap.warnings = endpoints.plainHTTPWarnings
        let collected = WarningList()
        let chain = CredentialChain(environment: environment, files: files, warn: { collected.append($0) })
        let credentials = try await chain.resolve(
            webIdentity: { [bootstrap] roleArn, session, token in
                try await STSClient(bootstrap).assumeRoleWithWebIdentity(roleArn: roleArn, sessionName: session, webIdentityToken: token)
            },
            assumeRole: { [bootstrap] source, request in
                var signed = bootstrap
                signed.credentials = source
                return try await STSClient(signed).assumeRole(request)
            })
        var configuration = bootstrap
        configuration.credentials = credentials
        configuration.warnings += collected.lines
        return configuration
    }
}

/// Warnings gathered while credentials resolve (the chain may run on any task).
final class WarningList: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var lines: [String] { lock.withLock { stored } }
    func append(_ line: String) { lock.withLock { if !stored.contains(line) { stored.append(line) } } }
}
