import Foundation
import Testing
@testable import AWSClient

/// A credential_process runner that answers from a table and remembers what it ran.
final class FakeProcesses: CredentialProcessRunning, @unchecked Sendable {
    private let lock = NSLock()
    private var answers: [String: CredentialProcessResult]
    private(set) var ran: [[String]] = []

    init(_ answers: [String: CredentialProcessResult] = [:]) {
        self.answers = answers
    }

    func run(_ arguments: [String], environment: [String: String]) throws -> CredentialProcessResult {
        lock.lock()
        defer { lock.unlock() }
        ran.append(arguments)
        guard let answer = answers[arguments.joined(separator: " ")] else {
            throw TransportFailure(.other, "no such program")
        }
        return answer
    }
}

/// Records AssumeRole calls and answers with credentials derived from the role name.
final class FakeSTS: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var calls: [(source: AWSCredentials, request: AssumeRoleRequest)] = []

    private func record(_ source: AWSCredentials, _ request: AssumeRoleRequest) {
        lock.withLock { calls.append((source, request)) }
    }

    var assumption: RoleAssumption {
        { source, request in
            self.record(source, request)
            let role = request.roleArn.split(separator: "/").last.map(String.init) ?? "role"
            return AWSCredentials(
                accessKeyId: "ASIA\(role.uppercased())", secretAccessKey: "secret-of-\(role)", sessionToken: "token-of-\(role)",
                expiration: Date(timeIntervalSince1970: 1_700_003_600), source: "sts")
        }
    }
}

@Suite("Profiles with roles and credential processes")
struct ProfileCredentialTests {
    static let now = Date(timeIntervalSince1970: 1_700_000_000)
    let noExchange: WebIdentityExchange = { _, _, _ in throw TransportFailure(.other, "unexpected web identity call") }

    func resolve(
        profile: String? = nil, config: String = "", credentials: String = "", processes: FakeProcesses = FakeProcesses(),
        sts: FakeSTS = FakeSTS()
    ) async throws -> AWSCredentials {
        var environment = ["HOME": "/home/dev"]
        if let profile { environment["AWS_PROFILE"] = profile }
        let files = FakeFiles(["/home/dev/.aws/config": config, "/home/dev/.aws/credentials": credentials])
        return try await CredentialChain(environment: environment, files: files, processes: processes, now: { Self.now })
            .resolve(webIdentity: noExchange, assumeRole: sts.assumption)
    }

    func failure(
        profile: String? = nil, config: String = "", credentials: String = "", processes: FakeProcesses = FakeProcesses()
    ) async throws -> String {
        let error = await #expect(throws: AWSError.self) {
            _ = try await resolve(profile: profile, config: config, credentials: credentials, processes: processes)
        }
        let message = try #require(error?.errorDescription)
        #expect(!message.contains("\n"), "\(message)")
        return message
    }

    // MARK: role_arn

    @Test func aRoleIsAssumedWithTheSourceProfilesKeys() async throws {
        let sts = FakeSTS()
        let config = """
            [profile deployer]
            role_arn = arn:aws:iam::123456789012:role/deploy
            source_profile = base
            role_session_name = ci-run
            external_id = shared-secret-id
            duration_seconds = 1800
            region = eu-west-1
            """
        let credentials = try await resolve(
            profile: "deployer", config: config,
            credentials: "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = basesecret\n", sts: sts)
        #expect(credentials.accessKeyId == "ASIADEPLOY")
        #expect(credentials.sessionToken == "token-of-deploy")
        #expect(credentials.source == "profile deployer (role arn:aws:iam::123456789012:role/deploy via profile base in ~/.aws/credentials)")
        let call = try #require(sts.calls.first)
        #expect(sts.calls.count == 1)
        #expect(call.source.accessKeyId == "AKIABASE")
        #expect(call.request == AssumeRoleRequest(
            roleArn: "arn:aws:iam::123456789012:role/deploy", sessionName: "ci-run", externalId: "shared-secret-id", durationSeconds: 1800))
    }

    @Test func chainedRolesAreAssumedInOrder() async throws {
        let sts = FakeSTS()
        let config = """
            [profile outer]
            role_arn = arn:aws:iam::2:role/outer
            source_profile = middle
            [profile middle]
            role_arn = arn:aws:iam::1:role/middle
            source_profile = root
            [profile root]
            aws_access_key_id = AKIAROOT
            aws_secret_access_key = rootsecret
            """
        let credentials = try await resolve(profile: "outer", config: config, sts: sts)
        #expect(sts.calls.map(\.request.roleArn) == ["arn:aws:iam::1:role/middle", "arn:aws:iam::2:role/outer"])
        #expect(sts.calls.map(\.source.accessKeyId) == ["AKIAROOT", "ASIAMIDDLE"])
        #expect(sts.calls.allSatisfy { $0.request.sessionName == "lambda-deploy-1700000000" })
        #expect(credentials.accessKeyId == "ASIAOUTER")
    }

    @Test func aProfileMayBeItsOwnSourceWhenItHasKeys() async throws {
        let sts = FakeSTS()
        let credentials = try await resolve(
            profile: "self",
            credentials: "[self]\naws_access_key_id = AKIASELF\naws_secret_access_key = s\nrole_arn = arn:aws:iam::1:role/admin\nsource_profile = self\n",
            sts: sts)
        #expect(sts.calls.map(\.source.accessKeyId) == ["AKIASELF"])
        #expect(credentials.accessKeyId == "ASIAADMIN")
    }

    @Test func theDefaultProfileCanAssumeARoleToo() async throws {
        let sts = FakeSTS()
        let credentials = try await resolve(
            config: "[default]\nrole_arn = arn:aws:iam::1:role/dev\nsource_profile = keys\n[profile keys]\naws_access_key_id = AKIAK\naws_secret_access_key = k\n",
            sts: sts)
        #expect(credentials.accessKeyId == "ASIADEV")
    }

    struct BadProfile: Sendable, CustomTestStringConvertible {
        var name: String
        var config: String
        var mentions: [String]
        var testDescription: String { name }
    }

    static let badProfiles: [BadProfile] = [
        BadProfile(
            name: "role without source", config: "[profile p]\nrole_arn = arn:aws:iam::1:role/r\n",
            mentions: ["~/.aws/config:2", "no source_profile", "source_profile = PROFILE"]),
        BadProfile(
            name: "missing source profile", config: "[profile p]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = nope\n",
            mentions: ["~/.aws/config:3", "source_profile nope", "neither"]),
        BadProfile(
            name: "source without credentials", config: "[profile p]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = empty\n[profile empty]\nregion = eu-west-1\n",
            mentions: ["source_profile empty", "has no credentials"]),
        BadProfile(
            name: "a loop", config: "[profile p]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = q\n[profile q]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = p\n",
            mentions: ["round in a circle", "p -> q -> p"]),
        BadProfile(
            name: "MFA", config: "[profile p]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = p\nmfa_serial = arn:aws:iam::1:mfa/me\n",
            mentions: ["~/.aws/config:4", "MFA", "export-credentials"]),
        BadProfile(
            name: "credential_source", config: "[profile p]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Ec2InstanceMetadata\n",
            mentions: ["credential_source = Ec2InstanceMetadata", "source_profile"]),
        BadProfile(
            name: "bad duration", config: "[profile p]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = k\nduration_seconds = 60\n[profile k]\naws_access_key_id = A\naws_secret_access_key = B\n",
            mentions: ["~/.aws/config:4", "900 to 43200"]),
        BadProfile(
            name: "SSO", config: "[profile p]\nsso_session = corp\nsso_account_id = 1\n",
            mentions: ["AWS SSO", "aws sso login", "export-credentials --profile p"]),
        BadProfile(
            name: "unclosed quote in credential_process", config: "[profile p]\ncredential_process = \"/opt/bin/creds --x\n",
            mentions: ["~/.aws/config:2", "unclosed quote"]),
    ]

    @Test(arguments: badProfiles) func badProfilesGetOneLineNamingTheFix(_ bad: BadProfile) async throws {
        let message = try await failure(profile: "p", config: bad.config)
        for word in bad.mentions { #expect(message.contains(word), "\(message)") }
    }

    // MARK: credential_process

    static let processOutput = #"{"Version": 1, "AccessKeyId": "ASIAPROC", "SecretAccessKey": "proc-secret-value", "SessionToken": "proc-token", "Expiration": "2030-01-01T00:00:00Z"}"#

    @Test func aCredentialProcessIsSplitRunAndRead() async throws {
        let processes = FakeProcesses([
            "/opt/bin/get creds --account 123 two words": CredentialProcessResult(status: 0, stdout: Data(Self.processOutput.utf8)),
        ])
        let credentials = try await resolve(
            profile: "p", config: "[profile p]\ncredential_process = /opt/bin/get\\ creds --account 123 'two words'\n", processes: processes)
        #expect(processes.ran == [["/opt/bin/get creds", "--account", "123", "two words"]])
        #expect(credentials.accessKeyId == "ASIAPROC")
        #expect(credentials.secretAccessKey == "proc-secret-value")
        #expect(credentials.sessionToken == "proc-token")
        #expect(credentials.source == "profile p (credential_process)")
    }

    @Test func keysInTheProfileComeBeforeItsCredentialProcess() async throws {
        let processes = FakeProcesses()
        let credentials = try await resolve(
            profile: "p", config: "[profile p]\naws_access_key_id = AKIAKEYS\naws_secret_access_key = k\ncredential_process = /never/run\n",
            processes: processes)
        #expect(credentials.accessKeyId == "AKIAKEYS")
        #expect(processes.ran.isEmpty)
    }

    @Test func aCredentialProcessCanBeTheSourceOfARole() async throws {
        let sts = FakeSTS()
        let processes = FakeProcesses(["creds": CredentialProcessResult(status: 0, stdout: Data(Self.processOutput.utf8))])
        let credentials = try await resolve(
            profile: "p",
            config: "[profile p]\nrole_arn = arn:aws:iam::1:role/deploy\nsource_profile = sso\n[profile sso]\ncredential_process = creds\n",
            processes: processes, sts: sts)
        #expect(sts.calls.map(\.source.accessKeyId) == ["ASIAPROC"])
        #expect(credentials.accessKeyId == "ASIADEPLOY")
    }

    struct BadOutput: Sendable, CustomTestStringConvertible {
        var name: String
        var result: CredentialProcessResult
        var mentions: [String]
        var testDescription: String { name }
    }

    static let badOutputs: [BadOutput] = [
        BadOutput(name: "exit status", result: CredentialProcessResult(status: 3, stdout: Data(processOutput.utf8)), mentions: ["status 3", "run it yourself"]),
        BadOutput(name: "not found", result: CredentialProcessResult(status: 127, stdout: Data()), mentions: ["'creds' was not found", "PATH"]),
        BadOutput(name: "not JSON", result: CredentialProcessResult(status: 0, stdout: Data("AKIA proc-secret-value\n".utf8)), mentions: ["not a JSON object"]),
        BadOutput(
            name: "version 2", result: CredentialProcessResult(status: 0, stdout: Data(#"{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "proc-secret-value"}"#.utf8)),
            mentions: ["\"Version\": 1"]),
        BadOutput(
            name: "no secret", result: CredentialProcessResult(status: 0, stdout: Data(#"{"Version": 1, "AccessKeyId": "ASIAPROC"}"#.utf8)),
            mentions: ["lacks AccessKeyId or SecretAccessKey"]),
        BadOutput(
            name: "expired",
            result: CredentialProcessResult(status: 0, stdout: Data(#"{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "proc-secret-value", "Expiration": "2020-01-01T00:00:00Z"}"#.utf8)),
            mentions: ["expired at 2020-01-01T00:00:00Z"]),
    ]

    /// A failing process gets one line naming the profile, never a byte of what it printed.
    @Test(arguments: badOutputs) func aFailingCredentialProcessIsNamedWithoutItsOutput(_ bad: BadOutput) async throws {
        let message = try await failure(
            profile: "p", config: "[profile p]\ncredential_process = creds\n", processes: FakeProcesses(["creds": bad.result]))
        #expect(message.hasPrefix("credential_process of AWS profile p: "), "\(message)")
        for word in bad.mentions { #expect(message.contains(word), "\(message)") }
        #expect(!message.contains("proc-secret-value"))
        #expect(!message.contains("ASIAPROC"))
    }

    @Test func splittingFollowsShellWords() {
        #expect(CredentialProcess.split("a b\tc") == ["a", "b", "c"])
        #expect(CredentialProcess.split(#"  "/path with/space" --flag='x y' \"q\" "#) == ["/path with/space", "--flag=x y", "\"q\""])
        #expect(CredentialProcess.split(#"a "b\"c" 'd\e'"#) == ["a", "b\"c", "d\\e"])
        #expect(CredentialProcess.split("''") == [""])
        #expect(CredentialProcess.split("a 'b") == nil)
        #expect(CredentialProcess.split("a\\") == nil)
        #expect(CredentialProcess.split("   ") == [])
    }

    /// The real runner: an actual child process through /usr/bin/env, its status and output.
    @Test func theLocalRunnerRunsTheCommand() throws {
        let runner = LocalCredentialProcessRunner()
        let environment = ["PATH": "/usr/bin:/bin", "ANSWER": "42"]
        let ok = try runner.run(["sh", "-c", "printf '{\"Version\": 1, \"V\": \"%s\"}' \"$ANSWER\""], environment: environment)
        #expect(ok.status == 0)
        #expect(String(decoding: ok.stdout, as: UTF8.self) == #"{"Version": 1, "V": "42"}"#)
        #expect(try runner.run(["sh", "-c", "exit 3"], environment: environment).status == 3)
        #expect(try runner.run(["no-such-program-here"], environment: environment).status == 127)
        let slow = LocalCredentialProcessRunner(timeout: 0.5)
        #expect(throws: AWSError.self) { try slow.run(["sleep", "5"], environment: environment) }
    }
}
