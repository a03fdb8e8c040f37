import Foundation
import AWSClient

public struct GatewayRequest: Sendable {
    public var function: String?
    public var api: String?
    public var aliases: [String]?
    public var method: String?
    public var path: String?

    public init() {}
}

public struct GatewayReport: Encodable, Sendable {
    public struct Stage: Encodable, Sendable {
        public var stage: String
        public var alias: String
        public var invokeURL: String
        public var permissionStatementId: String
    }
    public var apiId: String
    public var apiName: String
    public var account: String
    public var region: String
    public var integrationURI: String
    public var stages: [Stage]
    /// What was created or changed; empty when the run changed nothing.
    public var changes: [String]
    public var lines: [String] = []

    enum CodingKeys: String, CodingKey { case apiId, apiName, account, region, integrationURI, stages, changes }
}

/// Pure pieces of the gateway set-up: names and ARNs, so they are tested without AWS.
public enum GatewayNames {
    /// `arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/arn:aws:lambda:REGION:ACCOUNT:function:NAME:${stageVariables.alias}/invocations`
    public static func integrationURI(region: String, account: String, function: String) -> String {
        "arn:aws:apigateway:\(region):lambda:path/2015-03-31/functions/arn:aws:lambda:\(region):\(account):function:\(function):${stageVariables.alias}/invocations"
    }

    /// `arn:aws:execute-api:REGION:ACCOUNT:API_ID/STAGE/METHOD/PATH`: this API, this stage only.
    public static func sourceArn(region: String, account: String, apiId: String, stage: String, method: String, path: String) -> String {
        let resource = path.hasPrefix("/") ? String(path.dropFirst()) : path
        return "arn:aws:execute-api:\(region):\(account):\(apiId)/\(stage)/\(method)/\(resource)"
    }

    /// A stable statement id (re-runs add nothing): letters, digits, `-` and `_`, at most 100.
    public static func statementId(apiId: String, stage: String, method: String, path: String) -> String {
        let raw = "lambda-deploy-\(apiId)-\(stage)-\(method)-\(path == "/" ? "root" : path)"
        let cleaned = String(raw.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "_" })
        return String(cleaned.prefix(100))
    }

    /// Whether a resource policy document (GetPolicy's `Policy` string) has a statement `id`.
    public static func policy(_ document: String?, hasStatement id: String) -> Bool {
        guard let document, let parsed = try? JSONSerialization.jsonObject(with: Data(document.utf8)),
            let statements = (parsed as? [String: Any])?["Statement"] as? [[String: Any]]
        else { return false }
        return statements.contains { $0["Sid"] as? String == id }
    }

    public static func invokeURL(apiId: String, region: String, stage: String, path: String) -> String {
        "https://\(apiId).execute-api.\(region).amazonaws.com/\(stage)\(path == "/" ? "/" : path)"
    }
}

/// `gateway setup`: the API Gateway side of the dev/prod workflow, idempotent.
public struct GatewaySetup {
    public let project: Project

    public init(project: Project) { self.project = project }

    /// Checks the request before any AWS call.
    public func check(_ request: GatewayRequest) throws {
        _ = try project.functionName(request.function)
        for alias in request.aliases ?? project.config.gateway?.aliases ?? [] { try validateAliasName(alias) }
    }

    public func run(_ request: GatewayRequest, services: Services) async throws -> GatewayReport {
        try check(request)
        let function = try project.functionName(request.function)
        let settings = project.config.gateway
        let aliases = request.aliases ?? settings?.aliases ?? ["dev", "prod"]
        for alias in aliases { try validateAliasName(alias) }
        let method = (request.method ?? settings?.method ?? "POST").uppercased()
        var path = request.path ?? settings?.path ?? "/"
        if !path.hasPrefix("/") { path = "/" + path }
        if path.count > 1, path.hasSuffix("/") { path.removeLast() }
        let apiName = request.api ?? settings?.api ?? "\(function)-api"

        let session = try services.requireSession()
        let region = session.region
        let gateway = session.apiGateway
        let account = try await session.sts.getCallerIdentity().account
        // Every alias must exist before a permission can name it as qualifier.
        for alias in aliases where try await session.lambda.alias(function, name: alias) == nil {
            throw WorkflowError.aliasNotFound(function: function, alias: alias)
        }
        var changes: [String] = []

        // The REST API, by name.
        let matching = try await gateway.getRestApis().filter { $0.name == apiName }
        guard matching.count <= 1 else {
            throw WorkflowError.duplicateRestAPIs(name: apiName, ids: matching.map(\.id))
        }
        let api: RestApi
        if let existing = matching.first {
            api = existing
        } else {
            api = try await gateway.createRestApi(name: apiName, description: "\(function) via lambda-deploy")
            changes.append("created REST API \(apiName) (\(api.id))")
        }

        // The resource at `path`, creating missing segments from the root down.
        var resources = try await gateway.getResources(restApiId: api.id)
        guard var parent = resources.first(where: { $0.path == "/" }) else {
            throw WorkflowError.missingRootResource(apiId: api.id)
        }
        var walked = ""
        for segment in path.split(separator: "/") {
            walked += "/" + segment
            if let found = resources.first(where: { $0.path == walked }) {
                parent = found
            } else {
                parent = try await gateway.createResource(restApiId: api.id, parentId: parent.id, pathPart: String(segment))
                resources.append(parent)
                changes.append("created resource \(walked)")
            }
        }
        let resource = parent

        // The method and its Lambda proxy integration to FUNCTION:${stageVariables.alias}.
        let uri = GatewayNames.integrationURI(region: region, account: account, function: function)
        var existingMethod = try await gateway.getMethod(restApiId: api.id, resourceId: resource.id, httpMethod: method)
        if existingMethod == nil {
            _ = try await gateway.putMethod(restApiId: api.id, resourceId: resource.id, httpMethod: method)
            changes.append("created method \(method) \(path)")
            existingMethod = try await gateway.getMethod(restApiId: api.id, resourceId: resource.id, httpMethod: method)
        }
        let integration = existingMethod?.methodIntegration
        if integration?.uri != uri || integration?.type != "AWS_PROXY" {
            _ = try await gateway.putIntegration(restApiId: api.id, resourceId: resource.id, httpMethod: method, uri: uri)
            changes.append("set the \(method) \(path) integration to \(function):${stageVariables.alias} (Lambda proxy)")
        }

        // One stage per alias, with alias=<alias>. A new deployment only when the API changed or a
        // stage is missing; existing stages are updated (UpdateStage), never re-created, so their
        // other variables survive.
        let stages = try await gateway.getStages(restApiId: api.id)
        var deploymentId: String?
        let apiChanged = !changes.isEmpty
        if apiChanged || aliases.contains(where: { alias in !stages.contains { $0.stageName == alias } }) {
            if !apiChanged, let reusable = stages.compactMap(\.deploymentId).first {
                deploymentId = reusable
            } else {
                deploymentId = try await gateway.createDeployment(restApiId: api.id, description: "lambda-deploy gateway setup").id
                changes.append("created a deployment of the API")
            }
        }
        var stageReports: [GatewayReport.Stage] = []
        for alias in aliases {
            if let stage = stages.first(where: { $0.stageName == alias }) {
                let needsVariable = stage.variables?["alias"] != alias
                let needsDeployment = apiChanged && deploymentId != nil && stage.deploymentId != deploymentId
                if needsVariable || needsDeployment {
                    _ = try await gateway.updateStage(
                        restApiId: api.id, stageName: alias, deploymentId: needsDeployment ? deploymentId : nil,
                        variables: needsVariable ? ["alias": alias] : [:])
                    changes.append("updated stage \(alias)" + (needsVariable ? " (alias=\(alias))" : "") + (needsDeployment ? " to the new deployment" : ""))
                }
            } else if let deploymentId {
                _ = try await gateway.createStage(restApiId: api.id, stageName: alias, deploymentId: deploymentId, variables: ["alias": alias])
                changes.append("created stage \(alias) with alias=\(alias)")
            }
            // This alias may be invoked by this API's own stage only.
            let statementId = GatewayNames.statementId(apiId: api.id, stage: alias, method: method, path: path)
            let sourceArn = GatewayNames.sourceArn(region: region, account: account, apiId: api.id, stage: alias, method: method, path: path)
            // Read the policy first: a re-run then writes nothing. (AddPermission's conflict on a
            // duplicate id stays the fallback; moto, for one, accepts duplicates silently.)
            let policy = try await session.lambdaClient.getPolicy(function, qualifier: alias)
            let added = GatewayNames.policy(policy, hasStatement: statementId)
                ? false
                : try await session.lambdaClient.addPermission(
                    function, qualifier: alias, statementId: statementId, action: "lambda:InvokeFunction",
                    principal: "apigateway.amazonaws.com", sourceArn: sourceArn)
            if added { changes.append("allowed stage \(alias) to invoke \(function):\(alias) (\(statementId))") }
            stageReports.append(.init(stage: alias, alias: alias, invokeURL: GatewayNames.invokeURL(apiId: api.id, region: region, stage: alias, path: path), permissionStatementId: statementId))
        }

        var report = GatewayReport(apiId: api.id, apiName: apiName, account: account, region: region, integrationURI: uri, stages: stageReports, changes: changes)
        report.lines = changes.isEmpty ? ["gateway \(apiName) (\(api.id)) is already set up: nothing changed"] : changes
        for stage in stageReports { report.lines.append("  \(stage.stage): \(stage.invokeURL)  -> \(function):\(stage.alias)") }
        return report
    }
}
