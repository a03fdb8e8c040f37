import Foundation
public import ReleasePolicy

extension Project {
    public var policy: ReleasePolicy { ReleasePolicy(config: config) }

    /// The function a command acts on: the `--function` flag, else the config's.
    public func functionName(_ flag: String?) throws -> String {
        if let flag, !flag.isEmpty { return flag }
        if let name = config.function, !name.isEmpty { return name }
        throw WorkflowError.missingSetting(name: "function", flag: "--function NAME", configKey: "function")
    }

    /// The function's directory, absolute: the `--dir` flag (relative to the current directory),
    /// else the config's `directory` (relative to the config file).
    public func functionDirectory(_ flag: String?) throws -> String {
        if let flag, !flag.isEmpty { return environment.absolutePath(flag) }
        if let directory = config.directory, !directory.isEmpty { return configRelativePath(directory) }
        throw WorkflowError.missingSetting(name: "function directory", flag: "--dir DIR", configKey: "directory")
    }

    /// The branch checked out here (nil: detached, unborn, or no repository).
    public var localBranch: String? { repository?.currentBranch() }
}

extension Project {
    /// What `ci` would do here. Outside CI the context's branch is the checked-out one, so the
    /// branch mapping and protection (rule 6: a protected alias moves from outside CI only with
    /// `--override-protection`) apply to a local run as well.
    public func decide(overrideProtection: Bool = false) -> Decision {
        policy.decide(localContext, overrideProtection: overrideProtection)
    }

    /// The CI context, with the checked-out branch filled in outside CI.
    public var localContext: CIContext {
        var context = ci
        if !context.isCI, context.branch == nil { context.branch = localBranch }
        return context
    }
}

extension Decision {
    public var shouldDeploy: Bool { action == .deploy }
}

extension Project {
    /// How many functions of a `functions:` list deploy at once when no flag says.
    public var parallelDeploys: Int { config.parallel }
}
