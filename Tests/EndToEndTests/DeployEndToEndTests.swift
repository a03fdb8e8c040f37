import Foundation
import Testing

/// `lambda-deploy deploy` and `ci` run as a user runs them, against moto on loopback.
@Suite(.serialized) struct DeployEndToEndTests {
    let home: TemporaryDirectory
    let work: TemporaryDirectory
    let function: String
    let endpoint: String
    var env: [String: String]

    init() async throws {
        home = try TemporaryDirectory("home")
        work = try TemporaryDirectory("repo")
        function = uniqueName("pr")
        endpoint = try await MotoServer.shared.endpoint()
        try createFunction(function, endpoint: endpoint)
        env = baseEnvironment(home: home.path)
        env["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLETESTONLY"
        env["AWS_SECRET_ACCESS_KEY"] = "test-secret-value-never-printed"
        env["AWS_REGION"] = "us-east-1"
        env["AWS_ENDPOINT_URL"] = endpoint
        try work.write("src/app.py", "def handler(event, context):\n    return {'statusCode': 200, 'body': 'v1'}\n")
        try work.write("lambda-deploy.yml", "function: \(function)\ndirectory: src\nregion: us-east-1\n")
    }

    func tool(_ arguments: [String], extraEnv: [String: String] = [:], cwd: String? = nil, stdin: String? = nil) throws -> RunResult {
        try run(toolPath, arguments, cwd: cwd ?? work.path, env: env.merging(extraEnv) { $1 }, stdin: stdin)
    }

    func initRepository() throws {
        try git(["init", "-q", "-b", "main"], cwd: work.path, env: env)
        try git(["add", "-A"], cwd: work.path, env: env)
        try git(["commit", "-q", "-m", "first"], cwd: work.path, env: env)
    }

    @Test func deployCreatesTheAliasThenSkipsUnchangedThenMovesOnChange() throws {
        let first = try tool(["deploy", "--alias", "dev", "--json"])
        #expect(first.status == 0, "\(first.output)")
        let firstJSON = try first.json()
        #expect(firstJSON["result"] as? String == "deployed")
        #expect(firstJSON["function"] as? String == function)
        #expect(firstJSON["alias"] as? String == "dev")
        #expect(firstJSON["region"] as? String == "us-east-1")
        let version = try #require(firstJSON["version"] as? String)
        #expect((firstJSON["uploadedBytes"] as? Int ?? 0) > 0)
        #expect(firstJSON["codeSha256"] as? String != nil)

        let again = try tool(["deploy", "--alias", "dev", "--json"])
        #expect(again.status == 0, "\(again.output)")
        let againJSON = try again.json()
        #expect(againJSON["result"] as? String == "unchanged")
        #expect(againJSON["version"] as? String == version)
        #expect(againJSON["uploadedBytes"] as? Int == 0)

        try work.write("src/app.py", "def handler(event, context):\n    return {'statusCode': 200, 'body': 'v2'}\n")
        let changed = try tool(["deploy", "--alias", "dev", "--json"])
        #expect(changed.status == 0, "\(changed.output)")
        let changedJSON = try changed.json()
        #expect(changedJSON["result"] as? String == "deployed")
        #expect(changedJSON["previousVersion"] as? String == version)
        #expect(changedJSON["version"] as? String != version)
        #expect(changedJSON["codeSha256"] as? String != firstJSON["codeSha256"] as? String)
    }

    @Test func humanOutputSaysWhatWhereWhichVersionAndHowLong() throws {
        let result = try tool(["deploy", "--alias", "dev"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("deployed: \(function):dev in us-east-1 -> version"))
        #expect(result.stdout.contains("took"))
        #expect(result.stdout.contains("record: not written") && result.stdout.contains("not in a git repository"))
    }

    @Test func dryRunChangesNothing() throws {
        let result = try tool(["deploy", "--alias", "dev", "--dry-run", "--json"])
        #expect(result.status == 0, "\(result.output)")
        #expect(try result.json()["result"] as? String == "dry-run")
        // The alias still does not exist: a real deploy now creates it.
        let real = try tool(["deploy", "--alias", "dev", "--json"])
        #expect(try real.json()["previousVersion"] == nil)
    }

    @Test func aDeployInARepositoryIsRecordedAsAGitNote() throws {
        try initRepository()
        let result = try tool(["deploy", "--alias", "dev", "--json"])
        #expect(result.status == 0, "\(result.output)")
        let note = try git(["notes", "--ref=deploys", "show", "HEAD"], cwd: work.path, env: env)
        let record = try #require(try JSONSerialization.jsonObject(with: Data(note.utf8)) as? [String: Any])
        #expect(record["alias"] as? String == "dev")
        #expect(record["function"] as? String == function)
        #expect(record["result"] as? String == "deployed")
        #expect(record["trigger"] as? String == "manual")
        #expect(record["account"] as? String == "123456789012")
        #expect(!note.contains("test-secret-value-never-printed"))
    }

    @Test func prodFromALaptopIsRefusedBeforeAnyAWSCall() throws {
        // An endpoint nothing listens on: reaching it would be a different error.
        let result = try tool(["deploy", "--alias", "prod"], extraEnv: ["AWS_ENDPOINT_URL": "http://127.0.0.1:9"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("protected"))
        #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
    }

    @Test func travisOnMainDeploysProdAndAPullRequestBuildSkips() throws {
        try initRepository()
        let sha = try git(["rev-parse", "HEAD"], cwd: work.path, env: env)
        let travis = [
            "CI": "true", "TRAVIS": "true", "TRAVIS_BRANCH": "main", "TRAVIS_PULL_REQUEST": "false",
            "TRAVIS_EVENT_TYPE": "push", "TRAVIS_JOB_NUMBER": "7.1", "TRAVIS_BUILD_NUMBER": "7",
            "TRAVIS_COMMIT": sha, "TRAVIS_REPO_SLUG": "team/pr",
        ]
        let pullRequest = try tool(["--json"], extraEnv: travis.merging(["TRAVIS_PULL_REQUEST": "12", "TRAVIS_EVENT_TYPE": "pull_request"]) { $1 })
        #expect(pullRequest.status == 0, "\(pullRequest.output)")
        #expect(try pullRequest.json()["action"] as? String == "skip")

        let secondJob = try tool([], extraEnv: travis.merging(["TRAVIS_JOB_NUMBER": "7.2"]) { $1 })
        #expect(secondJob.status == 0)
        #expect(secondJob.stdout.hasPrefix("skip:"))

        let push = try tool(["--json"], extraEnv: travis)
        #expect(push.status == 0 || push.status == 3, "\(push.output)")
        let json = try push.json()
        #expect(json["alias"] as? String == "prod")
        #expect(json["result"] as? String == "deployed")
    }

    /// With a `functions:` list, `--function` picks the entry, and its directory is what ships.
    @Test func aFunctionsListDeploysTheChosenEntryFromItsDirectory() throws {
        let second = uniqueName("pr2")
        try createFunction(second, endpoint: endpoint)
        try work.write("other/app.py", "def handler(event, context):\n    return {'statusCode': 200, 'body': 'other'}\n")
        try work.write("lambda-deploy.yml", """
            region: us-east-1
            functions:
              - name: \(function)
                directory: src
              - name: \(second)
                directory: other
            """)
        let unchosen = try tool(["deploy", "--alias", "dev"])
        #expect(unchosen.status == 1)
        #expect(unchosen.stderr == "error: lambda-deploy.yml lists 2 functions (\(function), \(second)) and a command acts on one: pass --function NAME (in CI, one `lambda-deploy ci --function NAME` per function).\n")

        let chosen = try tool(["deploy", "--alias", "dev", "--function", second, "--json"])
        #expect(chosen.status == 0, "\(chosen.output)")
        let json = try chosen.json()
        #expect(json["function"] as? String == second)
        let packaged = try tool(["package", "other", "--json", "--output", work.path + "/other.zip"]).json()
        #expect(json["codeSha256"] as? String == packaged["codeSha256"] as? String)

        let unknown = try tool(["deploy", "--alias", "dev", "--function", "nope"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("`nope` is not in the `functions:` list"))
    }

    /// A profile that assumes a role (STS AssumeRole against moto) with the keys of a source
    /// profile that gets them from a credential_process: no keys in the environment at all.
    @Test func aRoleProfileWithAProcessSourceDeploys() throws {
        let processSecret = "proc-secret-" + UUID().uuidString
        try home.write("bin/creds.sh", """
            #!/bin/sh
            printf '{"Version": 1, "AccessKeyId": "AKIDPROCESSTESTONLY", "SecretAccessKey": "%s"}' "$SECRET_FOR_TEST"
            """, mode: 0o755)
        try home.write(".aws/config", """
            [profile deployer]
            role_arn = arn:aws:iam::123456789012:role/deployer
            source_profile = keys
            role_session_name = e2e
            [profile keys]
            credential_process = "\(home.path)/bin/creds.sh" --unused-flag
            """)
        var profileEnv = env
        profileEnv["AWS_ACCESS_KEY_ID"] = nil
        profileEnv["AWS_SECRET_ACCESS_KEY"] = nil
        profileEnv["AWS_CONFIG_FILE"] = home.path + "/.aws/config"
        profileEnv["SECRET_FOR_TEST"] = processSecret
        let result = try run(toolPath, ["deploy", "--alias", "dev", "--profile", "deployer", "--json", "--verbose"], cwd: work.path, env: profileEnv)
        #expect(result.status == 0, "\(result.output)")
        #expect(try result.json()["result"] as? String == "deployed")
        #expect(result.stderr.contains("AssumeRole"), "\(result.stderr)")
        #expect(!result.output.contains(processSecret))

        // A broken process stops the deploy with one error line, before any AWS call.
        profileEnv["PATH"] = "/nonexistent"
        try home.write(".aws/config", "[profile keys]\ncredential_process = no-such-credential-helper\n")
        let broken = try run(toolPath, ["deploy", "--alias", "dev", "--profile", "keys"], cwd: work.path, env: profileEnv)
        #expect(broken.status == 1)
        let lastLine = broken.stderr.split(separator: "\n").last.map(String.init)
        #expect(lastLine == "error: credential_process of AWS profile keys: 'no-such-credential-helper' was not found; check the command in \(home.path)/.aws/config and PATH", "\(broken.stderr)")
    }

    @Test func anUnknownFunctionIsOneLineNamingItAndTheRegion() throws {
        let result = try tool(["deploy", "--alias", "dev", "--function", "no-such-function"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("no-such-function"))
        #expect(result.stderr.contains("us-east-1"))
    }

    @Test func largePackagesGoThroughS3NamedByContent() throws {
        // 52 MB of incompressible bytes: over Lambda's direct-upload cap once base64-encoded.
        let big = work.path + "/src/blob.bin"
        #expect(FileManager.default.createFile(atPath: big, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: big))
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<52 {
            handle.write(Data((0..<1_048_576).map { _ in UInt8.random(in: 0...255, using: &generator) }))
        }
        try handle.close()
        let bucket = uniqueName("packages")
        _ = try run("python3", [packageRoot + "/ci/support/moto_local.py", "create-bucket", endpoint, bucket], cwd: packageRoot, env: ProcessInfo.processInfo.environment)

        let refused = try tool(["deploy", "--alias", "dev"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("S3 bucket") || refused.stderr.contains("--s3-bucket"))

        let viaS3 = try tool(["deploy", "--alias", "dev", "--s3-bucket", bucket, "--json"])
        #expect(viaS3.status == 0, "\(viaS3.output)")
        let json = try viaS3.json()
        #expect(json["upload"] as? String == "s3")
        #expect(json["result"] as? String == "deployed")
        // Not a terminal: the 52 MB upload says how far it is at each quarter, through the real
        // transport (libcurl's transfer callback), in plain lines.
        let progress = viaS3.stderr.split(separator: "\n").filter { $0.hasPrefix("uploading ") && $0.hasSuffix("% sent") }
        #expect(progress.map { $0.split(separator: " ").suffix(2).joined(separator: " ") } == ["25% sent", "50% sent", "75% sent", "100% sent"], "\(viaS3.stderr)")
    }
}
