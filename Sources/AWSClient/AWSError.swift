public import Foundation
internal import Safety

/// What a call was about, for error messages and logs.
public struct AWSCallContext: Sendable, Equatable {
    public var service: AWSService
    public var operation: String
    /// Human description of the target, e.g. "function 'demo'" or "alias 'prod' of function 'demo'".
    public var resource: String?
    public var region: String
    /// `host:port` the request went to.
    public var endpoint: String
    /// Where the credentials came from (never the credentials themselves).
    public var credentialSource: String
}

/// How the calls of one operation went: attempts, time, and whether any attempt may have been
/// applied by AWS although we saw no success (so the caller should check the end state).
public struct AttemptSummary: Sendable, Equatable {
    public var attempts: Int
    public var elapsed: Duration
    /// True when some attempt got no answer (timeout, dropped connection) or a 5xx after the
    /// request was sent: AWS may have done the work.
    public var mayHaveBeenApplied: Bool
    /// True when the call stopped because the attempt count or time budget ran out.
    public var retriesExhausted: Bool

    public init(attempts: Int = 1, elapsed: Duration = .zero, mayHaveBeenApplied: Bool = false, retriesExhausted: Bool = false) {
        self.attempts = attempts
        self.elapsed = elapsed
        self.mayHaveBeenApplied = mayHaveBeenApplied
        self.retriesExhausted = retriesExhausted
    }
}

/// The AWS module's one error type. `errorDescription` is one line naming the problem and the fix.
public enum AWSError: LocalizedError, Sendable {
    /// AWS answered with an error status (after any retries).
    case service(context: AWSCallContext, status: Int, code: String, message: String, summary: AttemptSummary)
    /// No HTTP answer (after any retries).
    case transport(context: AWSCallContext, failure: TransportFailure, summary: AttemptSummary)
    /// AWS answered 2xx but the body is not what the API documents.
    case malformedResponse(context: AWSCallContext, detail: String)
    /// The endpoint answered with a redirect (301, 302, 307...), which is never followed: the
    /// signed request must not go to another host. `location` is the host it pointed at;
    /// `bucketRegion` the region S3 says a bucket is in (its wrong-region redirect).
    case redirected(context: AWSCallContext, status: Int, location: String?, bucketRegion: String?)
    /// A key or token holds a line break or other control character; `name` says where it was read.
    case malformedCredential(name: String)
    /// UpdateFunctionCode finished with LastUpdateStatus Failed (or the function is in State Failed).
    case updateFailed(function: String, region: String, reason: String, code: String?)
    /// The waiter gave up.
    case waitTimedOut(function: String, region: String, after: Duration, lastStatus: String)
    case noCredentials(searched: [String])
    /// AWS_PROFILE / `--profile` names a profile that neither shared file defines.
    case unknownProfile(name: String, files: [String])
    case incompleteCredentials(source: String, problem: String)
    /// A malformed, unreadable or expired credentials/config/token file (line when known).
    case credentialsFile(path: String, line: Int?, problem: String)
    /// A profile's `credential_process` failed or printed something that is not credentials.
    /// `problem` never quotes the process's output (it holds secrets).
    case credentialProcess(profile: String, problem: String)
    /// A local file to upload cannot be read.
    case unreadableFile(path: String, problem: String)
    case noRegion(searched: [String])
    case invalidRegion(String, source: String)
    case invalidEndpoint(String, source: String)
    case invalidSetting(name: String, value: String, expected: String)

    /// The AWS error code (e.g. ResourceNotFoundException, PreconditionFailedException), for branching.
    public var code: String? {
        if case .service(_, _, let code, _, _) = self { return code }
        return nil
    }

    /// Whether a write was refused because its precondition no longer held: a RevisionId that
    /// changed (PreconditionFailedException) or PublishVersion's CodeSha256 differing from
    /// `$LATEST` (AWS answers InvalidParameterValueException "CodeSHA256 (...) is different from
    /// current CodeSHA256 in $LATEST"). The workflow re-reads the state and retries its step.
    public var isPreconditionFailed: Bool {
        guard case .service(_, _, let code, let message, _) = self else { return false }
        return code == "PreconditionFailedException" || Self.isCodeSha256Mismatch(code: code, message: message)
    }

    static func isCodeSha256Mismatch(code: String, message: String) -> Bool {
        code == "InvalidParameterValueException" && message.lowercased().contains("is different from current codesha256")
    }

    public var httpStatus: Int? {
        if case .service(_, let status, _, _, _) = self { return status }
        return nil
    }

    public var context: AWSCallContext? {
        switch self {
        case .service(let context, _, _, _, _), .transport(let context, _, _), .malformedResponse(let context, _),
            .redirected(let context, _, _, _):
            context
        default: nil
        }
    }

    /// Whether trying the same call again later might succeed (throttling, 5xx, network, conflicts).
    public var isRetryable: Bool {
        switch self {
        case .service(_, let status, let code, _, _):
            ErrorClassifier.isThrottling(status: status, code: code) || status >= 500 || code == "ResourceConflictException"
        case .transport(_, let failure, _): ![.unknownHost, .tls].contains(failure.kind)
        default: false
        }
    }

    /// Whether AWS may have applied the call although it failed (an attempt timed out, lost its
    /// connection, or got a 5xx). After such a failure of a write, read the resource back.
    public var mayHaveBeenApplied: Bool {
        switch self {
        case .service(_, _, _, _, let summary), .transport(_, _, let summary): summary.mayHaveBeenApplied
        default: false
        }
    }

    public var errorDescription: String? {
        switch self {
        case .service(let context, let status, let code, let message, let summary):
            return Self.describe(context: context, status: status, code: code, message: message, summary: summary)
        case .transport(let context, let failure, let summary):
            return Self.describe(context: context, failure: failure, summary: summary)
        case .malformedResponse(let context, let detail):
            return "unexpected answer from \(context.service.displayName) \(context.operation) at \(context.endpoint) (\(detail)): check that the endpoint is really \(context.service.displayName)"
        case .redirected(let context, let status, let location, let bucketRegion):
            let call = "\(context.service.displayName) \(context.operation)\(context.resource.map { " for \($0)" } ?? "")"
            if let bucketRegion, bucketRegion != context.region {
                return "\(call) was redirected (HTTP \(status)): the bucket is in region \(bucketRegion), not \(context.region); Lambda reads code only from a bucket in the function's region: use a bucket in \(context.region) (s3Bucket / --s3-bucket)"
            }
            let target = location.map { " to \($0)" } ?? ""
            return "\(call) at \(context.endpoint) was redirected (HTTP \(status))\(target); lambda-deploy never follows redirects (the signed request would go elsewhere): check --endpoint-url / AWS_ENDPOINT_URL and the region"
        case .malformedCredential(let name):
            return "\(name) contains a line break or other control character (pasted with its newline?): set it again without it"
        case .updateFailed(let function, let region, let reason, let code):
            return "Lambda could not update function '\(function)' in \(region): \(reason)\(code.map { " (\($0))" } ?? ""); fix the cause and deploy again"
        case .waitTimedOut(let function, let region, let after, let lastStatus):
            return "function '\(function)' in \(region) was still \(lastStatus) after \(Int(seconds(after))) s: check the function in the Lambda console and retry"
        case .noCredentials(let searched):
            return "no AWS credentials found (looked in: \(searched.joined(separator: "; "))): set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run `aws configure`"
        case .unknownProfile(let name, let files):
            return "AWS profile '\(name)' (from AWS_PROFILE or --profile) is not defined in \(files.joined(separator: " or ")): check the name (`aws configure list-profiles`) or create it with `aws configure --profile \(name)`"
        case .incompleteCredentials(let source, let problem):
            return "incomplete AWS credentials in \(source): \(problem); set both or neither"
        case .credentialsFile(let path, let line, let problem):
            return "\(path)\(line.map { ":\($0)" } ?? ""): \(problem)"
        case .credentialProcess(let profile, let problem):
            return "credential_process of AWS profile \(profile): \(problem)"
        case .unreadableFile(let path, let problem):
            return "\(path): \(problem); check that it exists and is readable"
        case .noRegion(let searched):
            return "no AWS region set (looked in: \(searched.joined(separator: ", "))): pass --region or set AWS_REGION"
        case .invalidRegion(let region, let source):
            return "'\(region)' (from \(source)) is not an AWS region name: use one like us-east-1"
        case .invalidEndpoint(let value, let source):
            return "malformed endpoint URL '\(value)' (from \(source)): use an absolute http(s) URL such as http://127.0.0.1:5000 (no user or password in it)"
        case .invalidSetting(let name, let value, let expected):
            return "\(name)='\(value)' is invalid: expected \(expected)"
        }
    }

    private static func describe(context: AWSCallContext, failure: TransportFailure, summary: AttemptSummary) -> String {
        let tries = summary.attempts > 1 ? " after \(summary.attempts) attempts" : ""
        let call = "\(context.service.displayName) \(context.operation)"
        let detail = failure.detail.isEmpty ? "" : ": \(DisplayText.excerpt(failure.detail, limit: 160))"
        switch failure.kind {
        case .connectionRefused:
            return "cannot connect to \(context.endpoint) (connection refused) for \(call)\(tries): check --endpoint-url / AWS_ENDPOINT_URL and that the service is running"
        case .unknownHost:
            return "cannot resolve host \(context.endpoint) for \(call): check --endpoint-url / AWS_ENDPOINT_URL, the region and your network"
        case .timedOut:
            let (what, knob) =
                switch failure.bound {
                case .connect: ("could not connect in time", "LAMBDA_DEPLOY_CONNECT_TIMEOUT")
                case .stall: ("the transfer stalled (no byte moved)", "LAMBDA_DEPLOY_STALL_TIMEOUT")
                case .budget: ("the call's time budget ran out", "LAMBDA_DEPLOY_RETRY_BUDGET")
                case .answer, nil: ("no complete answer in time", "LAMBDA_DEPLOY_HTTP_TIMEOUT")
                }
            return "no answer from \(context.endpoint) for \(call)\(tries) (timed out: \(what)): check the network, or raise \(knob)"
        case .tls:
            let host = context.endpoint.split(separator: ":").first.map(String.init) ?? context.endpoint
            return "TLS with \(context.endpoint) failed for \(call)\(detail); if the certificate of \(host) is not trusted (a TLS-inspecting proxy or a private CA), point AWS_CA_BUNDLE at a PEM file with its CA certificate"
        case .proxy:
            return "the proxy failed for \(call) to \(context.endpoint)\(tries)\(detail): check HTTPS_PROXY / HTTP_PROXY, and NO_PROXY for hosts to reach directly"
        case .malformedAnswer:
            return "the answer from \(context.endpoint) for \(call)\(tries) is not a usable HTTP answer\(detail): check that --endpoint-url / AWS_ENDPOINT_URL points at \(context.service.displayName)"
        case .connectionLost, .other:
            return "network error talking to \(context.endpoint) for \(call)\(tries) (\(failure.kind.rawValue)\(detail)): check the network and retry"
        }
    }

    private static func describe(context: AWSCallContext, status: Int, code: String, message: String, summary: AttemptSummary) -> String {
        let target = context.resource.map { " for \($0)" } ?? ""
        let call = "\(context.service.displayName) \(context.operation)\(target)"
        let detail = message.isEmpty ? "" : ": \(message)"
        let tries = summary.attempts > 1 ? " after \(summary.attempts) attempts in \(String(format: "%.1f", seconds(summary.elapsed))) s" : ""
        switch code {
        case "ResourceNotFoundException", "NotFoundException", "NoSuchBucket", "NoSuchKey", "NotFound":
            let what = context.resource ?? "the resource"
            return "\(what) not found in region \(context.region) (\(context.service.displayName) \(context.operation)): check the name and --region, or create it first"
        case "AccessDeniedException", "AccessDenied", "AuthorizationErrorException":
            return "access denied: the credentials from \(context.credentialSource) may not call \(context.service.rawValue):\(context.operation)\(target); grant that action in their IAM policy"
        case "InvalidSignatureException", "SignatureDoesNotMatch", "IncompleteSignatureException", "IncompleteSignature":
            return "AWS rejected the request signature of \(call) (\(code)): check the secret access key from \(context.credentialSource) and the system clock"
        case "UnrecognizedClientException", "InvalidClientTokenId", "InvalidAccessKeyId":
            return "AWS does not recognise the access key from \(context.credentialSource) (\(code)) in \(call): check the credentials and the region/endpoint"
        case "ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired":
            return "the credentials from \(context.credentialSource) have expired (\(code)): refresh them and retry"
        case "ResourceConflictException", "ConflictException":
            return "\(call) conflicts with the current state\(detail)\(tries): wait for the other operation to finish and retry"
        case _ where isCodeSha256Mismatch(code: code, message: message):
            return "\(call) was refused: $LATEST no longer holds the uploaded code (another deploy changed it)\(tries); run the command again"
        case "PreconditionFailedException":
            return "\(call) was refused because the resource changed since it was read (\(code))\(tries): run the command again"
        default:
            if ErrorClassifier.isThrottling(status: status, code: code) {
                return "AWS throttled \(call) (\(code))\(tries): retry later, or raise LAMBDA_DEPLOY_RETRY_BUDGET"
            }
            if status >= 500 {
                return "\(context.service.displayName) failed with HTTP \(status) (\(code)) on \(call)\(tries)\(detail): retry later"
            }
            return "\(call) failed with HTTP \(status) \(code)\(detail)"
        }
    }
}

/// Classification of AWS error responses shared by the retry loop and `AWSError`.
enum ErrorClassifier {
    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException",
    ]

    static func isThrottling(status: Int, code: String) -> Bool {
        status == 429 || throttlingCodes.contains(code)
    }

    /// Extracts the error code and message from an AWS error response: `x-amzn-ErrorType` header,
    /// JSON `__type`/`code`/`message`/`Message`, or XML `<Code>`/`<Message>` (S3, STS, IAM, and
    /// moto's errors for every service).
    static func parse(_ response: HTTPResponse) -> (code: String, message: String) {
        var code = response.header("x-amzn-errortype").map(cleanCode) ?? ""
        var message = ""
        if let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any] {
            if code.isEmpty, let type = (object["__type"] ?? object["code"] ?? object["Code"]) as? String { code = cleanCode(type) }
            message = (object["message"] ?? object["Message"] ?? object["errorMessage"]) as? String ?? ""
        } else if let text = String(data: response.body, encoding: .utf8), text.contains("<") {
            if code.isEmpty, let value = XMLText.first("Code", in: text) { code = value }
            message = XMLText.first("Message", in: text) ?? ""
        }
        if code.isEmpty {
            code =
                switch response.status {
                case 400: "BadRequest"
                case 403: "AccessDenied"
                case 404: "NotFound"
                case 409: "Conflict"
                case 429: "TooManyRequestsException"
                default: "HTTP\(response.status)"
                }
        }
        return (serverText(code, limit: 100), serverText(message, limit: 500))
    }

    /// Text from a server's answer as it may appear in a message: secrets the process holds
    /// removed (an S3 SignatureDoesNotMatch echoes the canonical request, session token
    /// included), line breaks as spaces, other control characters escaped, length bounded.
    static func serverText(_ text: String, limit: Int) -> String {
        DisplayText.excerpt(Redactor.shared.redact(text).replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " "), limit: limit)
    }

    /// `ResourceNotFoundException:http://internal.amazon.com/...` and `com.amazon.coral#Foo` -> the bare code.
    static func cleanCode(_ raw: String) -> String {
        var code = Substring(raw)
        if let colon = code.firstIndex(of: ":") { code = code[..<colon] }
        if let hash = code.lastIndex(of: "#") { code = code[code.index(after: hash)...] }
        return code.trimmingCharacters(in: .whitespaces)
    }
}

/// Tiny text-level XML reading for the flat answers of S3, STS and IAM (no DTDs, no namespaces needed).
enum XMLText {
    /// The text of the first `<tag>` element, entities decoded.
    static func first(_ tag: String, in text: String) -> String? {
        all(tag, in: text).first
    }

    static func all(_ tag: String, in text: String) -> [String] {
        var results: [String] = []
        var rest = text[...]
        let open = "<\(tag)>"
        let close = "</\(tag)>"
        while let start = rest.range(of: open) {
            guard let end = rest.range(of: close, range: start.upperBound..<rest.endIndex) else { break }
            results.append(decode(String(rest[start.upperBound..<end.lowerBound])))
            rest = rest[end.upperBound...]
        }
        return results
    }

    static func decode(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
