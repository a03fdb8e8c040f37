import Foundation

/// STS over the Query protocol (form-encoded POST, XML answers), API version 2011-06-15.
///
/// https://docs.aws.amazon.com/STS/latest/APIReference/
public final class STSClient: Sendable {
    let core: ClientCore

    public init(_ configuration: AWSConfiguration) { core = ClientCore(configuration) }

    private func operation(_ action: String, _ parameters: [(String, String)], signed: Bool = true) -> AWSOperation {
        AWSOperation(
            service: .sts, name: action, method: "POST", path: "/",
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: ClientCore.form([("Action", action), ("Version", "2011-06-15")] + parameters), signed: signed)
    }

    /// The account and ARN of the credentials (used for ARNs, and by `doctor`).
    public func getCallerIdentity() async throws -> (account: String, arn: String) {
        let operation = operation("GetCallerIdentity", [])
        let text = String(decoding: try await core.send(operation).body, as: UTF8.self)
        guard let account = XMLText.first("Account", in: text), let arn = XMLText.first("Arn", in: text) else {
            throw AWSError.malformedResponse(context: core.context(operation, url: nil), detail: "no Account/Arn in GetCallerIdentity")
        }
        return (account, arn)
    }

    /// Assumes a role with the credentials this client signs with (a profile's `role_arn` with
    /// `source_profile`).
    /// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
    public func assumeRole(_ request: AssumeRoleRequest) async throws -> AWSCredentials {
        var parameters = [("RoleArn", request.roleArn), ("RoleSessionName", request.sessionName)]
        if let externalId = request.externalId { parameters.append(("ExternalId", externalId)) }
        if let duration = request.durationSeconds { parameters.append(("DurationSeconds", String(duration))) }
        var operation = operation("AssumeRole", parameters)
        operation.resource = "role \(request.roleArn)"
        return try await temporaryCredentials(operation, source: "role \(request.roleArn)")
    }

    /// Exchanges an OIDC token (GitHub Actions, EKS) for temporary credentials. The call is
    /// unsigned: the token is the proof.
    /// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
    public func assumeRoleWithWebIdentity(roleArn: String, sessionName: String, webIdentityToken: String) async throws -> AWSCredentials {
        var operation = operation(
            "AssumeRoleWithWebIdentity",
            [("RoleArn", roleArn), ("RoleSessionName", sessionName), ("WebIdentityToken", webIdentityToken)], signed: false)
        operation.resource = "role \(roleArn)"
        return try await temporaryCredentials(operation, source: "web identity (\(roleArn))")
    }

    /// The `Credentials` element of an AssumeRole* answer.
    private func temporaryCredentials(_ operation: AWSOperation, source: String) async throws -> AWSCredentials {
        let text = String(decoding: try await core.send(operation).body, as: UTF8.self)
        guard let keyId = XMLText.first("AccessKeyId", in: text), let secret = XMLText.first("SecretAccessKey", in: text) else {
            throw AWSError.malformedResponse(context: core.context(operation, url: nil), detail: "no Credentials in \(operation.name)")
        }
        return try AWSCredentials(
            accessKeyId: keyId, secretAccessKey: secret, sessionToken: XMLText.first("SessionToken", in: text),
            expiration: XMLText.first("Expiration", in: text).flatMap(parseISO8601), source: source
        ).vetted(
            .init(
                keyId: "AccessKeyId in the \(operation.name) answer", secret: "SecretAccessKey in the \(operation.name) answer",
                token: "SessionToken in the \(operation.name) answer"))
    }
}
