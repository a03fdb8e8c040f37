public import Foundation
internal import Digest

/// AWS Signature Version 4: a pure function of request, credentials, region, service and time.
///
/// Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
/// Each stage (canonical request, string to sign, signature) is exposed so tests can pin them
/// against the official suite one by one.
public enum SigV4 {
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// SHA-256 of the empty string: the payload hash of body-less requests.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// Hex SHA-256 of a body: the `x-amz-content-sha256` value and the canonical request's last line.
    public static func payloadHash(_ body: Data) -> String { SHA256.hex(body) }

    /// The payload hash of any body; a file is read in pieces (callers that know a file's hash
    /// pass it to `sign` instead). An unreadable file hashes as empty: sending it fails anyway.
    public static func payloadHash(_ body: HTTPBody) -> String {
        switch body {
        case .bytes(let data): return SHA256.hex(data)
        case .file(let path, _):
            guard let handle = FileHandle(forReadingAtPath: path) else { return emptyPayloadHash }
            defer { try? handle.close() }
            let hasher = SHA256Hasher()
            while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
            return Hex.encode(hasher.finalize())
        }
    }

    /// How the canonical URI is derived from the request's (already percent-encoded) path.
    ///
    /// Every service but S3 removes `.`/`..` segments, collapses `//`, and percent-encodes each
    /// segment *again*, so a Lambda ARN sent as `arn%3Aaws` signs as `arn%253Aaws`. S3 signs the
    /// path exactly as sent (encoded once), keeping `//` and `.`.
    public struct PathRule: Sendable, Equatable {
        public var normalize: Bool
        public var encode: Bool
        // Built only here (the memberwise initializer): callers pick `standard`, `s3` or `forService`.
        public static let standard = PathRule(normalize: true, encode: true)
        public static let s3 = PathRule(normalize: false, encode: false)
        public static func forService(_ service: String) -> PathRule { service == "s3" ? .s3 : .standard }
    }

    /// Every intermediate result of one signature.
    public struct Stages: Sendable, Equatable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
        public var signedHeaders: String
        public var credentialScope: String

        /// The `Authorization` header value.
        public func authorization(accessKeyId: String) -> String {
            "\(SigV4.algorithm) Credential=\(accessKeyId)/\(credentialScope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        }
    }

    /// Signs the given parts. `headers` are exactly the headers to sign (names in any case,
    /// duplicates allowed); `query` is the raw query string as sent (percent-encoded, no `?`).
    public static func stages(
        method: String, path: String, query: String?, headers: [(name: String, value: String)],
        payloadHash: String, secretAccessKey: String, region: String, service: String, date: Date,
        pathRule: PathRule
    ) -> Stages {
        let (signedHeaders, canonicalHeaders) = canonicalHeaders(headers)
        let canonicalRequest = [
            method.uppercased(),
            canonicalURI(path, rule: pathRule),
            canonicalQuery(query),
            canonicalHeaders,
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
        let stamp = timestamp(date)
        let day = String(stamp.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [algorithm, stamp, scope, SHA256.hex(canonicalRequest)].joined(separator: "\n")
        var key = HMACSHA256.authenticate(day, key: Array("AWS4\(secretAccessKey)".utf8))
        key = HMACSHA256.authenticate(region, key: key)
        key = HMACSHA256.authenticate(service, key: key)
        key = HMACSHA256.authenticate("aws4_request", key: key)
        let signature = Hex.encode(HMACSHA256.authenticate(stringToSign, key: key))
        return Stages(
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
            signedHeaders: signedHeaders, credentialScope: scope)
    }

    /// Query-string signing (presigned URLs): the signing parameters travel in the query and
    /// only `headers` are signed. Returns the stages and the query to send (`X-Amz-Signature` last).
    /// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
    public static func presign(
        method: String, path: String, query: String?, headers: [(name: String, value: String)], payloadHash: String,
        accessKeyId: String, secretAccessKey: String, sessionToken: String?, region: String, service: String, date: Date,
        expires: Int, pathRule: PathRule
    ) -> (stages: Stages, query: String) {
        let stamp = timestamp(date)
        let scope = "\(stamp.prefix(8))/\(region)/\(service)/aws4_request"
        let (signedHeaders, _) = canonicalHeaders(headers)
        var parameters = [
            ("X-Amz-Algorithm", algorithm), ("X-Amz-Credential", "\(accessKeyId)/\(scope)"), ("X-Amz-Date", stamp),
            ("X-Amz-SignedHeaders", signedHeaders), ("X-Amz-Expires", String(expires)),
        ]
        if let sessionToken { parameters.append(("X-Amz-Security-Token", sessionToken)) }
        let extra = parameters.map { "\($0.0)=\(uriEncode($0.1))" }.joined(separator: "&")
        let fullQuery = (query?.isEmpty ?? true) ? extra : "\(query ?? "")&\(extra)"
        let result = stages(
            method: method, path: path, query: fullQuery, headers: headers, payloadHash: payloadHash, secretAccessKey: secretAccessKey,
            region: region, service: service, date: date, pathRule: pathRule)
        return (result, fullQuery + "&X-Amz-Signature=\(result.signature)")
    }

    /// Headers that are never signed: they are set or rewritten by the HTTP stack or proxies.
    static let unsignedHeaders: Set<String> = ["authorization", "user-agent", "content-length", "expect", "connection", "x-amzn-trace-id"]

    /// Signs a real request: adds `X-Amz-Date`, `X-Amz-Content-SHA256` (always: S3 requires it,
    /// and moto's checker needs it for body-less requests), `X-Amz-Security-Token` (signed) and
    /// `Authorization`. `Host` is derived from the URL and signed but not added as a header
    /// (the HTTP stack sends it).
    public static func sign(
        _ request: HTTPRequest, credentials: AWSCredentials, region: String, service: String, date: Date,
        pathRule: PathRule? = nil, payloadHash: String? = nil
    ) -> HTTPRequest {
        var signed = request
        signed.headers.removeAll {
            ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "host"].contains($0.name.lowercased())
        }
        let hash = payloadHash ?? Self.payloadHash(request.body)
        signed.headers.append(("X-Amz-Date", timestamp(date)))
        signed.headers.append(("X-Amz-Content-SHA256", hash))
        if let token = credentials.sessionToken { signed.headers.append(("X-Amz-Security-Token", token)) }
        let components = URLComponents(url: request.url, resolvingAgainstBaseURL: false)
        let path = components?.percentEncodedPath ?? "/"
        let query = components?.percentEncodedQuery
        var toSign = signed.headers.filter { !unsignedHeaders.contains($0.name.lowercased()) }
        toSign.append(("host", hostHeader(request.url)))
        let result = stages(
            method: request.method, path: path.isEmpty ? "/" : path, query: query, headers: toSign,
            payloadHash: hash, secretAccessKey: credentials.secretAccessKey, region: region, service: service,
            date: date, pathRule: pathRule ?? .forService(service))
        signed.headers.append(("Authorization", result.authorization(accessKeyId: credentials.accessKeyId)))
        return signed
    }

    /// The `Host` header value: host, plus the port when it is not the scheme's default.
    public static func hostHeader(_ url: URL) -> String {
        let host = url.host ?? ""
        guard let port = url.port else { return host }
        let scheme = url.scheme?.lowercased()
        if (scheme == "https" && port == 443) || (scheme == "http" && port == 80) { return host }
        return "\(host):\(port)"
    }

    // MARK: Canonical parts

    /// `SignedHeaders` and the canonical header block: lowercase names, sorted; values trimmed
    /// with inner whitespace runs collapsed to one space; repeated headers joined with `,` in order.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (signed: String, block: String) {
        var values: [String: [String]] = [:]
        for (name, value) in headers {
            values[name.lowercased(), default: []].append(collapseWhitespace(value))
        }
        let names = values.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let block = names.map { "\($0):\(values[$0, default: []].joined(separator: ","))\n" }.joined()
        return (names.joined(separator: ";"), block)
    }

    static func collapseWhitespace(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            .joined(separator: " ")
    }

    /// The canonical URI (see `PathRule`).
    public static func canonicalURI(_ path: String, rule: PathRule) -> String {
        var path = path.isEmpty ? "/" : path
        if rule.normalize { path = normalizePath(path) }
        guard rule.encode else { return path }
        return path.split(separator: "/", omittingEmptySubsequences: false)
            .map { uriEncode(String($0)) }
            .joined(separator: "/")
    }

    /// RFC 3986 5.2.4 dot-segment removal plus collapsing of empty segments; keeps a trailing slash.
    static func normalizePath(_ path: String) -> String {
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        for segment in segments {
            switch segment {
            case ".": continue
            case "..": if !output.isEmpty { output.removeLast() }
            default: output.append(segment)
            }
        }
        var result = "/" + output.joined(separator: "/")
        let last = segments.last
        if !output.isEmpty, path.hasSuffix("/") || last == "." || last == ".." { result += "/" }
        return result
    }

    /// The canonical query: each name and value decoded then strictly re-encoded, pairs sorted by
    /// name then value (byte order), a missing `=` meaning an empty value.
    public static func canonicalQuery(_ query: String?) -> String {
        guard let query, !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&").map { item -> (String, String) in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = uriEncode(percentDecode(String(parts[0])))
            let value = parts.count > 1 ? uriEncode(percentDecode(String(parts[1]))) : ""
            return (name, value)
        }
        return pairs.sorted { lhs, rhs in
            lhs.0 == rhs.0
                ? Array(lhs.1.utf8).lexicographicallyPrecedes(Array(rhs.1.utf8))
                : Array(lhs.0.utf8).lexicographicallyPrecedes(Array(rhs.0.utf8))
        }
        .map { "\($0.0)=\($0.1)" }
        .joined(separator: "&")
    }

    private static let unreserved: Set<UInt8> = Set(
        Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8))
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// SigV4's URI encoding: every byte outside `A-Za-z0-9-._~` becomes `%XX` (uppercase hex).
    public static func uriEncode(_ string: String, keepSlash: Bool = false) -> String {
        var out: [UInt8] = []
        for byte in string.utf8 {
            if unreserved.contains(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `%XX` escapes; malformed escapes stay as they are. `+` stays `+` (AWS does not
    /// treat it as a space in the query).
    static func percentDecode(_ string: String) -> String {
        let bytes = Array(string.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `YYYYMMDD'T'HHMMSS'Z'` in UTC, computed arithmetically (no locale, no time zone database).
    public static func timestamp(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return pad(year, 4) + pad(month, 2) + pad(day, 2) + "T" + pad(secondOfDay / 3600, 2)
            + pad(secondOfDay % 3600 / 60, 2) + pad(secondOfDay % 60, 2) + "Z"
    }

    /// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
    private static func civilDate(daysSinceEpoch: Int64) -> (Int64, Int64, Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
