import Foundation

/// Everything the workflow reads from the process it runs in, captured once at the entry point.
///
/// The environment is a value so that tests can run a whole deploy with a fake CI environment
/// without touching the real process (STYLE.md: "the environment is a value").
public struct RunEnvironment: Sendable {
    public var variables: [String: String]
    public var currentDirectory: String
    public init(variables: [String: String], currentDirectory: String) {
        self.variables = variables
        self.currentDirectory = currentDirectory
    }

    /// The process's own environment (only the executable should call this).
    public static func current() -> RunEnvironment {
        RunEnvironment(
            variables: ProcessInfo.processInfo.environment,
            currentDirectory: FileManager.default.currentDirectoryPath)
    }

    public var homeDirectory: String {
        variables["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    }

    /// `$XDG_CACHE_HOME/lambda-deploy` or `~/.cache/lambda-deploy`; `LAMBDA_DEPLOY_CACHE_DIR` wins.
    public var cacheDirectory: String {
        if let explicit = variables["LAMBDA_DEPLOY_CACHE_DIR"], !explicit.isEmpty { return explicit }
        if let xdg = variables["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/lambda-deploy" }
        return homeDirectory + "/.cache/lambda-deploy"
    }

    /// Resolves a user-given path against the current directory.
    public func absolutePath(_ path: String) -> String {
        let joined = path.hasPrefix("/") ? path : currentDirectory + "/" + path
        return URL(fileURLWithPath: joined).standardizedFileURL.path
    }

    public func flag(_ name: String) -> Bool {
        guard let value = variables[name]?.lowercased() else { return false }
        return ["1", "true", "yes", "on"].contains(value)
    }
}
