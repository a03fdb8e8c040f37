import Testing
import Safety
@testable import ReleasePolicy

struct BadConfig: Sendable, CustomTestStringConvertible {
    var name: String
    var yaml: String
    var error: PolicyError
    var testDescription: String { name }
}

let file = "lambda-deploy.yml"

@Suite("Config file")
struct DeployConfigTests {
    @Test("an empty file, a comment-only file and `~` all mean the defaults", arguments: ["", "# nothing yet\n", "~\n"])
    func emptyIsDefault(_ yaml: String) throws {
        #expect(try DeployConfig.parse(yaml: yaml, file: file) == .default)
    }

    @Test("defaults")
    func defaults() {
        let config = DeployConfig.default
        #expect(config.alias(forBranch: "main")?.alias == "prod")
        #expect(config.alias(forBranch: "master")?.alias == "prod")
        #expect(config.alias(forBranch: "develop") == nil)
        #expect(config.protected == ["prod"])
        #expect(config.tags.isEmpty)
        #expect(config.events.isEmpty)
        #expect(config.matrix == .firstJob)
        #expect(config.hook == HookSettings(alias: "dev", branches: ["**"], remote: "origin", allowDirty: false, timeout: 120, blockPushOnFailure: false))
        #expect(config.notes.ref == "refs/notes/deploys")
        #expect(config.notes.push == nil)
        #expect(config.notes.shouldPush(isCI: true))
        #expect(!config.notes.shouldPush(isCI: false))
        #expect(config.notes.remote == "origin")
        #expect(config.gateway == nil)
        #expect(config.exclude.isEmpty)
        #expect(config.targets.isEmpty)
    }

    @Test("a full file")
    func fullFile() throws {
        let config = try DeployConfig.parse(yaml: """
            function: orders-api
            directory: lambda/
            region: eu-west-1
            s3: {bucket: acme-deploys, prefix: lambda/}
            branches:
              main: prod
              'release/*': staging
            protected: [prod, staging]
            tags:
              'v*': prod
            events: [cron]
            matrix: every-job
            hook:
              alias: dev-alice
              branches: ['feature/**', main]
              remote: upstream
              allowDirty: yes
              timeout: 30
              blockPushOnFailure: true
            notes:
              ref: refs/notes/lambda
              push: false
              remote: upstream
            gateway:
              api: orders
              aliases: [dev, prod]
              method: get
              path: /orders
            exclude: ['*.md', tests/]
            """, file: file)
        #expect(config.function == "orders-api")
        #expect(config.directory == "lambda/")
        #expect(config.region == "eu-west-1")
        #expect(config.s3 == S3Location(bucket: "acme-deploys", prefix: "lambda/"))
        #expect(config.branches == [AliasRule(pattern: "main", alias: "prod"), AliasRule(pattern: "release/*", alias: "staging")])
        #expect(config.protected == ["prod", "staging"])
        #expect(config.alias(forTag: "v1")?.alias == "prod")
        #expect(config.events == [.cron])
        #expect(config.matrix == .everyJob)
        #expect(config.hook == HookSettings(alias: "dev-alice", branches: ["feature/**", "main"], remote: "upstream", allowDirty: true, timeout: 30, blockPushOnFailure: true))
        #expect(config.notes == NotesSettings(ref: "refs/notes/lambda", push: false, remote: "upstream"))
        #expect(config.gateway == GatewaySettings(api: "orders", aliases: ["dev", "prod"], method: "GET", path: "/orders"))
        #expect(config.exclude == ["*.md", "tests/"])
        #expect(config.targets == [FunctionConfig(name: "orders-api", directory: "lambda/", region: "eu-west-1", s3: S3Location(bucket: "acme-deploys", prefix: "lambda/"))])
    }

    @Test("a functions: list parses and is exposed")
    func functionsList() throws {
        let config = try DeployConfig.parse(yaml: """
            region: us-east-1
            functions:
              - name: orders
                directory: services/orders
              - name: billing
                directory: services/billing
                region: eu-west-1
                branches: {main: prod, 'release/*': staging}
                protected: [prod, staging]
            """, file: file)
        #expect(config.function == nil)
        #expect(config.functions.map(\.name) == ["orders", "billing"])
        #expect(config.functions[1].region == "eu-west-1")
        #expect(config.functions[1].branches?.count == 2)
        #expect(config.functions[0].branches == nil)
        #expect(config.targets.map(\.name) == ["orders", "billing"])
    }

    @Test("an empty `branches:` disables CI deploys rather than restoring the defaults")
    func emptyBranches() throws {
        let config = try DeployConfig.parse(yaml: "branches: {}", file: file)
        #expect(config.branches.isEmpty)
    }

    @Test("bad files are refused with the file, line and what to do", arguments: [
        BadConfig(
            name: "unknown top-level key with suggestion", yaml: "function: f\nbrances:\n  main: prod\n",
            error: .unknownKey(file: file, line: 2, keyPath: "brances", suggestion: "branches", known: ConfigReader.topLevelKeys)),
        BadConfig(
            name: "unknown nested key with suggestion", yaml: "hook:\n  alias: dev\n  timout: 30\n",
            error: .unknownKey(file: file, line: 3, keyPath: "hook.timout", suggestion: "timeout", known: ConfigReader.hookKeys)),
        BadConfig(
            name: "unknown key, case typo", yaml: "hook:\n  allowdirty: true\n",
            error: .unknownKey(file: file, line: 2, keyPath: "hook.allowdirty", suggestion: "allowDirty", known: ConfigReader.hookKeys)),
        BadConfig(
            name: "unknown key without a close match", yaml: "notes:\n  zzzzzzzz: 1\n",
            error: .unknownKey(file: file, line: 2, keyPath: "notes.zzzzzzzz", suggestion: nil, known: ConfigReader.notesKeys)),
        BadConfig(
            name: "unknown key inside functions", yaml: "functions:\n  - name: a\n    directroy: x\n",
            error: .unknownKey(file: file, line: 3, keyPath: "functions[0].directroy", suggestion: "directory", known: ConfigReader.functionKeys)),
        BadConfig(
            name: "duplicate key", yaml: "region: a\nregion: b\n",
            error: .duplicateKey(file: file, line: 2, keyPath: "region")),
        BadConfig(
            name: "top level is a list", yaml: "- a\n- b\n",
            error: .wrongType(file: file, line: 1, keyPath: "", expected: "a mapping of keys to values")),
        BadConfig(
            name: "hook is a string", yaml: "hook: dev\n",
            error: .wrongType(file: file, line: 1, keyPath: "hook", expected: "a mapping of keys to values")),
        BadConfig(
            name: "branches is a list", yaml: "branches: [main]\n",
            error: .wrongType(file: file, line: 1, keyPath: "branches", expected: "a mapping of branch or tag names (or globs) to aliases, like `main: prod`")),
        BadConfig(
            name: "timeout is a string", yaml: "hook:\n  timeout: soon\n",
            error: .wrongType(file: file, line: 2, keyPath: "hook.timeout", expected: "a whole number")),
        BadConfig(
            name: "allowDirty is a word", yaml: "hook:\n  allowDirty: maybe\n",
            error: .wrongType(file: file, line: 2, keyPath: "hook.allowDirty", expected: "true or false")),
        BadConfig(
            name: "function is a mapping", yaml: "function: {name: x}\n",
            error: .wrongType(file: file, line: 1, keyPath: "function", expected: "a string")),
        BadConfig(
            name: "functions is a mapping", yaml: "functions: {a: b}\n",
            error: .wrongType(file: file, line: 1, keyPath: "functions", expected: "a list of functions")),
        BadConfig(
            name: "negative timeout", yaml: "hook: {timeout: -1}\n",
            error: .invalidValue(file: file, line: 1, keyPath: "hook.timeout", value: "-1", reason: "the timeout is between 1 and 3600 seconds")),
        BadConfig(
            name: "bad matrix value", yaml: "matrix: first\n",
            error: .invalidValue(file: file, line: 1, keyPath: "matrix", value: "first", reason: "expected first-job or every-job")),
        BadConfig(
            name: "bad event", yaml: "events:\n  - cron\n  - nightly\n",
            error: .invalidValue(file: file, line: 3, keyPath: "events", value: "nightly", reason: "expected one of cron, api, manual")),
        BadConfig(
            name: "all-digit alias", yaml: "branches:\n  main: '123'\n",
            error: .invalidValue(file: file, line: 2, keyPath: "branches.main", value: "123", reason: "an alias name cannot be all digits (Lambda would read it as a version)")),
        BadConfig(
            name: "alias with a dot", yaml: "hook:\n  alias: dev.alice\n",
            error: .invalidValue(file: file, line: 2, keyPath: "hook.alias", value: "dev.alice", reason: "Lambda allows only letters, digits, '-' and '_' in alias names")),
        BadConfig(
            name: "protected alias too long", yaml: "protected: [\(String(repeating: "a", count: 129))]\n",
            error: .invalidValue(file: file, line: 1, keyPath: "protected", value: String(repeating: "a", count: 129), reason: "an alias name has at most 128 characters")),
        BadConfig(
            name: "notes ref outside refs/notes", yaml: "notes:\n  ref: refs/heads/deploys\n",
            error: .invalidValue(file: file, line: 2, keyPath: "notes.ref", value: "refs/heads/deploys", reason: "a notes ref lives under refs/notes/ (e.g. refs/notes/deploys)")),
        BadConfig(
            name: "gateway path without slash", yaml: "gateway:\n  path: orders\n",
            error: .invalidValue(file: file, line: 2, keyPath: "gateway.path", value: "orders", reason: "a resource path starts with /")),
        BadConfig(
            name: "function and functions together", yaml: "function: a\nfunctions:\n  - name: b\n",
            error: .invalidValue(file: file, line: 1, keyPath: "function", value: "a", reason: "use either the `function:` shorthand or a `functions:` list, not both")),
        BadConfig(
            name: "s3 without a bucket", yaml: "s3:\n  prefix: x/\n",
            error: .invalidValue(file: file, line: 2, keyPath: "s3.bucket", value: "", reason: "an `s3:` section needs a bucket name")),
    ])
    func badFiles(_ c: BadConfig) {
        #expect(throws: c.error) {
            try DeployConfig.parse(yaml: c.yaml, file: file)
        }
    }

    @Test("a YAML syntax error names the file and line")
    func syntaxError() {
        let yaml = "function: f\nbranches:\n  main: prod\n   bad: [unclosed\n"
        do {
            _ = try DeployConfig.parse(yaml: yaml, file: "repo/lambda-deploy.yml")
            Issue.record("expected a syntax error")
        } catch {
            guard case let .configSyntax(errorFile, line, _) = error else {
                Issue.record("expected configSyntax, got \(error)")
                return
            }
            #expect(errorFile == "repo/lambda-deploy.yml")
            #expect(line == 4)
            let message = error.localizedDescription
            #expect(message.hasPrefix("repo/lambda-deploy.yml:4: YAML syntax error"))
            #expect(!message.contains("\n"))
        }
    }

    @Test("error messages are one line naming the key and suggesting the fix")
    func messages() {
        let error = PolicyError.unknownKey(file: file, line: 2, keyPath: "brances", suggestion: "branches", known: [])
        #expect(error.localizedDescription == "lambda-deploy.yml:2: unknown key `brances`; did you mean `branches`? Remove or rename it.")
        let wrong = PolicyError.wrongType(file: file, line: 5, keyPath: "hook.timeout", expected: "a whole number")
        #expect(wrong.localizedDescription == "lambda-deploy.yml:5: `hook.timeout` must be a whole number; change its value.")
    }

    @Test("aliases anywhere in the file follow Safety's one rule for alias names", arguments: [
        "branches: {main: 'dév'}", "protected: ['dév']", "tags: {'v*': 'dév'}", "hook: {alias: 'dév'}",
        "gateway: {aliases: ['dév']}", "functions: [{name: f, hook: {alias: 'dév'}}]",
        "functions: [{name: f, protected: ['dév']}]",
    ])
    func aliasesUseSafetysRule(_ yaml: String) {
        let error = #expect(throws: PolicyError.self) { try DeployConfig.parse(yaml: yaml, file: file) }
        guard case let .invalidValue(_, _, _, value, reason) = error else {
            Issue.record("expected invalidValue, got \(String(describing: error))")
            return
        }
        #expect(value == "dév")
        #expect(reason == LambdaNames.aliasProblem("dév"))
    }

    @Test("suggestions catch common typos only")
    func suggestions() {
        #expect(Suggest.closest(to: "brnaches", in: ConfigReader.topLevelKeys) == "branches")
        #expect(Suggest.closest(to: "protect", in: ConfigReader.topLevelKeys) == "protected")
        #expect(Suggest.closest(to: "regoin", in: ConfigReader.topLevelKeys) == "region")
        #expect(Suggest.closest(to: "kubernetes", in: ConfigReader.topLevelKeys) == nil)
    }
}
