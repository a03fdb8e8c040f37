import Foundation
import ReleasePolicy
import DeployLedger

/// One function's part of a run over many functions.
public struct FunctionRun: Encodable, Sendable {
    public enum Result: String, Encodable, Sendable, Comparable {
        case skipped, unchanged, dryRun = "dry-run", deployed, failed
        /// A newer deploy of the alias took this one's place (not a failure: see `DeployOutcome`).
        case superseded

        /// How bad the outcome is, for the run's exit code.
        var severity: Int {
            switch self {
            case .skipped, .unchanged, .dryRun, .deployed, .superseded: 0
            case .failed: 2
            }
        }

        public static func < (lhs: Result, rhs: Result) -> Bool { lhs.severity < rhs.severity }
    }

    public var function: String
    public var alias: String?
    public var result: Result
    public var version: String?
    public var previousVersion: String?
    public var seconds: Double
    /// Why it was skipped, or what failed.
    public var reason: String?
    /// The whole deploy report, when the function got that far.
    public var deploy: DeployReport?
}

extension FunctionRun.Result {
    init(_ result: DeployOutcome.Result) {
        switch result {
        case .deployed: self = .deployed
        case .unchanged: self = .unchanged
        case .superseded: self = .superseded
        case .dryRun: self = .dryRun
        }
    }
}

/// A run over every function of a `functions:` list.
public struct FleetReport: Encodable, Sendable {
    public var functions: [FunctionRun]
    /// The one notes push of the run (nil when nothing was recorded or pushing was not asked).
    public var push: String?
    public var recordProblem: WorkflowError?

    enum CodingKeys: String, CodingKey { case functions, push }

    public var failed: Int { functions.filter { $0.result == .failed }.count }

    /// `3 functions: 1 deployed, 1 unchanged, 1 skipped, 0 failed`.
    public var summary: String {
        let counts = Dictionary(grouping: functions, by: \.result).mapValues(\.count)
        let parts = [FunctionRun.Result.deployed, .superseded, .unchanged, .dryRun, .skipped].compactMap { result in
            counts[result].map { "\($0) \(result.rawValue)" }
        }
        return "\(functions.count) function\(functions.count == 1 ? "" : "s"): " + (parts + ["\(failed) failed"]).joined(separator: ", ")
    }
}

/// Deploys every function of the config in one command: each decides with its own settings,
/// packaging runs across cores, changed functions deploy from a bounded pool under one shared
/// rate budget, one record per function, one notes push for the run.
///
/// A failure of one function does not stop the others; each function's alias is left consistent
/// by its own deploy (the deployer's guarantees hold per function).
public struct FleetDeploy {
    public let project: Project
    let reporter: Reporter
    /// How many functions deploy at once.
    public var parallel: Int

    public init(project: Project, reporter: Reporter, parallel: Int = 4) {
        self.project = project
        self.reporter = reporter
        self.parallel = max(1, parallel)
    }

    /// What each function deploys.
    public enum Choice: Sendable {
        /// `ci`: each function's release policy decides.
        case decide(overrideProtection: Bool)
        /// `deploy --all --alias A` or the hook: this alias for every function.
        case alias(String)
    }

    /// The functions of the run, in config order.
    public var functions: [String] { project.config.targets.map(\.name) }

    /// Runs the deploys; `finished` hears each function's result as it finishes.
    public func run(
        _ choice: Choice, template: DeployRequest, connect: RegionalServicesProvider, finished: @Sendable (FunctionRun) -> Void = { _ in }
    ) async throws -> FleetReport {
        var runs: [String: FunctionRun] = [:]
        func finish(_ run: FunctionRun) {
            runs[run.function] = run
            finished(run)
        }

        // 1. Decide and check each function (git and config only, in order).
        var plans: [(pipeline: DeployPipeline, plan: DeployPlan)] = []
        for name in functions {
            try Interruption.check()
            do {
                let narrowed = try project.narrowed(to: name)
                var request = template
                request.function = name
                switch choice {
                case .decide(let overrideProtection):
                    let decision = narrowed.decide(overrideProtection: overrideProtection)
                    guard decision.shouldDeploy, let alias = decision.alias else {
                        finish(FunctionRun(function: name, alias: decision.alias, result: .skipped, seconds: 0, reason: decision.reason))
                        continue
                    }
                    request.alias = alias
                    request.decision = decision
                    request.trigger = .ci
                case .alias(let alias):
                    request.alias = alias
                }
                let pipeline = DeployPipeline(project: narrowed, reporter: reporter)
                plans.append((pipeline, try pipeline.check(request)))
            } catch {
                finish(FunctionRun(function: name, alias: template.alias.isEmpty ? nil : template.alias, result: .failed, seconds: 0, reason: describe(error)))
            }
        }

        // 2. Package across cores (files only).
        let reporter = self.reporter
        let packaged = await withTaskGroup(of: (Int, Result<PreparedDeploy, any Error>).self) { group in
            var results: [Int: Result<PreparedDeploy, any Error>] = [:]
            var next = 0
            let width = max(1, min(ProcessInfo.processInfo.activeProcessorCount, plans.count))
            func start() {
                guard next < plans.count else { return }
                let (index, plan) = (next, plans[next].plan)
                next += 1
                group.addTask { (index, Result { try DeployPipeline.package(plan, reporter: reporter) }) }
            }
            for _ in 0..<width { start() }
            while let (index, result) = await group.next() {
                results[index] = result
                start()
            }
            return results
        }
        var ready: [(pipeline: DeployPipeline, prepared: PreparedDeploy)] = []
        for (index, entry) in plans.enumerated() {
            switch packaged[index] {
            case .success(let prepared)?: ready.append((entry.pipeline, prepared))
            case .failure(let error)?:
                finish(FunctionRun(function: entry.plan.function, alias: entry.plan.request.alias, result: .failed, seconds: 0, reason: describe(error)))
            case nil: break
            }
        }
        defer { for entry in ready { entry.prepared.discard() } }

        // 3. Deploy from a bounded pool, one rate budget per region; records written as each ends.
        var services: [String: Services] = [:]
        var shipments: [(index: Int, shipment: DeployPipeline.Shipment, services: Services)] = []
        for (index, entry) in ready.enumerated() {
            do {
                try Interruption.check()
                let region = entry.pipeline.project.config.region
                var regional: Services
                if let known = services[region ?? ""] {
                    regional = known
                } else {
                    regional = try await connect(region)
                    regional.lambda = PacedLambda(regional.lambda, budget: RateBudget(project.config.rateLimit, environment: project.environment.variables))
                    services[region ?? ""] = regional
                }
                shipments.append((index, entry.pipeline.shipment(entry.prepared, services: regional), regional))
            } catch {
                finish(FunctionRun(function: entry.prepared.function, alias: entry.prepared.request.alias, result: .failed, seconds: 0, reason: describe(error)))
            }
        }
        var recordsWritten = false
        var recordProblem: WorkflowError?
        await withTaskGroup(of: (Int, Result<DeployOutcome, DeployFailure>).self) { group in
            var next = 0
            func start() {
                guard next < shipments.count else { return }
                let (position, shipment) = (next, shipments[next].shipment)
                next += 1
                group.addTask {
                    do {
                        return (position, .success(try await shipment.deployer.deploy(shipment.code, to: shipment.target)))
                    } catch let failure as DeployFailure {
                        return (position, .failure(failure))
                    } catch {
                        return (position, .failure(DeployFailure(underlying: error, changedAWS: false)))
                    }
                }
            }
            for _ in 0..<parallel { start() }
            while let (position, result) = await group.next() {
                if Interruption.requested == nil { start() }
                let entry = shipments[position]
                let (pipeline, prepared) = ready[entry.index]
                do {
                    let report = try pipeline.record(prepared, result, services: entry.services, push: false)
                    await pipeline.pruneAfterDeploy(report, services: entry.services)
                    if report.record?.written == true { recordsWritten = true }
                    if let problem = report.recordProblem { recordProblem = recordProblem ?? problem }
                    let outcome = report.outcome
                    finish(FunctionRun(
                        function: outcome.function, alias: outcome.alias,
                        result: FunctionRun.Result(outcome.result),
                        version: outcome.version, previousVersion: outcome.previousVersion, seconds: outcome.seconds,
                        reason: nil, deploy: report))
                } catch {
                    if case .failure(let failure) = result, failure.changedAWS { recordsWritten = true }
                    finish(FunctionRun(function: prepared.function, alias: prepared.request.alias, result: .failed, seconds: 0, reason: describe(error)))
                }
            }
        }
        // Functions never started because a signal arrived.
        for entry in shipments where runs[ready[entry.index].prepared.function] == nil {
            let prepared = ready[entry.index].prepared
            finish(FunctionRun(function: prepared.function, alias: prepared.request.alias, result: .failed, seconds: 0,
                               reason: Interruption.requested.map { describe(WorkflowError.interrupted($0)) } ?? "not started"))
        }

        // 4. One notes push for the whole run.
        var report = FleetReport(functions: functions.compactMap { runs[$0] }, push: nil, recordProblem: recordProblem)
        let recorder = Recorder(project: project, reporter: reporter)
        if recordsWritten, recorder.shouldPush(template.pushNotes) {
            let shared = recorder.share()
            report.push = "records" + shared.message
            if let problem = shared.problem { report.recordProblem = report.recordProblem ?? problem }
        }
        return report
    }
}
