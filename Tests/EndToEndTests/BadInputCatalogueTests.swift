import Foundation
import Testing

/// The bad-input catalogue: every command fed nonsense, run as a user runs the binary.
///
/// Each case asserts what a user on their worst day needs: a non-zero exit below 128 (no crash,
/// no signal), at most three lines on stderr that name the problem and the fix, no stack trace or
/// Swift runtime noise, and nothing changed in AWS (moto's versions and aliases of the function)
/// or in git (the notes ref and the hooks directory). docs/bad-input.md is rendered from this
/// table; `LAMBDA_DEPLOY_UPDATE_DOCS=1 swift test --filter BadInputCatalogue` rewrites it.
@Suite struct BadInputCatalogueTests {
    @Test(arguments: BadInput.catalogue)
    func badInputFailsCleanlyAndChangesNothing(_ input: BadInput) async throws {
        let endpoint = try await MotoServer.shared.endpoint()
        let scene = try await Scene.make(endpoint: endpoint, ownFunction: input.ownFunction)
        defer { scene.restorePermissions() }
        try input.setup(scene)
        let awsBefore = try scene.awsState()
        let gitBefore = try scene.gitState()

        var env = scene.environment
        for name in input.unset { env.removeValue(forKey: name) }
        for (name, value) in input.env { env[name] = scene.expand(value) }
        let started = Date()
        let result = try run(
            toolPath, input.arguments.map(scene.expand), cwd: input.outsideRepository ? scene.home.path : scene.work.path,
            env: env, stdin: input.stdin, timeout: 90)
        let elapsed = Date().timeIntervalSince(started)

        let transcript = "\(input.name): exit \(result.status)\nstdout: \(result.stdout)\nstderr: \(result.stderr)"
        #expect(result.status > 0 && result.status < 128, "\(transcript)")
        if let exit = input.exit { #expect(result.status == exit, "\(transcript)") }
        let lines = result.stderr.split(whereSeparator: \.isNewline).filter { !$0.allSatisfy(\.isWhitespace) }
        #expect(!lines.isEmpty && lines.count <= 3, "stderr must be one short error, at most 3 lines\n\(transcript)")
        if result.status == 64 {
            #expect(lines.count == 1 && lines[0].hasPrefix("error: "), "a usage error is one `error:` line\n\(transcript)")
        }
        for expected in input.expectedMessage(asRoot: Scene.isRoot) {
            #expect(result.stderr.contains(scene.expand(expected)), "missing \"\(scene.expand(expected))\"\n\(transcript)")
        }
        for noise in BadInput.noise {
            #expect(!result.output.contains(noise), "leaks \"\(noise)\"\n\(transcript)")
        }
        if let limit = input.maxSeconds { #expect(elapsed < limit, "took \(elapsed) s, limit \(limit) s\n\(transcript)") }
        #expect(try scene.awsState() == awsBefore, "AWS changed\n\(transcript)")
        #expect(try scene.gitState() == gitBefore, "git changed\n\(transcript)")
    }

    @Test func theCatalogueIsLargeAndCoversEveryCommand() {
        let cases = BadInput.catalogue
        #expect(cases.count >= 30)
        #expect(Set(cases.map(\.name)).count == cases.count, "case names must be unique")
        let commands = Set(cases.compactMap(\.arguments.first))
        for command in ["package", "deploy", "promote", "rollback", "history", "show", "hook", "plan"] {
            #expect(commands.contains(command), "no bad input for \(command)")
        }
    }

    @Test func docsListTheWholeCatalogue() throws {
        let path = packageRoot + "/docs/bad-input.md"
        let rendered = BadInput.markdown()
        if ProcessInfo.processInfo.environment["LAMBDA_DEPLOY_UPDATE_DOCS"] == "1" {
            try Data(rendered.utf8).write(to: URL(fileURLWithPath: path))
        }
        let onDisk = try String(contentsOfFile: path, encoding: .utf8)
        #expect(onDisk == rendered, "docs/bad-input.md is out of date: run LAMBDA_DEPLOY_UPDATE_DOCS=1 swift test --filter BadInputCatalogue")
    }
}

/// One bad input: the command line, what is set up first, and what the user must read.
struct BadInput: Sendable, CustomTestStringConvertible {
    var name: String
    /// Arguments after `lambda-deploy`; `{work}`, `{home}`, `{function}` and `{endpoint}` are expanded.
    var arguments: [String]
    /// What the input is, for docs/bad-input.md.
    var input: String
    /// Substrings stderr must contain: the problem and the fix.
    var expected: [String]
    /// When running as root, where chmod does not stop reads, the case uses another unreadable
    /// thing (a FIFO) and expects this instead.
    var expectedAsRoot: [String]? = nil
    /// The exact exit code when it matters (64 for usage errors); else any of 1...127.
    var exit: Int32? = 1
    var env: [String: String] = [:]
    var unset: [String] = []
    var stdin: String? = nil
    var outsideRepository = false
    /// A function of its own in moto (for cases whose setup deploys).
    var ownFunction = false
    var maxSeconds: Double? = nil
    var setup: @Sendable (Scene) throws -> Void = { _ in }

    var testDescription: String { name }

    func expectedMessage(asRoot: Bool) -> [String] { asRoot ? expectedAsRoot ?? expected : expected }

    /// What no error output may contain: crash reports, Swift runtime and Foundation noise, our
    /// own type names (a message must be written for a user, not be `String(describing:)`).
    static let noise = [
        "Fatal error", "Stack dump", "Backtrace", "Current stack trace", "Illegal instruction", "Segmentation fault",
        "NSCocoaErrorDomain", "Error Domain=", "NSPOSIXErrorDomain", "Swift/", ".swift:", "Optional(",
        "AWSError", "WorkflowError", "PolicyError", "PackagingError", "LedgerError", "DecodingError", "The operation could not be completed",
    ]
}

extension BadInput {
    static let sha = String(repeating: "a", count: 40)
    static let zeros = String(repeating: "0", count: 40)
    static let long = String(repeating: "a", count: 129)
    static let noKeys = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]

    static let catalogue: [BadInput] = packaging + config + aliases + credentials + endpoints + weights + usage + ledger + hook + hostile

    static let packaging: [BadInput] = [
        BadInput(
            name: "package: missing DIR", arguments: ["package", "nope"], input: "a directory that does not exist",
            expected: ["function directory {work}/nope does not exist", "pass the directory that holds your handler"]),
        BadInput(
            name: "package: empty DIR", arguments: ["package", "empty"], input: "an empty directory",
            expected: ["{work}/empty has no files to package", "check .lambdaignore and --exclude"],
            setup: { try $0.mkdir("empty") }),
        BadInput(
            name: "package: everything excluded", arguments: ["package", "src", "--exclude", "*"], input: "`--exclude '*'`",
            expected: ["has no files to package (empty, or everything is ignored)", "check .lambdaignore and --exclude"]),
        BadInput(
            name: "package: DIR is a file", arguments: ["package", "lambda-deploy.yml"], input: "a regular file where a directory is expected",
            expected: ["lambda-deploy.yml is a file, not a directory", "pass the directory that holds your handler"]),
        BadInput(
            name: "package: unreadable DIR", arguments: ["package", "locked"],
            input: "`chmod 000` directory (as root, where chmod does not stop reads: a FIFO named like the directory)",
            expected: ["cannot read", "locked", "fix its permissions"], expectedAsRoot: ["{work}/locked is a file, not a directory", "pass the directory"],
            setup: { scene in
                if Scene.isRoot {
                    try scene.mkfifo("locked")
                } else {
                    try scene.work.write("locked/app.py", "x = 1\n")
                    try scene.chmod("locked", 0)
                }
            }),
        BadInput(
            name: "package: unreadable file", arguments: ["package", "src"],
            input: "`chmod 000` file in DIR (as root: a FIFO in DIR, which no zip can carry)",
            expected: ["cannot read secret.txt", "fix its permissions or add it to .lambdaignore"],
            expectedAsRoot: ["secret.txt is a named pipe, which a zip cannot carry", "add it to .lambdaignore"],
            setup: { scene in
                if Scene.isRoot {
                    try scene.mkfifo("src/secret.txt")
                } else {
                    try scene.work.write("src/secret.txt", "s", mode: 0)
                }
            }),
        BadInput(
            name: "package: symlink escapes DIR", arguments: ["package", "src"], input: "`src/link -> ../lambda-deploy.yml`",
            expected: ["symlink link -> ../lambda-deploy.yml points outside the function directory", "add the link to .lambdaignore"],
            setup: { try $0.symlink("src/link", to: "../lambda-deploy.yml") }),
        BadInput(
            name: "package: absolute symlink", arguments: ["package", "src"], input: "`src/link -> /etc/passwd`",
            expected: ["symlink link -> /etc/passwd is absolute", "make it relative or add it to .lambdaignore"],
            setup: { try $0.symlink("src/link", to: "/etc/passwd") }),
        BadInput(
            name: "package: dangling symlink", arguments: ["package", "src"], input: "`src/link -> missing.py`",
            expected: ["symlink link -> missing.py points to nothing", "fix or remove the link"],
            setup: { try $0.symlink("src/link", to: "missing.py") }),
        BadInput(
            name: "package: over 250 MB unzipped", arguments: ["package", "src"], input: "a 300 MB sparse file (`truncate -s 300M`)",
            expected: ["the package is 3145728", "bytes unzipped but Lambda accepts", "at most 262144000 bytes (250 MB)", "exclude files with .lambdaignore or --exclude"],
            setup: { try $0.sparse("src/model.bin", bytes: 300 << 20) }),
        BadInput(
            name: "package: non-UTF-8 file name", arguments: ["package", "src"], input: "a file named `bad\\xff` (not UTF-8)",
            expected: ["is not valid UTF-8", "rename it or add it to .lambdaignore"],
            setup: { try $0.nonUTF8File(in: "src") }),
        BadInput(
            name: "package: --level 13", arguments: ["package", "src", "--level", "13"], input: "compression level out of range",
            expected: ["--level must be between 0 (store) and 12 (smallest); got 13"], exit: 64),
        BadInput(
            name: "package: --output in a missing directory", arguments: ["package", "src", "--output", "no/such/dir/out.zip"],
            input: "an output path whose directory does not exist",
            expected: ["cannot write the zip at {work}/no/such/dir/out.zip", "does not exist", "choose another --output location"]),
    ]

    static let config: [BadInput] = [
        BadInput(
            name: "config: YAML syntax error", arguments: ["deploy", "--alias", "dev"], input: "`region: [us-east-1` (unclosed flow sequence)",
            expected: ["lambda-deploy.yml:4: YAML syntax error", "fix the YAML at that line"],
            setup: { try $0.config("function: {function}\ndirectory: src\nregion: [us-east-1\n") }),
        BadInput(
            name: "config: misspelt key", arguments: ["deploy", "--alias", "dev"], input: "`directry: src`",
            expected: ["lambda-deploy.yml:2: unknown key `directry`", "did you mean `directory`?"],
            setup: { try $0.config("function: {function}\ndirectry: src\n") }),
        BadInput(
            name: "config: misspelt nested key", arguments: ["plan"], input: "`hook: {branchs: [main]}`",
            expected: ["lambda-deploy.yml:3: unknown key `hook.branchs`", "did you mean `branches`?"],
            setup: { try $0.config("function: {function}\nhook:\n  branchs: [main]\n") }),
        BadInput(
            name: "config: wrong type", arguments: ["deploy", "--alias", "dev"], input: "`function: [a, b]`",
            expected: ["lambda-deploy.yml:1: `function` must be a string", "change its value"],
            setup: { try $0.config("function: [a, b]\ndirectory: src\n") }),
        BadInput(
            name: "config: not a number", arguments: ["plan"], input: "`hook: {timeout: soon}`",
            expected: ["`hook.timeout` must be a whole number"],
            setup: { try $0.config("function: {function}\nhook:\n  timeout: soon\n") }),
        BadInput(
            name: "config: --config missing", arguments: ["deploy", "--alias", "dev", "--config", "nosuch.yml"], input: "a config path that does not exist",
            expected: ["cannot read nosuch.yml: no such file", "check the --config path"]),
        BadInput(
            name: "config: --config is a directory", arguments: ["deploy", "--alias", "dev", "--config", "src"], input: "a directory given as the config file",
            expected: ["cannot read {work}/src: it is a directory", "pass the YAML file itself"]),
        BadInput(
            name: "deploy: unknown function", arguments: ["deploy", "--alias", "dev", "--function", "no-such-function"], input: "a function that does not exist",
            expected: ["function 'no-such-function' not found in region us-east-1", "check the name and --region"]),
        BadInput(
            name: "deploy: no function directory", arguments: ["deploy", "--alias", "dev"], input: "config without `directory` and no `--dir`",
            expected: ["no function directory given", "pass --dir DIR or set `directory` in lambda-deploy.yml"],
            setup: { try $0.config("function: {function}\n") }),
    ]

    static let aliases: [BadInput] = [
        BadInput(
            name: "deploy: alias prod!", arguments: ["deploy", "--alias", "prod!"], input: "`--alias 'prod!'`",
            expected: ["invalid alias name 'prod!' ('!' is not allowed)", "use 1-128 letters, digits, '-' or '_'"]),
        BadInput(
            name: "deploy: alias 123", arguments: ["deploy", "--alias", "123"], input: "`--alias 123`",
            expected: ["invalid alias name '123' (only digits", "not only digits"]),
        BadInput(
            name: "deploy: empty alias", arguments: ["deploy", "--alias", ""], input: "`--alias ''`",
            expected: ["invalid alias name '' (empty)", "use 1-128 letters"]),
        BadInput(
            name: "deploy: 129-character alias", arguments: ["deploy", "--alias", long], input: "an alias of 129 characters",
            expected: ["(129 characters)", "use 1-128 letters"]),
        BadInput(
            name: "promote: invalid target alias", arguments: ["promote", "--from", "dev", "--to", "prod!"], input: "`--to 'prod!'`",
            expected: ["invalid alias name 'prod!'", "use 1-128 letters"]),
        BadInput(
            name: "deploy: protected alias from a laptop", arguments: ["deploy", "--alias", "prod"], input: "`--alias prod` outside CI",
            expected: ["alias `prod` is protected", "--override-protection"]),
    ]

    static let credentials: [BadInput] = [
        BadInput(
            name: "credentials: none", arguments: ["deploy", "--alias", "dev"], input: "no AWS_* keys, no shared files",
            expected: ["no AWS credentials found (looked in: environment", "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run `aws configure`"],
            unset: noKeys),
        BadInput(
            name: "credentials: empty shared files", arguments: ["deploy", "--alias", "dev"],
            input: "AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE pointing at empty files",
            expected: ["no AWS credentials found", "profile default in {home}/empty-credentials", "run `aws configure`"],
            env: ["AWS_CONFIG_FILE": "{home}/empty-config", "AWS_SHARED_CREDENTIALS_FILE": "{home}/empty-credentials"], unset: noKeys,
            setup: { scene in
                try scene.home.write("empty-config", "")
                try scene.home.write("empty-credentials", "")
            }),
        BadInput(
            name: "credentials: /dev/null files", arguments: ["deploy", "--alias", "dev"], input: "AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null",
            expected: ["no AWS credentials found", "profile default in /dev/null", "run `aws configure`"],
            env: ["AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"], unset: noKeys),
        BadInput(
            name: "credentials: malformed file", arguments: ["deploy", "--alias", "dev"], input: "a credentials file with a line that is not `key = value`",
            expected: ["{home}/credentials:3: cannot read this line", "fix or remove it"],
            env: ["AWS_SHARED_CREDENTIALS_FILE": "{home}/credentials"], unset: noKeys,
            setup: { try $0.home.write("credentials", "[default]\naws_access_key_id = AKIDEXAMPLE\nthis is not ini\n") }),
        BadInput(
            name: "credentials: expired", arguments: ["deploy", "--alias", "dev"], input: "a profile whose `aws_expiration` is in the past",
            expected: ["{home}/credentials:5: the credentials of profile default expired at 2001-01-01T00:00:00Z", "refresh them"],
            env: ["AWS_SHARED_CREDENTIALS_FILE": "{home}/credentials"], unset: noKeys,
            setup: {
                try $0.home.write(
                    "credentials", "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = s\naws_session_token = t\naws_expiration = 2001-01-01T00:00:00Z\n")
            }),
        BadInput(
            name: "credentials: key without secret", arguments: ["deploy", "--alias", "dev"], input: "a profile with `aws_access_key_id` only",
            expected: ["{home}/credentials:2: profile default has aws_access_key_id but no aws_secret_access_key", "add the secret to that profile"],
            env: ["AWS_SHARED_CREDENTIALS_FILE": "{home}/credentials"], unset: noKeys,
            setup: { try $0.home.write("credentials", "[default]\naws_access_key_id = AKIDEXAMPLE\n") }),
        BadInput(
            name: "credentials: unknown profile", arguments: ["deploy", "--alias", "dev", "--profile", "nosuch"], input: "`--profile nosuch`",
            expected: ["AWS profile 'nosuch' (from AWS_PROFILE or --profile) is not defined in {home}/credentials", "aws configure list-profiles"],
            env: ["AWS_SHARED_CREDENTIALS_FILE": "{home}/credentials"], unset: noKeys,
            setup: { try $0.home.write("credentials", "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = s\n") }),
        BadInput(
            name: "credentials: role without a source", arguments: ["deploy", "--alias", "dev", "--profile", "deployer"],
            input: "a profile with `role_arn` but no `source_profile`",
            expected: ["{home}/config:2: profile deployer has role_arn but no source_profile", "add `source_profile = PROFILE`"],
            env: ["AWS_CONFIG_FILE": "{home}/config"], unset: noKeys,
            setup: { try $0.home.write("config", "[profile deployer]\nrole_arn = arn:aws:iam::123456789012:role/deployer\n") }),
        BadInput(
            name: "credentials: credential_process fails", arguments: ["deploy", "--alias", "dev", "--profile", "helper"],
            input: "a profile whose `credential_process` exits with status 2",
            expected: ["credential_process of AWS profile helper: the command exited with status 2", "run it yourself to see why"],
            env: ["AWS_CONFIG_FILE": "{home}/config"], unset: noKeys,
            setup: { try $0.home.write("config", "[profile helper]\ncredential_process = sh -c 'exit 2'\n") }),
        BadInput(
            name: "credentials: SSO profile", arguments: ["deploy", "--alias", "dev", "--profile", "corp"],
            input: "a profile that signs in with AWS SSO (`sso_session`)",
            expected: ["{home}/config:2: profile corp signs in with AWS SSO, which lambda-deploy does not support", "aws configure export-credentials --profile corp"],
            env: ["AWS_CONFIG_FILE": "{home}/config"], unset: noKeys,
            setup: { try $0.home.write("config", "[profile corp]\nsso_session = corp\nsso_account_id = 123456789012\n") }),
        BadInput(
            name: "credentials: half in the environment", arguments: ["deploy", "--alias", "dev"], input: "AWS_ACCESS_KEY_ID set, AWS_SECRET_ACCESS_KEY not",
            expected: ["incomplete AWS credentials in environment", "AWS_SECRET_ACCESS_KEY is not", "set both or neither"],
            unset: ["AWS_SECRET_ACCESS_KEY"]),
    ]

    static let endpoints: [BadInput] = [
        BadInput(
            name: "endpoint: not a url", arguments: ["deploy", "--alias", "dev", "--endpoint-url", "not a url"], input: "`--endpoint-url 'not a url'`",
            expected: ["malformed endpoint URL 'not a url' (from --endpoint-url)", "use an absolute http(s) URL"]),
        BadInput(
            name: "endpoint: ftp scheme", arguments: ["deploy", "--alias", "dev"], input: "`AWS_ENDPOINT_URL=ftp://x`",
            expected: ["malformed endpoint URL 'ftp://x' (from AWS_ENDPOINT_URL)", "use an absolute http(s) URL"],
            env: ["AWS_ENDPOINT_URL": "ftp://x"]),
        BadInput(
            name: "endpoint: unreachable", arguments: ["deploy", "--alias", "dev", "--endpoint-url", "http://127.0.0.1:9"],
            input: "`--endpoint-url http://127.0.0.1:9` (nothing listens) with LAMBDA_DEPLOY_RETRY_BUDGET=2",
            expected: ["cannot connect to 127.0.0.1:9", "check --endpoint-url / AWS_ENDPOINT_URL"],
            env: ["LAMBDA_DEPLOY_RETRY_BUDGET": "2"], maxSeconds: 20),
        BadInput(
            name: "region: not a region", arguments: ["deploy", "--alias", "dev", "--region", "us_east_1"], input: "`--region us_east_1`",
            expected: ["'us_east_1' (from --region) is not an AWS region name", "use one like us-east-1"]),
    ]

    static let weights: [BadInput] = ["0", "100", "-1", "101", "abc"].flatMap { weight in
        [
            BadInput(
                name: "deploy: --weight \(weight)", arguments: ["deploy", "--alias", "dev", "--weight", weight], input: "`--weight \(weight)`",
                expected: ["invalid weight '\(weight)'", "strictly between 0 and 100, e.g. --weight 10"], exit: 64),
            BadInput(
                name: "promote: --weight \(weight)", arguments: ["promote", "--from", "dev", "--to", "prod", "--weight", weight], input: "`--weight \(weight)`",
                expected: ["invalid weight '\(weight)'", "strictly between 0 and 100, e.g. --weight 10"], exit: 64),
        ]
    }

    static let usage: [BadInput] = [
        BadInput(
            name: "cli: unknown command", arguments: ["deplyo", "--alias", "dev"], input: "`lambda-deploy deplyo`",
            expected: ["unknown command 'deplyo'", "the commands are ci, plan, deploy", "lambda-deploy --help"], exit: 64),
        BadInput(
            name: "cli: unknown flag", arguments: ["deploy", "--alias", "dev", "--frobnicate"], input: "`deploy --frobnicate`",
            expected: ["Unknown option '--frobnicate'", "lambda-deploy deploy --help"], exit: 64),
        BadInput(
            name: "cli: required option misspelt", arguments: ["deploy", "--alais", "dev"], input: "`deploy --alais dev`",
            expected: ["unknown option '--alais'; did you mean '--alias'?", "see `lambda-deploy deploy --help`"], exit: 64),
        BadInput(
            name: "cli: option value missing", arguments: ["gateway", "setup", "--aliases"], input: "`gateway setup --aliases` with no list",
            expected: ["Missing value for '--aliases <LIST>'", "see `lambda-deploy gateway setup --help`"], exit: 64),
        BadInput(
            name: "history: --since garbage", arguments: ["history", "--since", "garbage"], input: "`--since garbage`",
            expected: ["cannot read --since 'garbage'", "use a date like 2026-11-01"], exit: 64),
        BadInput(
            name: "history: --limit 0", arguments: ["history", "--limit", "0"], input: "`--limit 0`",
            expected: ["--limit must be at least 1; got 0"], exit: 64),
        BadInput(
            name: "promote: no --from", arguments: ["promote", "--to", "prod"], input: "`promote --to prod` without `--from`",
            expected: ["missing --from ALIAS", "--from dev --to prod"], exit: 64),
        BadInput(
            name: "promote: --from and --to the same", arguments: ["promote", "--from", "dev", "--to", "dev"], input: "`--from dev --to dev`",
            expected: ["--from and --to both name 'dev'", "nothing to promote"], exit: 64),
    ]

    static let ledger: [BadInput] = [
        BadInput(
            name: "rollback: no history", arguments: ["rollback", "--alias", "dev"], input: "an alias deployed once, nothing before it",
            expected: ["nothing to roll back to for alias 'dev'", "pass --to VERSION"], ownFunction: true,
            setup: { try $0.deployOnce() }),
        BadInput(
            name: "rollback: missing version", arguments: ["rollback", "--alias", "dev", "--to", "99"], input: "`--to 99`, a version that does not exist",
            expected: ["version 99 of {function} does not exist", "pass an existing one to --to"], ownFunction: true,
            setup: { try $0.deployOnce() }),
        BadInput(
            name: "rollback: missing alias", arguments: ["rollback", "--alias", "dev"], input: "an alias that does not exist",
            expected: ["alias 'dev' does not exist on {function}", "deploy to it first"]),
        BadInput(
            name: "promote: missing source alias", arguments: ["promote", "--from", "nosuch", "--to", "dev"], input: "`--from nosuch`",
            expected: ["alias 'nosuch' does not exist on {function}", "deploy to it first", "then promote"]),
        BadInput(
            name: "history: outside a repository", arguments: ["history"], input: "run outside any git repository",
            expected: ["{home} is not inside a git repository", "run this from the function's repository"], outsideRepository: true),
        BadInput(
            name: "show: unknown commit", arguments: ["show", "deadbeef"], input: "`show deadbeef`",
            expected: ["commit 'deadbeef' not found in this repository", "fetch it (git fetch) or name an existing commit"]),
    ]

    static let hook: [BadInput] = [
        BadInput(
            name: "hook: garbage on stdin", arguments: ["hook", "pre-push", "origin", "git@example.com:r.git"], input: "stdin `garbage`",
            expected: ["pre-push input line 1 \"garbage\" is malformed", "git sends `<local ref> <local sha> <remote ref> <remote sha>`"],
            stdin: "garbage\n"),
        BadInput(
            name: "hook: bad object id on stdin", arguments: ["hook", "pre-push", "origin", "git@example.com:r.git"], input: "stdin with `abc` as the local sha",
            expected: ["local sha \"abc\" is not a 40- or 64-digit hex object id", "is the hook called by git?"],
            stdin: "refs/heads/main abc refs/heads/main \(zeros)\n"),
    ]
}

extension BadInput {
    /// An argument as a user would type it (quoted when the shell needs it, long ones shortened).
    static func shellWord(_ argument: String) -> String {
        if argument.isEmpty { return "''" }
        if argument.count > 40 { return String(argument.prefix(12)) + "…(\(argument.count) chars)" }
        let special: Set<Character> = [" ", "*", "!"]
        return argument.contains(where: special.contains) ? "'" + argument + "'" : argument
    }

    /// docs/bad-input.md, rendered from the table so the two never drift apart.
    static func markdown() -> String {
        var text = """
            # Bad-input catalogue

            What `lambda-deploy` answers when it is fed nonsense. Every row is a case of
            `Tests/EndToEndTests/BadInputCatalogueTests.swift`, which runs the built binary against moto on
            loopback and asserts: an exit code from 1 to 127 (never a crash or a signal), at most three
            lines on stderr containing the text below (the problem and the fix), no stack trace or Swift
            runtime noise, and nothing changed in AWS (the function's versions and aliases) or in git
            (the notes ref and the hooks directory). This page is generated from that table:
            `LAMBDA_DEPLOY_UPDATE_DOCS=1 swift test --filter BadInputCatalogue` rewrites it.

            Exit codes: 1 for a failure, 64 for bad usage (caught before anything runs; always one `error:`
            line ending with the command's `--help`). `{work}` is the repository, `{home}` the user's home
            and `{function}` the function name in the test.

            About unreadable files: the tests may run as root, where `chmod 000` does not stop reads. As
            root the two "unreadable" cases use a FIFO instead (a FIFO where the directory should be; a
            FIFO inside the directory), the closest thing root cannot package; the expected text for root
            is given after "as root:".

            | # | Case | Command | Input | Expected on stderr | Exit |
            |---:|---|---|---|---|---:|

            """
        for (index, input) in catalogue.enumerated() {
            let words = input.arguments.map(shellWord)
            let command = "`lambda-deploy " + words.joined(separator: " ") + "`"
            var expected = input.expected.map { "“\($0)”" }.joined(separator: " … ")
            if let root = input.expectedAsRoot { expected += "; as root: " + root.map { "“\($0)”" }.joined(separator: " … ") }
            let exit = input.exit.map(String.init) ?? "1–127"
            let row = [String(index + 1), input.name, command, input.input, expected, exit]
                .map { $0.replacingOccurrences(of: "|", with: "\\|") }
            text += "| " + row.joined(separator: " | ") + " |\n"
        }
        return text
    }
}

/// One case's world: a git repository with a function directory and config, a private HOME, a
/// function in moto, and the environment a developer's shell would have (test credentials only).
struct Scene: Sendable {
    let home: TemporaryDirectory
    let work: TemporaryDirectory
    let function: String
    let endpoint: String
    let environment: [String: String]

    static let isRoot = geteuid() == 0
    static let dummyAuthorization = "Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0"

    static func make(endpoint: String, ownFunction: Bool) async throws -> Scene {
        let function = ownFunction ? uniqueName("bad") : try await SharedFunction.shared.name(endpoint: endpoint)
        if ownFunction { try createFunction(function, endpoint: endpoint) }
        let home = try TemporaryDirectory("bad-home")
        let work = try TemporaryDirectory("bad-repo")
        var env = baseEnvironment(home: home.path)
        env["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLETESTONLY"
        env["AWS_SECRET_ACCESS_KEY"] = "test-secret-value-never-printed"
        env["AWS_REGION"] = "us-east-1"
        env["AWS_ENDPOINT_URL"] = endpoint
        let scene = Scene(home: home, work: work, function: function, endpoint: endpoint, environment: env)
        try work.write("src/app.py", "def handler(event, context):\n    return {'statusCode': 200}\n")
        try scene.config("function: {function}\ndirectory: src\nregion: us-east-1\n")
        try git(["init", "-q", "-b", "main"], cwd: work.path, env: env)
        try git(["add", "-A"], cwd: work.path, env: env)
        try git(["commit", "-q", "-m", "first"], cwd: work.path, env: env)
        return scene
    }

    func expand(_ text: String) -> String {
        text.replacingOccurrences(of: "{work}", with: work.path).replacingOccurrences(of: "{home}", with: home.path)
            .replacingOccurrences(of: "{function}", with: function).replacingOccurrences(of: "{endpoint}", with: endpoint)
    }

    func config(_ yaml: String) throws { try work.write("lambda-deploy.yml", expand(yaml)) }

    func mkdir(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: work.path + "/" + relative, withIntermediateDirectories: true)
    }

    func mkfifo(_ relative: String) throws {
        guard Foundation.mkfifo(work.path + "/" + relative, 0o644) == 0 else { throw RunError(message: "mkfifo \(relative) failed") }
    }

    func chmod(_ relative: String, _ mode: Int) throws {
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: work.path + "/" + relative)
    }

    func symlink(_ relative: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: work.path + "/" + relative, withDestinationPath: target)
    }

    /// A sparse file: `truncate -s`, so a 300 MB input costs no disk and no time to write.
    func sparse(_ relative: String, bytes: Int) throws {
        let path = work.path + "/" + relative
        guard FileManager.default.createFile(atPath: path, contents: nil), truncate(path, off_t(bytes)) == 0 else {
            throw RunError(message: "cannot create sparse \(relative)")
        }
    }

    /// A file whose name is the bytes `bad\xff`, which no Swift String can spell (so the shell makes it).
    func nonUTF8File(in relative: String) throws {
        let result = try run("/bin/sh", ["-c", "touch \"$(printf 'bad\\377')\""], cwd: work.path + "/" + relative, env: environment)
        guard result.status == 0 else { throw RunError(message: "cannot create a non-UTF-8 file name: \(result.stderr)") }
    }

    /// Gives every file back its permissions so the temporary directory can be removed.
    func restorePermissions() {
        _ = try? run("/bin/chmod", ["-R", "u+rwX", work.path], cwd: home.path, env: environment)
    }

    /// Moves `dev` once with the tool itself (so the alias exists with nothing before it).
    func deployOnce() throws {
        let result = try run(toolPath, ["deploy", "--alias", "dev"], cwd: work.path, env: environment)
        guard result.status == 0 else { throw RunError(message: "setup deploy failed: \(result.output)") }
    }

    /// The function's versions and aliases as moto reports them. moto picks the service and region
    /// from the Authorization header's scope but checks no signature unless asked, so curl with a
    /// dummy header reads them.
    func awsState() throws -> String {
        var parts: [String] = []
        for (kind, key) in [("versions", "Versions"), ("aliases", "Aliases")] {
            let result = try run("curl", ["-sf", "-H", Self.dummyAuthorization, "\(endpoint)/2015-03-31/functions/\(function)/\(kind)"], cwd: work.path, env: environment)
            guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                let items = object[key] as? [[String: Any]]
            else { throw RunError(message: "cannot list \(kind) of \(function): \(result.output)") }
            let described = items.map { item in
                [item["Version"], item["Name"], item["FunctionVersion"], item["CodeSha256"], item["RoutingConfig"]]
                    .compactMap { $0.map { "\($0)" } }.joined(separator: "/")
            }
            parts.append("\(kind): " + described.sorted().joined(separator: ", "))
        }
        return parts.joined(separator: "; ")
    }

    /// The notes ref (if any) and the hooks directory's entries with their sizes.
    func gitState() throws -> String {
        let notes = try run("git", ["rev-parse", "--verify", "-q", "refs/notes/deploys"], cwd: work.path, env: environment).stdout
        let hooks = work.path + "/.git/hooks"
        let entries = try FileManager.default.contentsOfDirectory(atPath: hooks).sorted().map { name in
            let attributes = try? FileManager.default.attributesOfItem(atPath: hooks + "/" + name)
            return "\(name):\(attributes?[.size] as? Int ?? -1)"
        }
        return "notes=\(notes.trimmingCharacters(in: .whitespacesAndNewlines)) hooks=\(entries.joined(separator: ","))"
    }
}

/// One function for the cases that must not touch it, created once per test process.
actor SharedFunction {
    static let shared = SharedFunction()
    private var created: String?

    func name(endpoint: String) throws -> String {
        if let created { return created }
        let name = uniqueName("bad-shared")
        try createFunction(name, endpoint: endpoint)
        created = name
        return name
    }
}
