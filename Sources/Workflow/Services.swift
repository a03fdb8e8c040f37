public import Foundation
import AWSClient

/// The time a command reads: record timestamps come from `now`, so tests can pin them.
public struct WorkflowClock: Sendable {
    public var now: @Sendable () -> Date

    public init(now: @escaping @Sendable () -> Date) { self.now = now }

    public static let system = WorkflowClock { Date() }
}

/// What a command acts on in AWS, resolved once per command and handed to the workflow.
///
/// The executable builds it with ``connect(_:project:reporter:)`` (credentials, region and
/// endpoints resolved the way AWS SDKs do); tests build it from fakes (`FakeLambda`), so the
/// deploy, promote, rollback and verify paths run without AWS.
public struct Services: Sendable {
    public var region: String
    public var lambda: any LambdaOperations
    public var objectStore: (any ObjectStore)?
    /// The real clients, for the calls that have no narrow protocol (API Gateway, STS, resource
    /// policies); nil when the services are fakes.
    public var session: AWSSession?
    public var clock: WorkflowClock

    public init(region: String, lambda: any LambdaOperations, objectStore: (any ObjectStore)? = nil, session: AWSSession? = nil, clock: WorkflowClock = .system) {
        self.region = region
        self.lambda = lambda
        self.objectStore = objectStore
        self.session = session
        self.clock = clock
    }

    /// Resolves credentials, region and endpoints (flags, then the config's `region`, then the
    /// environment and profiles) and builds the clients. The only place a command reaches AWS from.
    public static func connect(_ settings: AWSSettings, project: Project, reporter: Reporter) async throws -> Services {
        try await connector(settings, project: project, reporter: reporter)()
    }

    /// A provider that connects when first called (it captures only the config's region and
    /// the environment, so it can cross into the task that calls it).
    public static func connector(_ settings: AWSSettings, project: Project, reporter: Reporter) -> ServicesProvider {
        let (region, environment) = (project.config.region, project.environment)
        return { try await connect(settings, configRegion: region, environment: environment, reporter: reporter) }
    }

    public static func connect(_ settings: AWSSettings, configRegion: String?, environment: RunEnvironment, reporter: Reporter) async throws -> Services {
        let session = try await AWSSession.make(
            settings: settings, configRegion: configRegion, environment: environment, reporter: reporter)
        return Services(region: session.region, lambda: session.lambda, objectStore: session.objectStore, session: session)
    }

    /// The real session, for steps that need a client without a fake (gateway set-up, doctor).
    func requireSession() throws -> AWSSession {
        guard let session else { throw WorkflowError.needsAWSSession }
        return session
    }
}

/// Connects on first use: the hook and `doctor` reach AWS only when they get that far.
public typealias ServicesProvider = @Sendable () async throws -> Services

/// Connects for a given region (a `functions:` entry may name its own); the flag's region wins.
public typealias RegionalServicesProvider = @Sendable (_ region: String?) async throws -> Services

extension Services {
    public static func regionalConnector(_ settings: AWSSettings, environment: RunEnvironment, reporter: Reporter) -> RegionalServicesProvider {
        { region in try await connect(settings, configRegion: region, environment: environment, reporter: reporter) }
    }
}
