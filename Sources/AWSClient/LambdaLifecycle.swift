public import Foundation

/// The account's code storage, from GetAccountSettings (the limit is read, never assumed: it is
/// 75 GB by default and can be raised).
/// https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html
public struct AccountStorage: Sendable, Equatable, Encodable {
    public var used: Int64
    public var limit: Int64?

    public init(used: Int64, limit: Int64?) {
        self.used = used
        self.limit = limit
    }
}

/// What Invoke answered: the payload and, when the function failed, Lambda's error kind
/// (`X-Amz-Function-Error: Unhandled` or `Handled`).
/// https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
public struct InvokeResult: Sendable, Equatable {
    public var statusCode: Int
    public var functionError: String?
    public var payload: Data

    public init(statusCode: Int, functionError: String?, payload: Data) {
        self.statusCode = statusCode
        self.functionError = functionError
        self.payload = payload
    }
}

struct AccountSettingsResponse: Decodable {
    struct Limit: Decodable {
        var totalCodeSize: Int64?
        enum CodingKeys: String, CodingKey { case totalCodeSize = "TotalCodeSize" }
    }
    struct Usage: Decodable {
        var totalCodeSize: Int64?
        enum CodingKeys: String, CodingKey { case totalCodeSize = "TotalCodeSize" }
    }
    var accountLimit: Limit?
    var accountUsage: Usage?
    enum CodingKeys: String, CodingKey { case accountLimit = "AccountLimit", accountUsage = "AccountUsage" }
}

struct ProvisionedConcurrencyPage: Decodable {
    struct Config: Decodable {
        var functionArn: String?
        enum CodingKeys: String, CodingKey { case functionArn = "FunctionArn" }
    }
    var configs: [Config]?
    var nextMarker: String?
    enum CodingKeys: String, CodingKey { case configs = "ProvisionedConcurrencyConfigs", nextMarker = "NextMarker" }
}

extension LambdaClient {
    /// Deletes one published version. A version that is already gone is not an error (AWS
    /// answers 204 or 404 for it); a version an alias still points at fails with Lambda's 409,
    /// which the caller reads as "in use".
    public func deleteVersion(_ function: String, version: String) async throws {
        do {
            _ = try await core.send(
                operation(
                    "DeleteFunction", "DELETE", path(function), resource: "version \(version) of function '\(function)'",
                    query: [("Qualifier", version)]))
        } catch let error as AWSError where error.code == "ResourceNotFoundException" && !Self.isFunctionMissing(error) {
            return
        }
    }

    /// The account's code storage used and its limit.
    public func accountStorage() async throws -> AccountStorage {
        let settings = try await call(
            AWSOperation(service: .lambda, name: "GetAccountSettings", method: "GET", path: "/2016-08-19/account-settings/", resource: "the account"),
            as: AccountSettingsResponse.self)
        return AccountStorage(used: settings.accountUsage?.totalCodeSize ?? 0, limit: settings.accountLimit?.totalCodeSize)
    }

    /// The qualifiers (versions or aliases) with provisioned concurrency, all pages.
    public func provisionedConcurrencyQualifiers(_ function: String) async throws -> Set<String> {
        let qualifiers: [String] = try await ClientCore.allPages { marker in
            var query = [("List", "ALL"), ("MaxItems", "50")]
            if let marker { query.append(("Marker", marker)) }
            let page = try await call(
                operation(
                    "ListProvisionedConcurrencyConfigs", "GET", "/2019-09-30/functions/\(SigV4.uriEncode(function))/provisioned-concurrency",
                    resource: "function '\(function)'", query: query),
                as: ProvisionedConcurrencyPage.self)
            // arn:aws:lambda:REGION:ACCOUNT:function:NAME:QUALIFIER
            let qualifiers = (page.configs ?? []).compactMap {
                $0.functionArn?.split(separator: ":", omittingEmptySubsequences: false).dropFirst(7).first.map(String.init)
            }
            return (qualifiers, page.nextMarker)
        }
        return Set(qualifiers)
    }

    /// Invokes a version (never `$LATEST` implicitly) synchronously with `payload`.
    /// Not retried after it may have run: an invoke is not idempotent.
    public func invoke(_ function: String, qualifier: String, payload: Data) async throws -> InvokeResult {
        var invoke = operation(
            "Invoke", "POST", path(function, "/invocations"), resource: "version \(qualifier) of function '\(function)'",
            query: [("Qualifier", qualifier)], body: payload, safety: .notIdempotent)
        invoke.headers.append(("X-Amz-Invocation-Type", "RequestResponse"))
        let response = try await core.send(invoke)
        return InvokeResult(statusCode: response.status, functionError: response.header("x-amz-function-error"), payload: response.body)
    }
}
