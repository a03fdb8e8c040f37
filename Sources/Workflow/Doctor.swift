import Foundation
import AWSClient
import DeployLedger
import ReleasePolicy

/// `doctor`: every part of the set-up checked in one screen, each problem with its fix.
public struct DoctorReport: Encodable, Sendable {
    public struct Check: Encodable, Sendable {
        public var name: String
        public var ok: Bool
        public var detail: String
        public var fix: String?
    }
    public var checks: [Check]
    public var healthy: Bool { checks.allSatisfy(\.ok) }

    public var lines: [String] {
        var lines: [String] = []
        for check in checks {
            lines.append("\(check.ok ? "ok     " : "PROBLEM") \(check.name): \(check.detail)")
            if let fix = check.fix, !check.ok { lines.append("        fix: \(fix)") }
        }
        lines.append(healthy ? "all good" : "\(checks.filter { !$0.ok }.count) problem(s)")
        return lines
    }
}

public struct Doctor {
    let environment: RunEnvironment
    let configPath: String?
    /// `--function`: which entry of a `functions:` list to check.
    let function: String?

    public init(environment: RunEnvironment, configPath: String?, function: String? = nil) {
        self.environment = environment
        self.configPath = configPath
        self.function = function
    }

    static func message(_ error: any Error) -> String { describe(error) }

    /// The fix for a failure to resolve credentials or region, chosen by what failed.
    static func credentialsFix(_ error: any Error) -> String {
        if case .noRegion? = error as? AWSError {
            return "set `region:` in lambda-deploy.yml, export AWS_REGION, or pass --region"
        }
        if case .invalidRegion? = error as? AWSError {
            return "use a region name such as us-east-1 (config `region:`, AWS_REGION or --region)"
        }
        return "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, set AWS_PROFILE, or use web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE)"
    }

    /// `connect` resolves credentials for the project read here (the command's AWS flags).
    public func run(connect: @Sendable (Project) async throws -> Services) async -> DoctorReport {
        var checks: [DoctorReport.Check] = []
        let project: Project
        do {
            project = try Project(environment: environment, configPath: configPath, function: .one(function))
            checks.append(.init(name: "config", ok: true, detail: project.configPath.map { "\($0) is valid" } ?? "no lambda-deploy.yml: defaults apply", fix: nil))
        } catch let error as PolicyError where error.isFunctionChoice {
            checks.append(.init(name: "config", ok: false, detail: Self.message(error), fix: "lambda-deploy doctor --function NAME"))
            return DoctorReport(checks: checks)
        } catch {
            checks.append(.init(name: "config", ok: false, detail: Self.message(error), fix: "edit lambda-deploy.yml as the message says (format: README, Configuration)"))
            return DoctorReport(checks: checks)
        }
        let function = project.config.function
        if function == nil {
            checks.append(.init(name: "function", ok: false, detail: "no function named", fix: "add `function: NAME` to lambda-deploy.yml"))
        }

        var session: AWSSession?
        do {
            let made = try await connect(project).requireSession()
            session = made
            checks.append(.init(name: "credentials", ok: true, detail: "from \(made.configuration.credentials.source), region \(made.region)", fix: nil))
            // What deploys print as warnings (a plain-http endpoint off loopback, a credentials
            // file others can read) is a problem here, with its fix in the message.
            for warning in made.configuration.warnings {
                checks.append(.init(name: "connection", ok: false, detail: warning, fix: "as the message says"))
            }
        } catch {
            checks.append(.init(name: "credentials", ok: false, detail: Self.message(error), fix: Self.credentialsFix(error)))
        }

        if let session, let function {
            do {
                let latest = try await session.lambda.function(function, qualifier: nil)
                checks.append(.init(name: "function", ok: true, detail: "\(function) exists in \(session.region) (CodeSha256 \(latest.codeSha256))", fix: nil))
                let aliases = try await session.lambda.aliases(function)
                let wanted = Set([project.config.hook.alias] + project.config.branches.map(\.alias))
                let names = aliases.map { "\($0.name)->\($0.version)\($0.additionalWeights.isEmpty ? "" : " (shifting)")" }
                let missing = wanted.subtracting(aliases.map(\.name)).sorted()
                checks.append(.init(
                    name: "aliases", ok: missing.isEmpty,
                    detail: (names.isEmpty ? "none" : names.joined(separator: ", ")) + (missing.isEmpty ? "" : "; missing: \(missing.joined(separator: ", "))"),
                    fix: missing.first.map { "lambda-deploy deploy --alias \($0)\(project.config.isProtected($0) ? " (from CI, or with --override-protection)" : "")" }))
                if let gateway = project.config.gateway {
                    let apiName = gateway.api ?? "\(function)-api"
                    let apis = try await session.apiGateway.getRestApis().filter { $0.name == apiName }
                    if let api = apis.first {
                        let stages = try await session.apiGateway.getStages(restApiId: api.id)
                        var problems: [String] = []
                        for alias in gateway.aliases ?? ["dev", "prod"] {
                            guard let stage = stages.first(where: { $0.stageName == alias }) else { problems.append("no stage \(alias)"); continue }
                            if stage.variables?["alias"] != alias { problems.append("stage \(alias) lacks alias=\(alias)") }
                            let policy = try await session.lambdaClient.getPolicy(function, qualifier: alias) ?? ""
                            if !policy.contains(GatewayNames.statementId(apiId: api.id, stage: alias, method: gateway.method.uppercased(), path: gateway.path)) {
                                problems.append("no invoke permission for \(alias)")
                            }
                        }
                        checks.append(.init(name: "gateway", ok: problems.isEmpty, detail: problems.isEmpty ? "\(apiName) (\(api.id)): stages wired to their aliases, permissions in place" : problems.joined(separator: "; "), fix: "lambda-deploy gateway setup"))
                    } else {
                        checks.append(.init(name: "gateway", ok: false, detail: "no REST API named \(apiName)", fix: "lambda-deploy gateway setup"))
                    }
                }
            } catch {
                checks.append(.init(name: "function", ok: false, detail: Self.message(error), fix: "check the function name and region in lambda-deploy.yml, or create the function"))
            }
        }

        if let repository = project.repository {
            let ledger = Ledger(repository: repository, notesRef: project.config.notes.ref)
            do {
                let count = try ledger.count()
                checks.append(.init(name: "records (local)", ok: true, detail: "\(count) record(s) in \(project.config.notes.ref)", fix: nil))
            } catch {
                checks.append(.init(name: "records (local)", ok: false, detail: Self.message(error), fix: "repair or remove \(project.config.notes.ref) as the message says"))
            }
            let remote = project.config.notes.remote
            switch repository.remoteHasRef(project.config.notes.ref, remote: remote, environment: environment.variables) {
            case .some(true): checks.append(.init(name: "records (\(remote))", ok: true, detail: "\(remote) has \(project.config.notes.ref)", fix: nil))
            case .some(false): checks.append(.init(name: "records (\(remote))", ok: false, detail: "\(remote) has no \(project.config.notes.ref) yet", fix: "lambda-deploy notes push"))
            case .none: checks.append(.init(name: "records (\(remote))", ok: true, detail: "no remote \(remote) reachable: records stay local", fix: nil))
            }
            let hooks = (try? repository.hooksDirectory(environment: environment.variables)) ?? ""
            let hook = (try? String(contentsOfFile: hooks + "/pre-push", encoding: .utf8)) ?? ""
            let installed = hook.contains(HookManager.marker)
            checks.append(.init(name: "pre-push hook", ok: installed, detail: installed ? "installed in \(hooks)" : "not installed: pushes do not deploy \(project.config.hook.alias)", fix: "lambda-deploy hook install"))
        } else {
            checks.append(.init(name: "repository", ok: false, detail: "\(environment.currentDirectory) is not in a git repository: deploys cannot be recorded", fix: "run lambda-deploy from the function's repository"))
        }
        return DoctorReport(checks: checks)
    }
}
