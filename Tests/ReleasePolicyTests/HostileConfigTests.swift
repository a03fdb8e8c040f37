import Foundation
import Safety
import Testing
@testable import ReleasePolicy

/// A config value written by someone with push access, meant to run code, confuse git, forge
/// output or crash the tool: each is refused when the file is read, with one line naming the key.
struct HostileValue: Sendable, CustomTestStringConvertible {
    var name: String
    var yaml: String
    /// The key path the message must name.
    var key: String
    /// Text the reason must contain (what is wrong or how to fix it).
    var reason: String
    var testDescription: String { name }
}

let megabyte = String(repeating: "a", count: 1_000_000)

let hostileValues: [HostileValue] = [
    // Values that reach git command lines.
    HostileValue(name: "notes.remote is a git option that runs a command",
                 yaml: "notes:\n  remote: \"--upload-pack=touch /tmp/pwned\"\n", key: "notes.remote", reason: "start with '-'"),
    HostileValue(name: "hook.remote is an ssh option", yaml: "hook: {remote: '-oProxyCommand=id'}\n", key: "hook.remote", reason: "start with '-'"),
    HostileValue(name: "notes.remote with a space", yaml: "notes: {remote: 'origin main'}\n", key: "notes.remote", reason: "spaces"),
    HostileValue(name: "notes.remote with an unknown URL scheme", yaml: "notes: {remote: 'ext::sh -c id'}\n", key: "notes.remote", reason: "remote"),
    HostileValue(name: "notes.ref is an option", yaml: "notes: {ref: '--output=/tmp/x'}\n", key: "notes.ref", reason: "refs/"),
    HostileValue(name: "notes.ref with ..", yaml: "notes: {ref: refs/notes/a..b}\n", key: "notes.ref", reason: "'..'"),
    HostileValue(name: "notes.ref ending in .lock", yaml: "notes: {ref: refs/notes/deploys.lock}\n", key: "notes.ref", reason: ".lock"),
    HostileValue(name: "notes.ref under refs/heads", yaml: "notes: {ref: refs/heads/main}\n", key: "notes.ref", reason: "refs/notes/"),
    HostileValue(name: "notes.ref with @{", yaml: "notes: {ref: 'refs/notes/x@{1}'}\n", key: "notes.ref", reason: "'@{'"),
    HostileValue(name: "hook branch glob is an option", yaml: "hook: {branches: ['--all']}\n", key: "hook.branches", reason: "start with '-'"),
    HostileValue(name: "branch pattern starts with -", yaml: "branches: {'-x': dev}\n", key: "branches.-x", reason: "start with '-'"),
    HostileValue(name: "literal branch git would refuse", yaml: "branches: {'a..b': dev}\n", key: "branches.a..b", reason: "'..'"),
    HostileValue(name: "literal tag git would refuse", yaml: "tags: {'v1:2': prod}\n", key: "tags.v1:2", reason: "':'"),
    HostileValue(name: "function hook branch is an option", yaml: "functions: [{name: f, hook: {branches: ['-f']}}]\n",
                 key: "functions[0].hook.branches", reason: "start with '-'"),
    // Names that reach AWS.
    HostileValue(name: "function name is an option", yaml: "function: '-rf'\n", key: "function", reason: "cannot start with '-'"),
    HostileValue(name: "function name with a space", yaml: "function: 'orders api'\n", key: "function", reason: "function names"),
    HostileValue(name: "functions entry name with a slash", yaml: "functions: [{name: 'a/b'}]\n", key: "functions[0].name", reason: "function names"),
    HostileValue(name: "region that is a host name", yaml: "region: 'evil.example/x'\n", key: "region", reason: "us-east-1"),
    HostileValue(name: "region with a newline", yaml: "region: \"us-east-1\\nX-Injected: 1\"\n", key: "region", reason: "U+000A"),
    HostileValue(name: "S3 bucket that is not a bucket name", yaml: "s3: {bucket: 'Evil_Bucket/..'}\n", key: "s3.bucket", reason: "bucket"),
    HostileValue(name: "alias with a newline in branches", yaml: "branches: {main: \"prod\\n\"}\n", key: "branches.main", reason: "U+000A"),
    HostileValue(name: "gateway alias all digits", yaml: "gateway: {aliases: ['42']}\n", key: "gateway.aliases", reason: "all digits"),
    // Control characters and terminal escapes.
    HostileValue(name: "directory with a terminal escape", yaml: "directory: \"src\\e[2J\"\n", key: "directory", reason: "U+001B"),
    HostileValue(name: "directory with NUL", yaml: "directory: \"src\\0x\"\n", key: "directory", reason: "U+0000"),
    HostileValue(name: "exclude pattern with a newline", yaml: "exclude: [\"*.md\\n!secret\"]\n", key: "exclude", reason: "U+000A"),
    HostileValue(name: "gateway api name with a bell", yaml: "gateway: {api: \"x\\a\"}\n", key: "gateway.api", reason: "U+0007"),
    HostileValue(name: "function with a right-to-left override", yaml: "function: \"a\\u202Eb\"\n", key: "function", reason: "U+202E"),
    HostileValue(name: "s3 prefix with a carriage return", yaml: "s3: {bucket: ok-bucket, prefix: \"a\\rb\"}\n", key: "s3.prefix", reason: "U+000D"),
    // Sizes and ranges.
    HostileValue(name: "a 1 MB function name", yaml: "function: \(megabyte)\n", key: "function", reason: "1000000 bytes"),
    HostileValue(name: "a 1 MB exclude pattern", yaml: "exclude:\n  - \(megabyte)\n", key: "exclude", reason: "1000000 bytes"),
    HostileValue(name: "hook.timeout 0", yaml: "hook: {timeout: 0}\n", key: "hook.timeout", reason: "between 1 and 3600"),
    HostileValue(name: "hook.timeout of a year", yaml: "hook: {timeout: 31536000}\n", key: "hook.timeout", reason: "between 1 and 3600"),
    HostileValue(name: "hook.timeout past Int", yaml: "hook: {timeout: 99999999999999999999999999}\n", key: "hook.timeout", reason: "whole number"),
    HostileValue(name: "parallel 0", yaml: "parallel: 0\n", key: "parallel", reason: "between 1 and 64"),
    HostileValue(name: "rate of no requests", yaml: "rateLimit: {requestsPerSecond: 0}\n", key: "rateLimit.requestsPerSecond", reason: "requests per second"),
    HostileValue(name: "rate that is not a number", yaml: "rateLimit: {requestsPerSecond: .nan}\n", key: "rateLimit.requestsPerSecond", reason: "a number"),
    HostileValue(name: "prune keeping nothing", yaml: "prune: {keep: 0}\n", key: "prune.keep", reason: "between 1 and"),
    // Paths that leave their directory.
    HostileValue(name: "build output outside the function", yaml: "build: {command: make, output: ../../etc}\n", key: "build.output", reason: "'..'"),
    HostileValue(name: "build output absolute", yaml: "build: {command: make, output: /tmp/out}\n", key: "build.output", reason: "absolute"),
    HostileValue(name: "build output is the directory itself", yaml: "build: {command: make, output: ./}\n", key: "build.output", reason: "the directory itself"),
    HostileValue(name: "build input outside", yaml: "build: {command: make, output: out, inputs: ['../secrets/*']}\n", key: "build.inputs", reason: "'..'"),
    HostileValue(name: "event file outside", yaml: "check: {eventFile: ../../etc/passwd}\n", key: "check.eventFile", reason: "'..'"),
    HostileValue(name: "lint allow outside", yaml: "lint: {allow: [/root/.ssh/id_rsa]}\n", key: "lint.allow", reason: "absolute"),
]

@Suite("Hostile config values")
struct HostileConfigTests {
    @Test("refused when read, in one line naming the key", arguments: hostileValues)
    func refused(_ c: HostileValue) throws {
        let error = #expect(throws: PolicyError.self) { try DeployConfig.parse(yaml: c.yaml, file: "lambda-deploy.yml") }
        let message = try #require(error?.errorDescription)
        #expect(message.contains("`\(c.key)`"), "\(message)")
        #expect(message.contains(c.reason), "\(message)")
        #expect(message.hasPrefix("lambda-deploy.yml:"), "\(message)")
        #expect(!message.unicodeScalars.contains(where: DisplayText.needsEscape), "one line, nothing raw: \(message)")
        #expect(message.count < 600, "a long value is cut short: \(message.count) characters")
    }

    @Test("the table is large enough to mean something")
    func coverage() {
        #expect(hostileValues.count >= 20)
    }

    @Test("an unknown key full of escapes is shown escaped, on one line, with the known keys")
    func hostileKey() throws {
        let error = #expect(throws: PolicyError.self) {
            try DeployConfig.parse(yaml: "\"\\e]0;pwned\\a\\nfake line\": 1\n", file: "lambda-deploy.yml")
        }
        let message = try #require(error?.errorDescription)
        #expect(message.contains("unknown key `\\e]0;pwned\\u{7}\\nfake line`"), "\(message)")
        #expect(!message.unicodeScalars.contains(where: DisplayText.needsEscape))
    }

    @Test("a long unknown key gets no suggestion; a 1 MB one is a syntax error, quickly")
    func hugeKeys() throws {
        let started = Date()
        let long = String(repeating: "k", count: 1000)
        let error = #expect(throws: PolicyError.self) { try DeployConfig.parse(yaml: "\(long): 1\n", file: "f.yml") }
        guard case let .unknownKey(_, _, _, suggestion, _) = error else {
            Issue.record("expected unknownKey, got \(String(describing: error))")
            return
        }
        #expect(suggestion == nil)
        #expect(error?.errorDescription?.contains("known keys here") == true)
        // YAML limits a simple key to 1024 characters: a longer one does not parse.
        let huge = #expect(throws: PolicyError.self) { try DeployConfig.parse(yaml: "\(megabyte): 1\n", file: "f.yml") }
        let message = try #require(huge?.errorDescription)
        #expect(message.hasPrefix("f.yml:1: YAML syntax error"), "\(message)")
        #expect(message.count < 400)
        #expect(Date().timeIntervalSince(started) < 30, "hang detector, not a timing target")
    }

    @Test("a file name with a newline cannot add a line to the message")
    func hostileFileName() throws {
        let error = #expect(throws: PolicyError.self) { try DeployConfig.parse(yaml: "regoin: x\n", file: "a\nb.yml") }
        let message = try #require(error?.errorDescription)
        #expect(message.hasPrefix("a\\nb.yml:1: unknown key `regoin`"))
    }

    @Test("a function entry cannot set keys that belong to the whole push", arguments: ["remote", "timeout", "blockPushOnFailure"])
    func pushKeysStayTopLevel(_ key: String) throws {
        let yaml = "functions:\n  - name: f\n    hook:\n      \(key): 1\n"
        let error = #expect(throws: PolicyError.self) { try DeployConfig.parse(yaml: yaml, file: "lambda-deploy.yml") }
        let message = try #require(error?.errorDescription)
        #expect(message.contains("`functions[0].hook.\(key)`"))
        #expect(message.contains("top-level `hook:`"))
    }

    @Test("good values of every checked kind still pass")
    func goodValuesPass() throws {
        let config = try DeployConfig.parse(yaml: """
            function: arn:aws:lambda:us-east-1:123456789012:function:orders-api
            directory: services/orders api
            region: us-gov-west-1
            s3: {bucket: my.deploy-bucket, prefix: lambda/}
            branches: {main: prod, 'release/*': staging, 'feature/ü-näme': dev}
            tags: {'v[0-9]*': prod}
            hook: {remote: 'git@github.com:acme/api.git', timeout: 3600, branches: ['**']}
            notes: {ref: refs/notes/lambda/deploys, remote: 'https://github.com/acme/api.git'}
            """, file: "lambda-deploy.yml")
        #expect(config.hook.remote == "git@github.com:acme/api.git")
        #expect(config.notes.ref == "refs/notes/lambda/deploys")
        #expect(config.region == "us-gov-west-1")
    }
}

/// YAML built to crash or stall the parser: bounded before Yams sees it, one line naming the
/// file and the limit.
struct HostileYAML: Sendable, CustomTestStringConvertible {
    var name: String
    var yaml: String
    /// Text the message must contain besides the file name.
    var expected: String
    var testDescription: String { name }
}

let hostileYAML: [HostileYAML] = [
    HostileYAML(name: "exclude of 5,000 brackets (10 KB)",
                yaml: "exclude: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n",
                expected: "nests deeper than 64 levels"),
    HostileYAML(name: "100,000 unclosed brackets", yaml: "exclude: " + String(repeating: "[", count: 100_000), expected: "nests deeper than 64 levels"),
    HostileYAML(name: "5,000 nested flow mappings",
                yaml: "check: {event: " + String(repeating: "{a: ", count: 5000) + "1" + String(repeating: "}", count: 5000) + "}\n",
                expected: "nests deeper than 64 levels"),
    HostileYAML(name: "3,000 compact block sequences", yaml: String(repeating: "- ", count: 3000) + "x\n", expected: "nests deeper than 64 levels"),
    HostileYAML(name: "500 levels of indentation",
                yaml: (0..<500).map { String(repeating: " ", count: $0) + "k:\n" }.joined(), expected: "nests deeper than 64 levels"),
    HostileYAML(name: "indentless sequences under keys",
                yaml: "k:\n" + (0..<200).map { String(repeating: " ", count: 2 * $0) + "- k:\n" }.joined(),
                expected: "nests deeper than 64 levels"),
    HostileYAML(name: "block entries inside flow sequences", yaml: "a:\n" + String(repeating: "  - [", count: 40) + "\n", expected: "nests deeper than 64 levels"),
    HostileYAML(name: "a file over 1 MiB", yaml: "# " + String(repeating: "x", count: 1 << 20) + "\n", expected: "bytes, over the 1048576-byte limit"),
    HostileYAML(name: "billion laughs", yaml: "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b]\n",
                expected: "anchors (&name) are not supported"),
    HostileYAML(name: "an alias as a value", yaml: "exclude: *patterns\n", expected: "aliases (*name) are not supported"),
    HostileYAML(name: "a tag", yaml: "function: !!binary aGVsbG8=\n", expected: "tags (!name) are not supported"),
]

@Suite("Hostile YAML")
struct HostileYAMLTests {
    @Test("refused before parsing, in one line naming the file and the limit", arguments: hostileYAML)
    func refused(_ c: HostileYAML) throws {
        let started = Date()
        let error = #expect(throws: PolicyError.self) { try DeployConfig.parse(yaml: c.yaml, file: "repo/lambda-deploy.yml") }
        let message = try #require(error?.errorDescription)
        #expect(message.hasPrefix("repo/lambda-deploy.yml"), "\(message)")
        #expect(message.contains(c.expected), "\(message)")
        #expect(!message.contains("\n"))
        #expect(Date().timeIntervalSince(started) < 30, "hang detector, not a timing target")
    }

    @Test("the message names the line where the limit is passed")
    func line() throws {
        let yaml = "function: f\nexclude:\n  - " + String(repeating: "[", count: 200) + "\n"
        let error = #expect(throws: PolicyError.self) { try DeployConfig.parse(yaml: yaml, file: "lambda-deploy.yml") }
        #expect(error == .configTooDeep(file: "lambda-deploy.yml", line: 3, limit: DeployConfig.maxNesting))
        #expect(error?.errorDescription == "lambda-deploy.yml:3: the YAML nests deeper than 64 levels, the limit for a config file; flatten it.")
    }

    @Test("brackets, quotes and comments in values do not count as nesting")
    func textIsNotNesting() throws {
        let deep = String(repeating: "[", count: 300)
        let config = try DeployConfig.parse(yaml: """
            # \(deep)
            exclude:
              - '\(deep)'
              - "\(deep)"
              - x\(deep)
            build:
              command: |
                if [ -f x ]; then echo '\(deep)'; fi
                \(deep)
              output: build
            """, file: "lambda-deploy.yml")
        #expect(config.exclude.count == 3)
        #expect(config.build?.command.contains(deep) == true)
    }
}
