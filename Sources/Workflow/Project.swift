import Foundation
public import ReleasePolicy
public import DeployLedger

/// Which function of the config a command acts on.
public enum FunctionChoice: Sendable {
    /// The config as written (history, show, notes, hook set-up read across functions).
    case all
    /// One function: the `--function` flag when given, else the config's only one (see
    /// `DeployConfig.selecting(function:)`).
    case one(String?)
    /// `package DIR`: the named function, else the `functions:` entry whose directory is DIR,
    /// else the config as written (its top-level `exclude:`).
    case packaging(String?, directory: String)
}

/// The repository, its config file and the CI context, read once per command.
///
/// The config is looked up in the current directory, then at the repository root; relative
/// paths in it (`directory`) are relative to the file. Without a file the defaults apply.
public final class Project {
    public let environment: RunEnvironment
    /// The config, narrowed to one function when the command asked for one.
    public let config: DeployConfig
    /// The config file that was read, or nil when the defaults are in force.
    public let configPath: String?
    /// The directory relative paths in the config are resolved against.
    public let root: String
    public let repository: GitRepository?
    public let ci: CIContext

    public static let configFileName = "lambda-deploy.yml"

    public init(environment: RunEnvironment, configPath explicitPath: String? = nil, function choice: FunctionChoice = .all) throws {
        self.environment = environment
        self.repository = try GitRepository.discover(from: environment.currentDirectory)
        self.ci = CIEnvironmentReader(environment: environment.variables).read()

        var candidates: [String] = []
        if let explicitPath {
            candidates = [environment.absolutePath(explicitPath)]
        } else {
            candidates.append(environment.currentDirectory + "/" + Self.configFileName)
            if let workdir = repository?.workdir {
                let rootFile = (workdir.hasSuffix("/") ? workdir : workdir + "/") + Self.configFileName
                if rootFile != candidates[0] { candidates.append(rootFile) }
            }
        }
        let found = candidates.first { FileManager.default.fileExists(atPath: $0) }
        if let explicitPath, found == nil {
            throw WorkflowError.configUnreadable(path: explicitPath, reason: "no such file; check the --config path")
        }
        if let found {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: found, isDirectory: &isDirectory), isDirectory.boolValue {
                throw WorkflowError.configUnreadable(path: found, reason: "it is a directory; pass the YAML file itself (--config DIR/lambda-deploy.yml)")
            }
            // Bounded: `--config /dev/zero` must not be read forever, and a FIFO would block at open.
            var info = stat()
            guard stat(found, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
                throw WorkflowError.configUnreadable(path: found, reason: "it is not a regular file; pass the YAML file itself")
            }
            guard let handle = FileHandle(forReadingAtPath: found) else {
                throw WorkflowError.configUnreadable(path: found, reason: "it cannot be opened; check its permissions")
            }
            defer { try? handle.close() }
            let data: Data
            do {
                data = try handle.read(upToCount: DeployConfig.maxFileBytes + 1) ?? Data()
            } catch {
                throw WorkflowError.configUnreadable(path: found, reason: "it cannot be read (\(describe(error)))")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw WorkflowError.configUnreadable(path: found, reason: "it is not UTF-8 text; save it as UTF-8")
            }
            let parsed = try DeployConfig.parse(yaml: text, file: found)
            let root = (found as NSString).deletingLastPathComponent
            self.config = try Self.narrow(parsed, to: choice, root: root)
            self.configPath = found
            self.root = root
        } else {
            self.configPath = nil
            let root = repository?.workdir.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
                ?? environment.currentDirectory
            self.config = try Self.narrow(.default, to: choice, root: root)
            self.root = root
        }
    }

    private static func narrow(_ config: DeployConfig, to choice: FunctionChoice, root: String) throws -> DeployConfig {
        switch choice {
        case .all:
            return config
        case .one(let name):
            return try config.selecting(function: name)
        case .packaging(let name, let directory):
            if name != nil { return try config.selecting(function: name) }
            let matching = config.functions.first { entry in
                guard let path = entry.directory ?? config.directory else { return false }
                let absolute = path.hasPrefix("/") ? path : root + "/" + path
                return URL(fileURLWithPath: absolute).standardizedFileURL.path == directory
            }
            return try matching.map { try config.selecting(function: $0.name) } ?? config
        }
    }

    private init(copying other: Project, config: DeployConfig) {
        environment = other.environment
        self.config = config
        configPath = other.configPath
        root = other.root
        repository = other.repository
        ci = other.ci
    }

    /// This project narrowed to one function of its `functions:` list, sharing the repository
    /// and CI context (one Project per command, however many functions it deploys).
    public func narrowed(to function: String) throws -> Project {
        Project(copying: self, config: try config.selecting(function: function))
    }

    /// The repository, for commands that only make sense inside one (history, hooks, notes).
    public func requireRepository() throws -> GitRepository {
        guard let repository else { throw WorkflowError.notARepository(path: environment.currentDirectory) }
        return repository
    }

    /// A path from the config file, resolved against the file's directory.
    public func configRelativePath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: root + "/" + path).standardizedFileURL.path
    }

    /// The function directory's path relative to the repository's work tree (for dirty checks).
    public func pathInRepository(_ absolute: String) -> String? {
        guard let workdir = repository?.workdir else { return nil }
        let base = workdir.hasSuffix("/") ? workdir : workdir + "/"
        let resolvedBase = URL(fileURLWithPath: base).resolvingSymlinksInPath().path + "/"
        let resolved = URL(fileURLWithPath: absolute).resolvingSymlinksInPath().path
        if resolved + "/" == resolvedBase { return "" }
        guard resolved.hasPrefix(resolvedBase) else { return nil }
        return String(resolved.dropFirst(resolvedBase.count))
    }
}
