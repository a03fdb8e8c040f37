import Foundation
import Testing
@testable import AWSClient

/// The vendored SigV4 suite, read relative to this file.
enum Suite {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sigv4-suite")
    static let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// A raw HTTP request from the suite: request line, headers (with folded continuation lines), body.
    struct RawRequest {
        var method: String
        var path: String
        var query: String?
        var headers: [(name: String, value: String)]
        var body: String
    }

    static func parseRequest(_ text: String) throws -> RawRequest {
        var lines = text.components(separatedBy: "\n")
        let requestLine = lines.removeFirst()
        let firstSpace = try #require(requestLine.firstIndex(of: " "))
        let versionStart = try #require(requestLine.range(of: " HTTP/", options: .backwards))
        let method = String(requestLine[..<firstSpace])
        let target = String(requestLine[requestLine.index(after: firstSpace)..<versionStart.lowerBound])
        let path: String
        var query: String?
        if let mark = target.firstIndex(of: "?") {
            path = String(target[..<mark])
            query = String(target[target.index(after: mark)...])
        } else {
            path = target
        }
        var headers: [(name: String, value: String)] = []
        var bodyLines: [String] = []
        var inBody = false
        for line in lines {
            if inBody {
                bodyLines.append(line)
            } else if line.isEmpty {
                inBody = true
            } else if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += " " + line
            } else {
                let colon = try #require(line.firstIndex(of: ":"))
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        return RawRequest(method: method, path: path, query: query, headers: headers, body: bodyLines.joined(separator: "\n"))
    }
}

struct ClassicCase: Sendable, CustomTestStringConvertible {
    var directory: String
    var name: String { directory.components(separatedBy: "/").last ?? directory }
    var testDescription: String { directory }
}

/// Every case of the classic suite. botocore skips `normalize-path/get-space` (its HTTP parser
/// cannot read a space in the request line) and the three repeated-query-key cases (its SDK
/// cannot send them); our parser and signer handle all of them, so nothing is skipped here.
let classicCases: [ClassicCase] = [
    "get-header-key-duplicate", "get-header-value-multiline", "get-header-value-order", "get-header-value-trim", "get-unreserved",
    "get-utf8", "get-vanilla", "get-vanilla-empty-query-key", "get-vanilla-query", "get-vanilla-query-order-encoded",
    "get-vanilla-query-order-key", "get-vanilla-query-order-key-case", "get-vanilla-query-order-value",
    "get-vanilla-query-unreserved", "get-vanilla-utf8-query", "get-vanilla-with-session-token", "normalize-path/get-relative",
    "normalize-path/get-relative-relative", "normalize-path/get-slash", "normalize-path/get-slash-dot-slash",
    "normalize-path/get-slash-pointless-dot", "normalize-path/get-slashes", "normalize-path/get-space",
    "normalize-path/get-special-character", "post-header-key-case", "post-header-key-sort", "post-header-value-case",
    "post-sts-token/post-sts-header-after", "post-sts-token/post-sts-header-before", "post-vanilla",
    "post-vanilla-empty-query-value", "post-vanilla-query", "post-x-www-form-urlencoded", "post-x-www-form-urlencoded-parameters",
].map { ClassicCase(directory: $0) }

@Suite("SigV4 classic suite")
struct ClassicSuiteTests {
    @Test func suiteIsComplete() throws {
        // 34 cases per the README: a vendored case we forgot to list would otherwise go untested.
        let enumerator = FileManager.default.enumerator(atPath: Suite.root.appendingPathComponent("classic").path)
        let requests = (enumerator?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".req") }
        #expect(requests.count == 34)
        #expect(Set(requests.map { String($0.dropLast(4).split(separator: "/").dropLast().joined(separator: "/")) }) == Set(classicCases.map(\.directory)))
    }

    func stages(_ testCase: ClassicCase) throws -> SigV4.Stages {
        let base = "classic/\(testCase.directory)/\(testCase.name)"
        let request = try Suite.parseRequest(try Suite.text("\(base).req"))
        var headers = request.headers
        // The suite signs this case with temporary credentials whose token is not in the .req file
        // (its .sreq shows the header the signer adds).
        if testCase.name == "get-vanilla-with-session-token" {
            headers.append(("X-Amz-Security-Token", "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"))
        }
        return SigV4.stages(
            method: request.method, path: request.path, query: request.query, headers: headers,
            payloadHash: SHA256Hex.of(request.body), secretAccessKey: Suite.secret, region: "us-east-1", service: "service",
            date: Suite.date, pathRule: .standard)
    }

    @Test("canonical request", arguments: classicCases)
    func canonicalRequest(_ testCase: ClassicCase) throws {
        let expected = try Suite.text("classic/\(testCase.directory)/\(testCase.name).creq")
        #expect(try stages(testCase).canonicalRequest == expected)
    }

    @Test("string to sign", arguments: classicCases)
    func stringToSign(_ testCase: ClassicCase) throws {
        let expected = try Suite.text("classic/\(testCase.directory)/\(testCase.name).sts")
        #expect(try stages(testCase).stringToSign == expected)
    }

    @Test("Authorization header", arguments: classicCases)
    func authorization(_ testCase: ClassicCase) throws {
        let expected = try Suite.text("classic/\(testCase.directory)/\(testCase.name).authz")
        #expect(try stages(testCase).authorization(accessKeyId: "AKIDEXAMPLE") == expected)
    }
}

struct V4Case: Sendable, CustomTestStringConvertible {
    var name: String
    var testDescription: String { name }
}

struct V4Context: Decodable {
    struct Credentials: Decodable {
        var access_key_id: String
        var secret_access_key: String
        var token: String?
    }
    var credentials: Credentials
    var normalize: Bool
    var region: String
    var service: String
    var sign_body: Bool
    var omit_session_token: Bool?
    var expiration_in_seconds: Int
}

let v4Cases: [V4Case] = (try? FileManager.default.contentsOfDirectory(atPath: Suite.root.appendingPathComponent("v4").path))
    .map { $0.sorted().map(V4Case.init) } ?? []

@Suite("SigV4 v4 suite (aws-c-auth)")
struct V4SuiteTests {
    struct Loaded {
        var context: V4Context
        var request: Suite.RawRequest
        var token: String?
        var payloadHash: String
        var pathRule: SigV4.PathRule
    }

    func load(_ testCase: V4Case) throws -> Loaded {
        let context = try JSONDecoder().decode(V4Context.self, from: Data(try Suite.text("v4/\(testCase.name)/context.json").utf8))
        let request = try Suite.parseRequest(try Suite.text("v4/\(testCase.name)/request.txt"))
        // Our signer never normalizes without also re-encoding for non-S3; the suite's
        // `normalize: false` cases are the S3-style path rule *for normalization* (segments are still encoded).
        return Loaded(
            context: context, request: request, token: context.omit_session_token == true ? nil : context.credentials.token,
            payloadHash: SHA256Hex.of(request.body), pathRule: SigV4.PathRule(normalize: context.normalize, encode: true))
    }

    func headerStages(_ loaded: Loaded) -> SigV4.Stages {
        var headers = loaded.request.headers
        headers.append(("X-Amz-Date", "20150830T123600Z"))
        if let token = loaded.token { headers.append(("X-Amz-Security-Token", token)) }
        if loaded.context.sign_body { headers.append(("X-Amz-Content-Sha256", loaded.payloadHash)) }
        return SigV4.stages(
            method: loaded.request.method, path: loaded.request.path, query: loaded.request.query, headers: headers,
            payloadHash: loaded.payloadHash, secretAccessKey: loaded.context.credentials.secret_access_key, region: loaded.context.region,
            service: loaded.context.service, date: Suite.date, pathRule: loaded.pathRule)
    }

    @Test func suiteIsPresent() {
        #expect(v4Cases.count == 38)
    }

    @Test("header signing: canonical request, string to sign, signature", arguments: v4Cases)
    func headerSigning(_ testCase: V4Case) throws {
        let loaded = try load(testCase)
        let stages = headerStages(loaded)
        #expect(stages.canonicalRequest == (try Suite.text("v4/\(testCase.name)/header-canonical-request.txt")))
        #expect(stages.stringToSign == (try Suite.text("v4/\(testCase.name)/header-string-to-sign.txt")))
        #expect(stages.signature == (try Suite.text("v4/\(testCase.name)/header-signature.txt")))
        let signedRequest = try Suite.text("v4/\(testCase.name)/header-signed-request.txt")
        #expect(signedRequest.contains("Authorization:\(stages.authorization(accessKeyId: loaded.context.credentials.access_key_id))"))
    }

    @Test("query signing: canonical request, string to sign, signature", arguments: v4Cases)
    func querySigning(_ testCase: V4Case) throws {
        let loaded = try load(testCase)
        let (stages, query) = SigV4.presign(
            method: loaded.request.method, path: loaded.request.path, query: loaded.request.query, headers: loaded.request.headers,
            payloadHash: loaded.payloadHash, accessKeyId: loaded.context.credentials.access_key_id,
            secretAccessKey: loaded.context.credentials.secret_access_key, sessionToken: loaded.token, region: loaded.context.region,
            service: loaded.context.service, date: Suite.date, expires: loaded.context.expiration_in_seconds, pathRule: loaded.pathRule)
        #expect(stages.canonicalRequest == (try Suite.text("v4/\(testCase.name)/query-canonical-request.txt")))
        #expect(stages.stringToSign == (try Suite.text("v4/\(testCase.name)/query-string-to-sign.txt")))
        #expect(stages.signature == (try Suite.text("v4/\(testCase.name)/query-signature.txt")))
        #expect(query.hasSuffix("X-Amz-Signature=\(stages.signature)"))
    }
}

struct S3DocCase: Decodable, Sendable, CustomTestStringConvertible {
    var name: String
    var method: String
    var url: String
    var headers: [String: String]
    var body: String
    var canonical_request: String
    var string_to_sign: String
    var signature: String
    var testDescription: String { name }
}

let s3DocCases: [S3DocCase] = {
    struct File: Decodable { var cases: [S3DocCase] }
    guard let data = try? Data(contentsOf: Suite.root.appendingPathComponent("s3-doc-sigv4-examples.json")) else { return [] }
    return (try? JSONDecoder().decode(File.self, from: data).cases) ?? []
}()

@Suite("SigV4 S3 rule")
struct S3RuleTests {
    /// The S3 API reference's examples go through the real `sign` entry point: path signed as
    /// sent (encoded once), `x-amz-content-sha256` signed.
    @Test("S3 documentation examples", arguments: s3DocCases)
    func s3Examples(_ testCase: S3DocCase) throws {
        let url = try #require(URL(string: testCase.url))
        let credentials = AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", source: "test")
        let request = HTTPRequest(method: testCase.method, url: url, headers: testCase.headers.map { ($0.key, $0.value) }, body: .bytes(Data(testCase.body.utf8)))
        let date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
        let signed = SigV4.sign(request, credentials: credentials, region: "us-east-1", service: "s3", date: date)
        let authorization = try #require(signed.header("Authorization"))
        #expect(authorization.hasSuffix("Signature=\(testCase.signature)"))
        let parts = URLComponents(url: url, resolvingAgainstBaseURL: false)
        var headers = signed.headers.filter { $0.name.lowercased() != "authorization" }
        headers.append(("host", url.host ?? ""))
        let stages = SigV4.stages(
            method: testCase.method, path: parts?.percentEncodedPath ?? "/", query: parts?.percentEncodedQuery, headers: headers,
            payloadHash: SHA256Hex.of(testCase.body), secretAccessKey: credentials.secretAccessKey, region: "us-east-1", service: "s3",
            date: date, pathRule: .s3)
        #expect(stages.canonicalRequest == testCase.canonical_request)
        #expect(stages.stringToSign == testCase.string_to_sign)
    }

    @Test func s3ExamplesPresent() { #expect(s3DocCases.count == 4) }

    @Test func nonS3ServicesEncodePathSegmentsAgain() {
        let path = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Ademo/aliases/dev"
        #expect(
            SigV4.canonicalURI(path, rule: .forService("lambda"))
                == "/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A123456789012%253Afunction%253Ademo/aliases/dev")
        #expect(SigV4.canonicalURI("/bucket/a%3Ab//./c", rule: .forService("s3")) == "/bucket/a%3Ab//./c")
        #expect(SigV4.canonicalURI("/a//b/./c/../d/", rule: .forService("lambda")) == "/a/b/d/")
    }

    @Test func signAlwaysSignsContentHashAndSessionToken() throws {
        let url = try #require(URL(string: "http://127.0.0.1:5000/2015-03-31/functions/demo/configuration?Qualifier=%24LATEST"))
        let credentials = AWSCredentials(accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: "token", source: "test")
        let signed = SigV4.sign(HTTPRequest(method: "GET", url: url), credentials: credentials, region: "us-east-1", service: "lambda", date: Suite.date)
        #expect(signed.header("X-Amz-Content-SHA256") == SigV4.emptyPayloadHash)
        #expect(signed.header("X-Amz-Security-Token") == "token")
        #expect(signed.header("X-Amz-Date") == "20150830T123600Z")
        let authorization = try #require(signed.header("Authorization"))
        #expect(authorization.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"))
        #expect(authorization.contains("Credential=AKID/20150830/us-east-1/lambda/aws4_request"))
    }

    @Test("timestamps", arguments: [(0.0, "19700101T000000Z"), (951_782_400, "20000229T000000Z"), (4_102_444_799, "20991231T235959Z")])
    func timestamps(_ seconds: Double, _ expected: String) {
        #expect(SigV4.timestamp(Date(timeIntervalSince1970: seconds)) == expected)
    }
}

enum SHA256Hex {
    static func of(_ text: String) -> String { SigV4.payloadHash(Data(text.utf8)) }
}
