public import Foundation

/// One STS AssumeRole call a profile asks for (`role_arn` and its companions).
public struct AssumeRoleRequest: Sendable, Equatable {
    public var roleArn: String
    public var sessionName: String
    public var externalId: String?
    public var durationSeconds: Int?

    public init(roleArn: String, sessionName: String, externalId: String? = nil, durationSeconds: Int? = nil) {
        self.roleArn = roleArn
        self.sessionName = sessionName
        self.externalId = externalId
        self.durationSeconds = durationSeconds
    }
}

/// Assumes a role with the given source credentials (production: `STSClient.assumeRole`).
public typealias RoleAssumption = @Sendable (_ source: AWSCredentials, _ request: AssumeRoleRequest) async throws -> AWSCredentials

/// What a `credential_process` command left behind.
public struct CredentialProcessResult: Sendable {
    public var status: Int32
    public var stdout: Data

    public init(status: Int32, stdout: Data) {
        self.status = status
        self.stdout = stdout
    }
}

/// Runs a profile's `credential_process` command. Tests pass a fake.
public protocol CredentialProcessRunning: Sendable {
    /// Runs `arguments` (the command already split, the program first) with `environment`; the
    /// command's stderr goes to ours. Throws when it cannot be started or does not finish in time.
    func run(_ arguments: [String], environment: [String: String]) throws -> CredentialProcessResult
}

/// Starts the command as a child process, the way the AWS CLI does: split like a shell would
/// split it, but not run through a shell; looked up on PATH; stdin empty; 60 s to finish.
public struct LocalCredentialProcessRunner: CredentialProcessRunning {
    public var timeout: TimeInterval

    public init(timeout: TimeInterval = 60) {
        self.timeout = timeout
    }

    public func run(_ arguments: [String], environment: [String: String]) throws -> CredentialProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["--"] + arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardError = FileHandle.standardError
        let output = Pipe()
        process.standardOutput = output
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        // Read while it runs, so a chatty command never blocks on a full pipe.
        let collected = CollectedOutput()
        let reading = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            collected.data = output.fileHandleForReading.readDataToEndOfFile()
            reading.signal()
        }
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            _ = finished.wait(timeout: .now() + 5)
            throw AWSError.credentialProcess(
                profile: "", problem: "did not finish within \(Int(timeout)) s; run it yourself to see where it waits (it gets no input)")
        }
        _ = reading.wait(timeout: .now() + 5)
        return CredentialProcessResult(status: process.terminationStatus, stdout: collected.data)
    }

    /// Written by the reading thread before it signals, read after the wait.
    private final class CollectedOutput: @unchecked Sendable {
        var data = Data()
    }
}

/// The `credential_process` contract: split the command, read its JSON.
///
/// https://docs.aws.amazon.com/sdkref/latest/guide/feature-process-credentials.html
enum CredentialProcess {
    /// Splits a command line as a POSIX shell would split words: blanks separate, single quotes
    /// keep everything, double quotes keep all but `\"` and `\\`, a backslash escapes the next
    /// character. Nil when a quote is left open.
    static func split(_ command: String) -> [String]? {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in command {
            if escaped {
                current.append(character)
                escaped = false
                continue
            }
            switch (quote, character) {
            case ("'", "'"), ("\"", "\""):
                quote = nil
            case ("'", _):
                current.append(character)
            case ("\"", "\\"):
                escaped = true
            case ("\"", _):
                current.append(character)
            case (nil, "'"), (nil, "\""):
                quote = character
                inWord = true
            case (nil, "\\"):
                escaped = true
                inWord = true
            case (nil, " "), (nil, "\t"):
                if inWord { words.append(current) }
                current = ""
                inWord = false
            default:
                current.append(character)
                inWord = true
            }
        }
        guard quote == nil, !escaped else { return nil }
        if inWord { words.append(current) }
        return words
    }

    /// The credentials in the command's output. Errors never quote the output: it holds secrets.
    static func credentials(from output: Data, profile: String, now: Date) throws -> AWSCredentials {
        func fail(_ problem: String) -> AWSError { .credentialProcess(profile: profile, problem: problem) }
        let contract = "print {\"Version\": 1, \"AccessKeyId\": ..., \"SecretAccessKey\": ...} (SessionToken and Expiration optional)"
        guard let object = try? JSONSerialization.jsonObject(with: output), let fields = object as? [String: Any] else {
            throw fail("its output is not a JSON object; it must \(contract)")
        }
        guard let version = fields["Version"] as? Int, version == 1 else {
            throw fail("its output has no \"Version\": 1 (the only version there is); it must \(contract)")
        }
        guard let keyId = fields["AccessKeyId"] as? String, !keyId.isEmpty,
              let secret = fields["SecretAccessKey"] as? String, !secret.isEmpty
        else {
            throw fail("its output lacks AccessKeyId or SecretAccessKey; it must \(contract)")
        }
        var expiration: Date?
        if let text = fields["Expiration"] as? String {
            guard let date = parseISO8601(text) else {
                throw fail("its Expiration '\(text)' is not an ISO 8601 time like 2030-01-01T00:00:00Z")
            }
            guard date > now else {
                throw fail("it returned credentials that expired at \(text); refresh whatever it reads them from")
            }
            expiration = date
        }
        let token = (fields["SessionToken"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        return try AWSCredentials(
            accessKeyId: keyId, secretAccessKey: secret, sessionToken: token, expiration: expiration,
            source: "profile \(profile) (credential_process)"
        ).vetted(
            .init(
                keyId: "AccessKeyId from the credential_process of profile \(profile)",
                secret: "SecretAccessKey from the credential_process of profile \(profile)",
                token: "SessionToken from the credential_process of profile \(profile)"))
    }
}

/// The settings of one profile across both shared files: the config file's, overridden by the
/// credentials file's (the AWS CLI merges them the same way), each remembering where it was written.
struct ProfileSettings {
    struct Setting {
        var value: String
        var line: Int
        var file: String
    }

    var name: String
    private var settings: [String: Setting] = [:]

    init(name: String) {
        self.name = name
    }

    subscript(_ key: String) -> Setting? {
        guard let setting = settings[key], !setting.value.isEmpty else { return nil }
        return setting
    }

    mutating func merge(_ section: INISection, file: String) {
        for (key, entry) in section.values {
            settings[key] = Setting(value: entry.value, line: entry.line, file: file)
        }
    }
}

extension SharedConfigFiles {
    /// The selected profile's credentials, or nil when the files say nothing about them.
    ///
    /// In a profile, `role_arn` comes first (assume that role with the credentials of
    /// `source_profile`, which may itself assume a role), then static keys, then
    /// `credential_process`. A profile used as a source gives its static keys when it has them,
    /// so a profile can name itself as its source. SSO, MFA and `credential_source` get a
    /// one-line refusal naming the way around it.
    func resolveCredentials(
        now: Date, assumeRole: RoleAssumption, processes: any CredentialProcessRunning, environment: [String: String]
    ) async throws -> AWSCredentials? {
        try await credentials(of: profile, chain: [], now: now, assumeRole: assumeRole, processes: processes, environment: environment)
    }

    private func credentials(
        of name: String, chain: [String], now: Date, assumeRole: RoleAssumption,
        processes: any CredentialProcessRunning, environment: [String: String]
    ) async throws -> AWSCredentials? {
        let asSource = !chain.isEmpty
        let settings = try self.settings(of: name)
        if asSource, let keys = try staticCredentials(of: name, now: now) { return keys }
        if let role = settings["role_arn"] {
            return try await assumedRole(
                role, settings: settings, chain: chain + [name], now: now, assumeRole: assumeRole,
                processes: processes, environment: environment)
        }
        if let keys = try staticCredentials(of: name, now: now) { return keys }
        if let command = settings["credential_process"] {
            return try processCredentials(command, profile: name, now: now, processes: processes, environment: environment)
        }
        if let sso = settings["sso_session"] ?? settings["sso_start_url"] {
            throw AWSError.credentialsFile(
                path: sso.file, line: sso.line,
                problem: "profile \(name) signs in with AWS SSO, which lambda-deploy does not support; run `aws sso login` and export the keys with `eval \"$(aws configure export-credentials --profile \(name) --format env)\"`")
        }
        return nil
    }

    private func assumedRole(
        _ role: ProfileSettings.Setting, settings: ProfileSettings, chain: [String], now: Date, assumeRole: RoleAssumption,
        processes: any CredentialProcessRunning, environment: [String: String]
    ) async throws -> AWSCredentials {
        let name = settings.name
        if let mfa = settings["mfa_serial"] {
            throw AWSError.credentialsFile(
                path: mfa.file, line: mfa.line,
                problem: "profile \(name) needs an MFA code (mfa_serial), and lambda-deploy never prompts; export temporary keys, e.g. `eval \"$(aws configure export-credentials --profile \(name) --format env)\"`")
        }
        if let other = settings["credential_source"] {
            throw AWSError.credentialsFile(
                path: other.file, line: other.line,
                problem: "profile \(name) takes its source credentials from credential_source = \(other.value), which lambda-deploy does not support; use source_profile, or export keys (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)")
        }
        guard let source = settings["source_profile"] else {
            throw AWSError.credentialsFile(
                path: role.file, line: role.line,
                problem: "profile \(name) has role_arn but no source_profile; add `source_profile = PROFILE` naming the profile whose keys may assume the role")
        }
        let namesItselfWithKeys = try source.value == name && staticCredentials(of: name, now: now) != nil
        if chain.contains(source.value) && !namesItselfWithKeys {
            throw AWSError.credentialsFile(
                path: source.file, line: source.line,
                problem: "source_profile goes round in a circle (\((chain + [source.value]).joined(separator: " -> "))); end the chain at a profile with keys")
        }
        guard try profileExists(source.value) else {
            throw AWSError.credentialsFile(
                path: source.file, line: source.line,
                problem: "profile \(name) names source_profile \(source.value), which neither \(credentialsDisplay) nor \(configDisplay) defines; check the name")
        }
        guard let sourceCredentials = try await credentials(
            of: source.value, chain: chain, now: now, assumeRole: assumeRole, processes: processes, environment: environment)
        else {
            throw AWSError.credentialsFile(
                path: source.file, line: source.line,
                problem: "source_profile \(source.value) of profile \(name) has no credentials (keys, role_arn or credential_process); add them to it")
        }
        var duration: Int?
        if let text = settings["duration_seconds"] {
            guard let seconds = Int(text.value), (900...43_200).contains(seconds) else {
                throw AWSError.credentialsFile(
                    path: text.file, line: text.line,
                    problem: "duration_seconds '\(text.value)' must be a whole number of seconds from 900 to 43200")
            }
            duration = seconds
        }
        let request = AssumeRoleRequest(
            roleArn: role.value,
            sessionName: settings["role_session_name"]?.value ?? "lambda-deploy-\(Int(now.timeIntervalSince1970))",
            externalId: settings["external_id"]?.value, durationSeconds: duration)
        let assumed = try await assumeRole(sourceCredentials, request)
        return AWSCredentials(
            accessKeyId: assumed.accessKeyId, secretAccessKey: assumed.secretAccessKey, sessionToken: assumed.sessionToken,
            expiration: assumed.expiration, source: "profile \(name) (role \(role.value) via \(sourceCredentials.source))")
    }

    private func processCredentials(
        _ command: ProfileSettings.Setting, profile name: String, now: Date, processes: any CredentialProcessRunning,
        environment: [String: String]
    ) throws -> AWSCredentials {
        guard let arguments = CredentialProcess.split(command.value), !arguments.isEmpty else {
            throw AWSError.credentialsFile(
                path: command.file, line: command.line,
                problem: "credential_process of profile \(name) has an unclosed quote or is empty; quote the command like a shell command line")
        }
        let result: CredentialProcessResult
        do {
            result = try processes.run(arguments, environment: environment)
        } catch AWSError.credentialProcess(_, let problem) {
            throw AWSError.credentialProcess(profile: name, problem: problem)
        } catch {
            throw AWSError.credentialProcess(profile: name, problem: "cannot start '\(arguments[0])': \(error.localizedDescription); check the command in \(command.file)")
        }
        guard result.status == 0 else {
            // /usr/bin/env answers 127 when it cannot find the program.
            let problem = result.status == 127
                ? "'\(arguments[0])' was not found; check the command in \(command.file) and PATH"
                : "the command exited with status \(result.status) (its own message, if any, is above); run it yourself to see why"
            throw AWSError.credentialProcess(profile: name, problem: problem)
        }
        return try CredentialProcess.credentials(from: result.stdout, profile: name, now: now)
    }
}
