import Testing
@testable import Safety

struct RefNameCase: Sendable, CustomTestStringConvertible {
    var name: String
    var valid: Bool
    var testDescription: String { "\(valid ? "valid" : "invalid"): \(name.debugDescription)" }
}

@Suite struct GitNameTests {
    // Each row mirrors a rule of git-check-ref-format(1); `git check-ref-format` agrees with the
    // valid column for every row (see `refNamesAgreeWithGit`).
    static let refs: [RefNameCase] = [
        .init(name: "refs/notes/deploys", valid: true),
        .init(name: "refs/notes/team/deploys-2", valid: true),
        .init(name: "refs/notes/a..b", valid: false),
        .init(name: "refs/notes/.hidden", valid: false),
        .init(name: "refs/notes/x.lock", valid: false),
        .init(name: "refs/notes/x/", valid: false),
        .init(name: "refs/notes//x", valid: false),
        .init(name: "refs/notes/x.", valid: false),
        .init(name: "refs/notes/a@{1}", valid: false),
        .init(name: "refs/notes/a b", valid: false),
        .init(name: "refs/notes/a~1", valid: false),
        .init(name: "refs/notes/a^", valid: false),
        .init(name: "refs/notes/a:b", valid: false),
        .init(name: "refs/notes/a?", valid: false),
        .init(name: "refs/notes/a*", valid: false),
        .init(name: "refs/notes/a[", valid: false),
        .init(name: "refs/notes/a\\b", valid: false),
        .init(name: "refs/notes/a\nb", valid: false),
        .init(name: "refs/notes/a\u{7f}", valid: false),
    ]

    @Test(arguments: refs) func refNames(_ row: RefNameCase) {
        #expect((GitNames.refProblem(row.name) == nil) == row.valid)
    }

    @Test(arguments: ["--upload-pack=touch /tmp/pwned", "-o", "", "a b", "origin\n", "evil://x", "notes/../x"])
    func remotesThatAreRefused(_ remote: String) {
        #expect(GitNames.remoteProblem(remote) != nil)
    }

    @Test(arguments: ["origin", "upstream", "team/fork", "https://github.com/o/r.git", "ssh://git@host/o/r", "git@github.com:o/r.git", "file:///tmp/remote.git"])
    func remotesThatAreAccepted(_ remote: String) {
        #expect(GitNames.remoteProblem(remote) == nil)
    }

    @Test func objectIDs() {
        #expect(GitNames.isObjectID(String(repeating: "a", count: 40)))
        #expect(GitNames.isObjectID(String(repeating: "0", count: 64)))
        #expect(!GitNames.isObjectID("--all"))
        #expect(!GitNames.isObjectID(String(repeating: "A", count: 40)))
        #expect(!GitNames.isObjectID("HEAD"))
    }

    @Test func branchNames() {
        #expect(GitNames.branchProblem("main") == nil)
        #expect(GitNames.branchProblem("release/1.2") == nil)
        #expect(GitNames.branchProblem("-main") != nil)
        #expect(GitNames.branchProblem("a..b") != nil)
    }
}

@Suite struct DisplayTextTests {
    @Test func escapesEveryControlCharacter() {
        let forged = "feature\n2099-01-01 pr:prod v999 deployed\u{1B}]0;title\u{07}\r\u{9B}31m\u{202E}"
        let shown = DisplayText.escaped(forged)
        #expect(!shown.contains("\n"))
        #expect(!shown.unicodeScalars.contains { DisplayText.needsEscape($0) })
        #expect(shown.hasPrefix("feature\\n2099"))
        #expect(shown.contains("\\e]0;title"))
    }

    @Test func plainTextIsUnchanged() {
        #expect(DisplayText.escaped("pr:prod v12 ünïcode") == "pr:prod v12 ünïcode")
    }

    @Test func excerptIsBounded() {
        #expect(DisplayText.excerpt(String(repeating: "x", count: 1000), limit: 50).count == 53)
    }
}

@Suite struct URLTextTests {
    @Test(arguments: [
        ("https://user:secret@ci.example.com/build/1", "https://***@ci.example.com/build/1"),
        ("see http://tok@host:8080?x=1 and ftp://a:b@c/", "see http://***@host:8080?x=1 and ftp://***@c/"),
        ("https://ci.example.com/build/1", "https://ci.example.com/build/1"),
        ("mail me at a@b.com, https://h/p@q", "mail me at a@b.com, https://h/p@q"),
        ("\"https://a:b@h\"", "\"https://***@h\""),
    ])
    func masksUserinfo(_ pair: (String, String)) {
        #expect(URLText.maskingUserinfo(pair.0) == pair.1)
    }
}

@Suite struct RedactorTests {
    let secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    let token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+token=="

    @Test func registeredValuesInEveryFormAreMasked() {
        let redactor = Redactor()
        redactor.register(secretKey)
        redactor.register(token)
        let encoded = Redactor.percentEncoded(token)
        let text = "key \(secretKey) token \(token) query X-Foo=\(encoded) json \"\(secretKey.replacingSlashes())\""
        let out = redactor.redact(text)
        #expect(!out.contains(secretKey))
        #expect(!out.contains(token))
        #expect(!out.contains(encoded))
        #expect(!out.contains("bPxRfiCYEXAMPLEKEY"))
    }

    @Test func shortValuesAreNotRegistered() {
        let redactor = Redactor()
        redactor.register("test")
        #expect(!redactor.holdsSecrets)
        #expect(redactor.redact("tests pass") == "tests pass")
    }

    @Test func signaturesTokensAndAuthorizationAreMaskedWithoutRegistration() {
        let signature = String(repeating: "0123456789abcdef", count: 4)
        let echoed = """
            <Error><Code>SignatureDoesNotMatch</Code><SignatureProvided>\(signature)</SignatureProvided>\
            <CanonicalRequest>PUT /b/k\nx-amz-security-token:FQoGZXIvYXdzEBYaDH\nhost:s3</CanonicalRequest></Error>
            Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261206/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=\(signature)
            https://h/p?X-Amz-Security-Token=abc%2Fdef&X-Amz-Signature=\(signature)&x=1
            """
        let out = Redactor().redact(echoed)
        #expect(!out.contains(signature))
        #expect(!out.contains("FQoGZXIvYXdzEBYaDH"))
        #expect(!out.contains("abc%2Fdef"))
        #expect(!out.contains("AKIDEXAMPLE/20261206"))
        #expect(out.contains("&x=1"))
        #expect(out.contains("SignatureDoesNotMatch"))
    }

    @Test func codeShaAndCommitIdsSurvive() {
        let sha = String(repeating: "ab", count: 32)
        let text = "s3://bucket/pr/\(sha).zip commit \(String(repeating: "c", count: 40)) CodeSha256 q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="
        #expect(Redactor().redact(text) == text)
    }

    @Test func userinfoIsMasked() {
        #expect(Redactor().redact("endpoint http://user:pw@127.0.0.1:5000") == "endpoint http://***@127.0.0.1:5000")
    }
}

@Suite struct LambdaNameTests {
    @Test func aliases() {
        #expect(LambdaNames.aliasProblem("dev") == nil)
        #expect(LambdaNames.aliasProblem("prod_2-a") == nil)
        #expect(LambdaNames.aliasProblem("") != nil)
        #expect(LambdaNames.aliasProblem("123") != nil)
        #expect(LambdaNames.aliasProblem("a b") != nil)
        #expect(LambdaNames.aliasProblem(String(repeating: "a", count: 129)) != nil)
    }

    @Test func versions() {
        #expect(LambdaNames.isVersion("12"))
        #expect(!LambdaNames.isVersion("$LATEST"))
        #expect(!LambdaNames.isVersion("012"))
        #expect(!LambdaNames.isVersion("-1"))
    }
}

extension String {
    func replacingSlashes() -> String { split(separator: "/", omittingEmptySubsequences: false).joined(separator: "\\/") }
}
