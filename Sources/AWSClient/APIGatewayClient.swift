import Foundation

/// A REST API. https://docs.aws.amazon.com/apigateway/latest/api/API_RestApi.html
public struct RestApi: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var description: String?
}

/// A resource (path) of a REST API; `resourceMethods` lists the HTTP methods defined on it.
public struct APIResource: Codable, Sendable, Equatable {
    public var id: String
    public var parentId: String?
    public var path: String
    public var pathPart: String?
    public var methods: [String]

    enum CodingKeys: String, CodingKey { case id, parentId, path, pathPart, resourceMethods }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        parentId = try container.decodeIfPresent(String.self, forKey: .parentId)
        path = try container.decode(String.self, forKey: .path)
        pathPart = try container.decodeIfPresent(String.self, forKey: .pathPart)
        methods = try container.decodeIfPresent([String: IgnoredJSON].self, forKey: .resourceMethods)?.keys.sorted() ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encodeIfPresent(parentId, forKey: .parentId)
        try container.encode(path, forKey: .path)
        try container.encodeIfPresent(pathPart, forKey: .pathPart)
    }
}

/// Accepts any JSON value and keeps nothing.
struct IgnoredJSON: Codable {
    init(from decoder: any Decoder) throws {}
    func encode(to encoder: any Encoder) throws {}
}

public struct APIIntegration: Codable, Sendable, Equatable {
    public var type: String?
    /// The integration's HTTP method (`integrationHttpMethod` in PutIntegration).
    public var httpMethod: String?
    public var uri: String?
}

public struct APIMethod: Codable, Sendable, Equatable {
    public var httpMethod: String
    public var authorizationType: String?
    public var methodIntegration: APIIntegration?
}

public struct APIDeployment: Codable, Sendable, Equatable {
    public var id: String
    public var description: String?
}

public struct APIStage: Codable, Sendable, Equatable {
    public var stageName: String
    public var deploymentId: String?
    public var variables: [String: String]?
}

/// One JSON Patch-like operation of UpdateStage.
/// https://docs.aws.amazon.com/apigateway/latest/api/patch-operations.html
public struct PatchOperation: Codable, Sendable, Equatable {
    public var op: String
    public var path: String
    public var value: String?
    public init(op: String = "replace", path: String, value: String?) {
        self.op = op
        self.path = path
        self.value = value
    }
}

struct ItemsPage<Item: Decodable>: Decodable {
    var item: [Item]?
    var position: String?
}

/// API Gateway's REST-JSON API (REST APIs, version 1), the calls `gateway setup` needs.
///
/// Create* calls are not idempotent (a repeated CreateRestApi makes a second API), so they are
/// retried only when the request certainly did not arrive; callers find-then-create.
public final class APIGatewayClient: Sendable {
    let core: ClientCore

    public init(_ configuration: AWSConfiguration) { core = ClientCore(configuration) }

    private func send<T: Decodable>(
        _ name: String, _ method: String, _ path: String, resource: String, query: [(String, String)] = [], body: Data? = nil,
        safety: RetrySafety = .idempotent, as type: T.Type
    ) async throws -> T {
        let operation = AWSOperation(
            service: .apiGateway, name: name, method: method, path: path, query: query,
            headers: body == nil ? [] : [("Content-Type", "application/json")], body: body ?? Data(), resource: resource, safety: safety)
        return try core.decode(type, from: try await core.send(operation), operation)
    }

    private func optional<T>(_ body: () async throws -> T) async throws -> T? {
        do { return try await body() } catch let error as AWSError where error.code == "NotFoundException" { return nil }
    }

    private static func e(_ part: String) -> String { SigV4.uriEncode(part) }

    private func allPages<Item: Decodable>(_ name: String, _ path: String, resource: String) async throws -> [Item] {
        try await ClientCore.allPages { position in
            var query = [("limit", "500")]
            if let position { query.append(("position", position)) }
            let page = try await send(name, "GET", path, resource: resource, query: query, as: ItemsPage<Item>.self)
            return (page.item ?? [], page.position)
        }
    }

    /// Every REST API of the account in this region (all pages).
    public func getRestApis() async throws -> [RestApi] {
        try await allPages("GetRestApis", "/restapis", resource: "REST APIs")
    }

    public func createRestApi(name: String, description: String? = nil) async throws -> RestApi {
        struct Body: Encodable {
            var name: String
            var description: String?
        }
        return try await send(
            "CreateRestApi", "POST", "/restapis", resource: "REST API '\(name)'", body: ClientCore.json(Body(name: name, description: description)),
            safety: .notIdempotent, as: RestApi.self)
    }

    public func getResources(restApiId: String) async throws -> [APIResource] {
        try await allPages("GetResources", "/restapis/\(Self.e(restApiId))/resources", resource: "REST API \(restApiId)")
    }

    public func createResource(restApiId: String, parentId: String, pathPart: String) async throws -> APIResource {
        try await send(
            "CreateResource", "POST", "/restapis/\(Self.e(restApiId))/resources/\(Self.e(parentId))", resource: "resource '\(pathPart)'",
            body: ClientCore.json(["pathPart": pathPart]), safety: .notIdempotent, as: APIResource.self)
    }

    private func methodPath(_ restApiId: String, _ resourceId: String, _ httpMethod: String) -> String {
        "/restapis/\(Self.e(restApiId))/resources/\(Self.e(resourceId))/methods/\(Self.e(httpMethod))"
    }

    /// The method, or nil when it is not defined.
    public func getMethod(restApiId: String, resourceId: String, httpMethod: String) async throws -> APIMethod? {
        try await optional {
            try await send(
                "GetMethod", "GET", methodPath(restApiId, resourceId, httpMethod), resource: "method \(httpMethod)", as: APIMethod.self)
        }
    }

    /// Defines a method with `authorizationType` (NONE: the Lambda does its own checks).
    public func putMethod(restApiId: String, resourceId: String, httpMethod: String, authorizationType: String = "NONE") async throws
        -> APIMethod
    {
        try await send(
            "PutMethod", "PUT", methodPath(restApiId, resourceId, httpMethod), resource: "method \(httpMethod)",
            body: ClientCore.json(["authorizationType": authorizationType]), as: APIMethod.self)
    }

    /// Lambda proxy integration: API Gateway always calls Lambda with POST, whatever the method.
    public func putIntegration(
        restApiId: String, resourceId: String, httpMethod: String, uri: String, type: String = "AWS_PROXY", integrationHttpMethod: String = "POST"
    ) async throws -> APIIntegration {
        try await send(
            "PutIntegration", "PUT", methodPath(restApiId, resourceId, httpMethod) + "/integration", resource: "integration of \(httpMethod)",
            body: ClientCore.json(["type": type, "httpMethod": integrationHttpMethod, "uri": uri]), as: APIIntegration.self)
    }

    public func createDeployment(restApiId: String, description: String? = nil) async throws -> APIDeployment {
        try await send(
            "CreateDeployment", "POST", "/restapis/\(Self.e(restApiId))/deployments", resource: "REST API \(restApiId)",
            body: ClientCore.json(["description": description ?? "lambda-deploy"]), safety: .notIdempotent, as: APIDeployment.self)
    }

    /// The stage, or nil when it does not exist.
    public func getStage(restApiId: String, stageName: String) async throws -> APIStage? {
        try await optional {
            try await send(
                "GetStage", "GET", "/restapis/\(Self.e(restApiId))/stages/\(Self.e(stageName))", resource: "stage '\(stageName)'",
                as: APIStage.self)
        }
    }

    public func getStages(restApiId: String) async throws -> [APIStage] {
        let page = try await send(
            "GetStages", "GET", "/restapis/\(Self.e(restApiId))/stages", resource: "REST API \(restApiId)", as: ItemsPage<APIStage>.self)
        return page.item ?? []
    }

    public func createStage(restApiId: String, stageName: String, deploymentId: String, variables: [String: String]) async throws -> APIStage {
        struct Body: Encodable {
            var stageName: String
            var deploymentId: String
            var variables: [String: String]
        }
        return try await send(
            "CreateStage", "POST", "/restapis/\(Self.e(restApiId))/stages", resource: "stage '\(stageName)'",
            body: ClientCore.json(Body(stageName: stageName, deploymentId: deploymentId, variables: variables)), safety: .notIdempotent,
            as: APIStage.self)
    }

    /// Applies patch operations to a stage (e.g. `replace /deploymentId`, `replace /variables/alias`).
    public func updateStage(restApiId: String, stageName: String, patchOperations: [PatchOperation]) async throws -> APIStage {
        struct Body: Encodable { var patchOperations: [PatchOperation] }
        return try await send(
            "UpdateStage", "PATCH", "/restapis/\(Self.e(restApiId))/stages/\(Self.e(stageName))", resource: "stage '\(stageName)'",
            body: ClientCore.json(Body(patchOperations: patchOperations)), as: APIStage.self)
    }

    /// Points an existing stage at a deployment and sets its variables, keeping the others.
    public func updateStage(restApiId: String, stageName: String, deploymentId: String?, variables: [String: String]) async throws -> APIStage {
        var operations = deploymentId.map { [PatchOperation(path: "/deploymentId", value: $0)] } ?? []
        for (name, value) in variables.sorted(by: { $0.key < $1.key }) {
            operations.append(PatchOperation(path: "/variables/\(name)", value: value))
        }
        return try await updateStage(restApiId: restApiId, stageName: stageName, patchOperations: operations)
    }
}
