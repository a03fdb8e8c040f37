public import Foundation
internal import Safety

/// AWS credentials and where they came from. Secrets never appear in `description`,
/// `debugDescription`, string interpolation or `dump`.
public struct AWSCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let accessKeyId: String
    public let secretAccessKey: String
    public let sessionToken: String?
    public let expiration: Date?
    /// Human description of the source, e.g. "environment", "profile default in ~/.aws/credentials".
    public let source: String

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil, source: String) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
        self.source = source
    }

    /// The access key id with all but its last four characters masked (as `aws configure list` does).
    public var maskedAccessKeyId: String {
        accessKeyId.count <= 4 ? "****" : String(repeating: "*", count: 4) + accessKeyId.suffix(4)
    }

    public var description: String {
        "AWSCredentials(accessKeyId: \(maskedAccessKeyId), secretAccessKey: <redacted>, sessionToken: \(sessionToken == nil ? "none" : "<redacted>"), source: \(source))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "accessKeyId": maskedAccessKeyId, "secretAccessKey": "<redacted>",
                "sessionToken": sessionToken == nil ? "none" : "<redacted>",
                "expiration": expiration.map { "\($0)" } ?? "none", "source": source,
            ], displayStyle: .struct)
    }
}

extension AWSCredentials {
    /// Where each part of a set of credentials was read, for messages (a variable, a profile key).
    struct Origin {
        var keyId: String
        var secret: String
        var token: String
    }

    /// Every set of credentials the chain obtains passes here once, wherever it came from
    /// (environment, shared files, credential_process, STS): a value with a line break or any
    /// other control character (a key pasted with its newline) is refused naming where it was
    /// read — it would otherwise go out as a broken header — and the secret key and session
    /// token are registered with the redactor, so no output of the process can show them.
    func vetted(_ origin: Origin) throws -> AWSCredentials {
        for (value, name) in [(accessKeyId, origin.keyId), (secretAccessKey, origin.secret), (sessionToken ?? "", origin.token)]
        where value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw AWSError.malformedCredential(name: name)
        }
        Redactor.shared.register(secretAccessKey)
        Redactor.shared.register(sessionToken)
        return self
    }
}

/// Reads configuration files. Tests pass an in-memory fake.
public protocol FileReading: Sendable {
    /// The file's text, or `nil` when it does not exist.
    func contents(ofFile path: String) throws -> String?
    /// The file's permission bits (`0o600`), or nil when unknown.
    func permissions(ofFile path: String) -> Int?
}

extension FileReading {
    public func permissions(ofFile path: String) -> Int? { nil }
}

/// Reads the local file system.
public struct LocalFileReader: FileReading {
    public init() {}
    public func contents(ofFile path: String) throws -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        guard !isDirectory.boolValue else {
            throw AWSError.credentialsFile(path: path, line: nil, problem: "is a directory, not a file; point the variable that names it at a file (or unset it)")
        }
        // Read through a file handle rather than String(contentsOfFile:), which refuses character
        // devices: AWS_CONFIG_FILE=/dev/null is a common way to say "no config file".
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw AWSError.credentialsFile(path: path, line: nil, problem: "cannot be opened; check its permissions")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.readToEnd() ?? Data()
        } catch {
            throw AWSError.credentialsFile(path: path, line: nil, problem: "cannot be read; check its permissions")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw AWSError.credentialsFile(path: path, line: nil, problem: "is not UTF-8 text; save it as UTF-8 (it is an INI file)")
        }
        return text
    }

    public func permissions(ofFile path: String) -> Int? {
        var status = stat()
        guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(status.st_mode & 0o777)
    }
}

/// Exchanges a web identity token for temporary credentials (STS AssumeRoleWithWebIdentity).
public typealias WebIdentityExchange = @Sendable (_ roleArn: String, _ sessionName: String, _ token: String) async throws -> AWSCredentials

/// Resolves credentials in the order AWS SDKs use: environment, web identity, shared files.
///
/// https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html
public struct CredentialChain: Sendable {
    public let environment: [String: String]
    public let files: any FileReading
    public let processes: any CredentialProcessRunning
    public let now: @Sendable () -> Date
    /// Hears warnings the user must see (a credentials file others can read).
    public let warn: @Sendable (String) -> Void

    public init(
        environment: [String: String], files: any FileReading = LocalFileReader(),
        processes: any CredentialProcessRunning = LocalCredentialProcessRunner(), now: @escaping @Sendable () -> Date = { Date() },
        warn: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.environment = environment
        self.files = files
        self.processes = processes
        self.now = now
        self.warn = warn
    }

    /// For callers whose profiles never assume a role.
    public static let noRoleAssumption: RoleAssumption = { _, request in
        throw AWSError.credentialsFile(path: "AWS config", line: nil, problem: "cannot assume role \(request.roleArn) here")
    }

    private func value(_ name: String) -> String? {
        guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    /// The first source that has credentials. `webIdentity` performs the STS exchange (production:
    /// `STSClient.assumeRoleWithWebIdentity`), `assumeRole` a profile's `role_arn` (production:
    /// `STSClient.assumeRole`).
    public func resolve(webIdentity: WebIdentityExchange, assumeRole: RoleAssumption = noRoleAssumption) async throws -> AWSCredentials {
        var searched: [String] = []

        // 1. Environment.
        let keyId = value("AWS_ACCESS_KEY_ID")
        let secret = value("AWS_SECRET_ACCESS_KEY")
        if let keyId, let secret {
            return try AWSCredentials(accessKeyId: keyId, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"), source: "environment")
                .vetted(.init(keyId: "AWS_ACCESS_KEY_ID", secret: "AWS_SECRET_ACCESS_KEY", token: "AWS_SESSION_TOKEN"))
        }
        if keyId != nil || secret != nil {
            throw AWSError.incompleteCredentials(
                source: "environment",
                problem: keyId == nil ? "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not" : "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        }
        searched.append("environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)")

        // 2. Web identity (GitHub Actions OIDC and EKS).
        if let roleArn = value("AWS_ROLE_ARN"), let tokenFile = value("AWS_WEB_IDENTITY_TOKEN_FILE") {
            guard let token = try files.contents(ofFile: tokenFile)?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
                throw AWSError.credentialsFile(path: tokenFile, line: nil, problem: "web identity token file (AWS_WEB_IDENTITY_TOKEN_FILE) is missing or empty; check that variable's path and that the CI job requests an OIDC token")
            }
            Redactor.shared.register(token)
            let session = value("AWS_ROLE_SESSION_NAME") ?? "lambda-deploy-\(Int(now().timeIntervalSince1970))"
            let credentials = try await webIdentity(roleArn, session, token)
            return AWSCredentials(
                accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey,
                sessionToken: credentials.sessionToken, expiration: credentials.expiration,
                source: "web identity (\(roleArn))")
        }
        searched.append("web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE)")

        // 3. Shared credentials and config files.
        let shared = SharedConfigFiles(environment: environment, files: files, warn: warn)
        if let credentials = try await shared.resolveCredentials(
            now: now(), assumeRole: assumeRole, processes: processes, environment: environment)
        {
            return credentials
        }
        if shared.profileIsExplicit, try !shared.profileExists() {
            throw AWSError.unknownProfile(name: shared.profile, files: [shared.credentialsDisplay, shared.configDisplay])
        }
        searched.append(contentsOf: shared.searchedDescriptions)
        throw AWSError.noCredentials(searched: searched)
    }
}

/// The shared `~/.aws/credentials` and `~/.aws/config` files for the selected profile.
///
/// https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html — in the config file every
/// profile but `default` is written `[profile NAME]`; in the credentials file it is `[NAME]`.
public struct SharedConfigFiles: Sendable {
    public let profile: String
    /// Whether the profile was named (AWS_PROFILE, or `--profile` passed as AWS_PROFILE) rather
    /// than the implicit `default`: a named profile that exists nowhere is a typo worth naming.
    public let profileIsExplicit: Bool
    let credentialsPath: String?
    let configPath: String?
    let credentialsDisplay: String
    let configDisplay: String
    let files: any FileReading
    /// Each file read and parsed once: resolving a profile (its role, its source, their keys)
    /// looks sections up many times.
    private let parsed = ParsedFiles()
    let warn: @Sendable (String) -> Void

    public init(environment: [String: String], files: any FileReading = LocalFileReader(), warn: @escaping @Sendable (String) -> Void = { _ in }) {
        self.warn = warn
        func value(_ name: String) -> String? {
            guard let value = environment[name], !value.isEmpty else { return nil }
            return value
        }
        profile = value("AWS_PROFILE") ?? value("AWS_DEFAULT_PROFILE") ?? "default"
        profileIsExplicit = value("AWS_PROFILE") != nil || value("AWS_DEFAULT_PROFILE") != nil
        let home = value("HOME")
        credentialsPath = value("AWS_SHARED_CREDENTIALS_FILE") ?? home.map { "\($0)/.aws/credentials" }
        configPath = value("AWS_CONFIG_FILE") ?? home.map { "\($0)/.aws/config" }
        credentialsDisplay = value("AWS_SHARED_CREDENTIALS_FILE") ?? "~/.aws/credentials"
        configDisplay = value("AWS_CONFIG_FILE") ?? "~/.aws/config"
        self.files = files
    }

    var searchedDescriptions: [String] {
        [
            "profile \(profile) in \(credentialsDisplay)\(credentialsPath == nil ? " (HOME not set)" : "")",
            "profile \(profile) in \(configDisplay)\(configPath == nil ? " (HOME not set)" : "")",
        ]
    }

    /// A profile's section from one file, or nil when the file or section is absent.
    private func section(of name: String, in path: String?, isConfig: Bool) throws -> INISection? {
        guard let path, let sections = try parsed.sections(of: path, from: files) else { return nil }
        let wanted = isConfig && name != "default" ? "profile \(name)" : name
        return sections.last { $0.name == wanted }
            ?? (isConfig && name == "default" ? sections.last { $0.name == "profile default" } : nil)
    }

    /// Whether either file has a section for the selected profile (with or without credentials in it).
    public func profileExists() throws -> Bool {
        try profileExists(profile)
    }

    func profileExists(_ name: String) throws -> Bool {
        try section(of: name, in: credentialsPath, isConfig: false) != nil || section(of: name, in: configPath, isConfig: true) != nil
    }

    /// Every setting of a profile: the config file's, overridden by the credentials file's.
    func settings(of name: String) throws -> ProfileSettings {
        var settings = ProfileSettings(name: name)
        if let section = try section(of: name, in: configPath, isConfig: true) { settings.merge(section, file: configDisplay) }
        if let section = try section(of: name, in: credentialsPath, isConfig: false) { settings.merge(section, file: credentialsDisplay) }
        return settings
    }

    /// The static keys of a profile (credentials file first, then config file), or nil when neither has any.
    func staticCredentials(of name: String, now: Date) throws -> AWSCredentials? {
        for (path, display, isConfig) in [(credentialsPath, credentialsDisplay, false), (configPath, configDisplay, true)] {
            guard let section = try section(of: name, in: path, isConfig: isConfig) else { continue }
            let where_ = "profile \(name) in \(display)"
            let keyId = section.values["aws_access_key_id"]
            let secret = section.values["aws_secret_access_key"]
            if keyId == nil && secret == nil { continue }
            guard let keyId, !keyId.value.isEmpty else {
                throw AWSError.credentialsFile(path: display, line: section.line, problem: "profile \(name) has aws_secret_access_key but no aws_access_key_id; add the key id to that profile")
            }
            guard let secret, !secret.value.isEmpty else {
                throw AWSError.credentialsFile(path: display, line: keyId.line, problem: "profile \(name) has aws_access_key_id but no aws_secret_access_key; add the secret to that profile")
            }
            var expiration: Date?
            if let expires = section.values["aws_expiration"] ?? section.values["expiration"] ?? section.values["x_security_token_expires"] {
                guard let date = parseISO8601(expires.value) else {
                    throw AWSError.credentialsFile(path: display, line: expires.line, problem: "expiration '\(expires.value)' is not an ISO 8601 time; write it like 2030-01-01T00:00:00Z or refresh the credentials")
                }
                if date <= now {
                    throw AWSError.credentialsFile(
                        path: display, line: expires.line,
                        problem: "the credentials of profile \(name) expired at \(expires.value); refresh them (e.g. log in again)")
                }
                expiration = date
            }
            if let path, let mode = files.permissions(ofFile: path), mode & 0o077 != 0 {
                // What ssh says of a private key others can read, for the file that holds these keys.
                warn(
                    "permissions \(String(format: "%04o", mode)) for \(DisplayText.escaped(display)) are too open: other users of this machine can read the secret keys in it; run `chmod 600 \(DisplayText.escaped(path))`")
            }
            let lineOf = { (key: String) in section.values[key].map { ":\($0.line)" } ?? "" }
            return try AWSCredentials(
                accessKeyId: keyId.value, secretAccessKey: secret.value,
                sessionToken: section.values["aws_session_token"]?.value, expiration: expiration, source: where_
            ).vetted(
                .init(
                    keyId: "aws_access_key_id of profile \(name) in \(display)\(lineOf("aws_access_key_id"))",
                    secret: "aws_secret_access_key of profile \(name) in \(display)\(lineOf("aws_secret_access_key"))",
                    token: "aws_session_token of profile \(name) in \(display)\(lineOf("aws_session_token"))"))
        }
        return nil
    }

    /// The profile's `region` from the config file (or, as some tools write it, the credentials file).
    public func region() throws -> (region: String, source: String)? {
        for (path, display, isConfig) in [(configPath, configDisplay, true), (credentialsPath, credentialsDisplay, false)] {
            if let region = try section(of: profile, in: path, isConfig: isConfig)?.values["region"], !region.value.isEmpty {
                return (region.value, "profile \(profile) in \(display)")
            }
        }
        return nil
    }
}

/// The sections of each shared file, read and parsed on first use (nil: no such file).
private final class ParsedFiles: @unchecked Sendable {
    private let lock = NSLock()
    private var byPath: [String: [INISection]?] = [:]

    func sections(of path: String, from files: any FileReading) throws -> [INISection]? {
        if let known = lock.withLock({ byPath[path] }) { return known }
        // A file that fails to read or parse is not remembered: every lookup reports the error.
        let sections = try files.contents(ofFile: path).map { try INIFile.parse($0, path: path) }
        lock.withLock { byPath[path] = .some(sections) }
        return sections
    }
}

func parseISO8601(_ text: String) -> Date? {
    let formatter = ISO8601DateFormatter()
    if let date = formatter.date(from: text) { return date }
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.date(from: text)
}

struct INISection: Sendable {
    var name: String
    var line: Int
    var values: [String: (value: String, line: Int)] = [:]
}

/// The subset of INI the AWS shared files use: `[section]`, `key = value`, `#`/`;` comments,
/// indented continuation lines (nested `s3 =` settings) which are ignored.
enum INIFile {
    static func parse(_ text: String, path: String) throws -> [INISection] {
        var sections: [INISection] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else {
                    // Never quote the line: a key pasted after the header would be printed with it.
                    throw AWSError.credentialsFile(
                        path: path, line: lineNumber,
                        problem: "malformed section header: write it as [name] alone on its line (in the config file [profile name])")
                }
                let name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                    .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
                sections.append(INISection(name: name, line: lineNumber))
                continue
            }
            if rawLine.first == " " || rawLine.first == "\t" { continue }  // nested sub-setting
            guard let equals = line.firstIndex(of: "=") else {
                throw AWSError.credentialsFile(path: path, line: lineNumber, problem: "cannot read this line; each line must be '[profile]', 'key = value' or a # comment: fix or remove it")
            }
            guard !sections.isEmpty else {
                throw AWSError.credentialsFile(path: path, line: lineNumber, problem: "setting outside of any [section]; put it under a [profile] header")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty else {
                throw AWSError.credentialsFile(path: path, line: lineNumber, problem: "setting with an empty name; fix or remove that line")
            }
            sections[sections.count - 1].values[key] = (value, lineNumber)
        }
        return sections
    }
}
