import Foundation
public import ReleasePolicy
import Safety
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A function's `build:` as it runs here: the command, in the function's directory, into a
/// clean output folder that is then what gets packaged.
///
/// Unchanged inputs (see ``BuildDigest``) reuse the output of the build that had them, from the
/// cache under the user's cache directory, restored into the output folder, so the package is
/// byte for byte the same either way.
public struct FunctionBuild: Sendable {
    public var function: String
    /// The function directory, absolute.
    public var directory: String
    public var step: BuildStep
    /// The environment the command starts from (the process's, captured at the entry point).
    public var environment: [String: String]
    /// The commit's time in seconds since the epoch: the command's `SOURCE_DATE_EPOCH`.
    public var sourceDateEpoch: Int64
    /// Where finished builds are kept (`<cache>/builds`); nil builds every time.
    public var cacheDirectory: String?
    /// Part of the digest: a new version of the tool builds again.
    public var toolVersion: String = ToolInfo.version
    /// Asked while the command runs: a reason stops it.
    var interrupted: @Sendable () -> Interruption.Reason? = { Interruption.requested }

    /// `SOURCE_DATE_EPOCH` when no commit's time is known (no repository, or one without
    /// commits): 1980-01-01T00:00:00Z, the earliest time a zip can hold, and the time this tool
    /// writes on every zip entry. 0 would be the obvious choice, but tools that write zips
    /// (Python's wheel and zipfile among them) refuse times before 1980 and the build would fail.
    public static let sourceDateEpochFallback: Int64 = 315_532_800

    public init(function: String, directory: String, step: BuildStep, environment: [String: String], sourceDateEpoch: Int64, cacheDirectory: String?) {
        self.function = function
        self.directory = directory
        self.step = step
        self.environment = environment
        self.sourceDateEpoch = sourceDateEpoch
        self.cacheDirectory = cacheDirectory
    }

    /// What a build produced, and whether it ran.
    public struct Outcome: Sendable, Equatable {
        /// The output folder, absolute: what is packaged.
        public var output: String
        /// True when the output was restored from the cache (the command did not run).
        public var reused: Bool
        /// The digest of the inputs (hex SHA-256).
        public var digest: String
    }

    /// Variables holding secrets the command inherits.
    static let secretVariables = ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"]

    /// The command's environment: the caller's, with the settings that make builds repeatable.
    var commandEnvironment: [String: String] {
        var variables = environment
        variables["SOURCE_DATE_EPOCH"] = String(sourceDateEpoch)
        // Python run by the build (setup scripts, the sources themselves) writes no __pycache__,
        // whose timestamps and paths differ from run to run.
        variables["PYTHONDONTWRITEBYTECODE"] = "1"
        return variables
    }

    /// Runs the build, or restores the output of an earlier one with the same inputs, and says
    /// which on the reporter. Throws `WorkflowError` (`.buildFailed` after showing the tail of
    /// its output, `.interrupted`, ...); nothing is deployed then.
    public func run(reporter: Reporter) throws -> Outcome {
        let root = try canonicalDirectory()
        let digest: BuildDigest
        do throws(BuildTreeFailure) {
            digest = try BuildDigest.compute(step: step, directory: root, function: function, toolVersion: toolVersion)
        } catch {
            throw WorkflowError.buildNotRun(function: function, reason: "cannot read its input \(error.path) (\(error.reason))")
        }
        for pattern in digest.unmatched {
            reporter.warning("build.inputs pattern '\(DisplayText.excerpt(pattern, limit: 80))' of \(function) matches no file, so no change to what it meant would rebuild: fix the pattern in lambda-deploy.yml")
        }
        let output = try cleanOutput(root: root)
        let cache = cacheDirectory.map { BuildCache(root: $0) }
        let shortDigest = String(digest.value.prefix(12))

        if let cache {
            switch cache.restore(digest: digest.value, function: function, into: output) {
            case .restored(let files):
                reporter.step("build of \(function) reused: its inputs are unchanged (\(digest.files) files, sha256 \(shortDigest)), \(files) files restored into \(step.output) from the cache")
                return Outcome(output: output, reused: true, digest: digest.value)
            case .damaged(let reason):
                reporter.warning("the cached build of \(function) (sha256 \(shortDigest)) does not match its manifest (\(reason)): discarded, building again")
                cache.remove(digest: digest.value)
                _ = try cleanOutput(root: root)
            case .miss:
                break
            }
        }

        // The command sees the whole environment and may print it (`set -x`, `env`): the AWS
        // secrets in it are masked at the output edge like every secret this process holds.
        for name in Self.secretVariables { Redactor.shared.register(environment[name]) }
        let started = ContinuousClock.now
        let process = BuildProcess(function: function, command: step.command, directory: root, environment: commandEnvironment, interrupted: interrupted)
        let prefix = "[build \(function)] "
        let outcome = try reporter.section("building \(function)") {
            reporter.step("building \(function) in \(root) (inputs: \(digest.files) files, sha256 \(shortDigest))")
            return try process.run { reporter.step(prefix + $0) }
        }
        guard outcome.exit.succeeded else {
            // In a CI log the streamed lines are folded away: show the end again.
            if reporter.sections != nil {
                reporter.step("\(prefix)last \(outcome.tail.count) lines:")
                for line in outcome.tail { reporter.step(prefix + line) }
            }
            throw WorkflowError.buildFailed(function: function, status: outcome.exit.description)
        }
        // The command may have replaced its output folder (with a symlink, say): check again.
        try checkOutput(root: root, create: false)
        reporter.step("built \(function) in \(BuildTiming.seconds(ContinuousClock.now - started)) (\(step.output))")

        if let cache {
            if let problem = cache.store(digest: digest.value, function: function, from: output) {
                reporter.warning("the build of \(function) was not cached (\(problem)): the next deploy builds again")
            }
            cache.prune(function: function)
        }
        return Outcome(output: output, reused: false, digest: digest.value)
    }

    /// The output folder as the last build left it, checked like a build's but neither emptied
    /// nor built (`package --no-build`).
    public func existingOutput() throws -> String {
        try checkOutput(root: try canonicalDirectory(), create: false)
    }

    /// The function directory without symlinks, so "inside it" means what it says.
    private func canonicalDirectory() throws -> String {
        guard let resolved = realpath(directory, nil) else {
            throw WorkflowError.buildNotRun(function: function, reason: "its directory \(directory) cannot be opened (\(String(cString: strerror(errno))))")
        }
        defer { free(resolved) }
        var info = stat()
        guard stat(resolved, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw WorkflowError.buildNotRun(function: function, reason: "\(directory) is not a directory")
        }
        return String(cString: resolved)
    }

    /// Removes the output folder and makes it again, empty.
    private func cleanOutput(root: String) throws -> String {
        let output = try checkOutput(root: root, create: true)
        do throws(BuildTreeFailure) {
            try BuildTree.remove(output)
        } catch {
            throw WorkflowError.buildNotRun(function: function, reason: "cannot empty \(step.output) (\(error.path): \(error.reason))")
        }
        guard mkdir(output, 0o755) == 0 else {
            throw WorkflowError.buildNotRun(function: function, reason: "cannot create \(step.output) (\(String(cString: strerror(errno))))")
        }
        return output
    }

    /// The output folder's absolute path, after checking each part of it below the function
    /// directory: none may be a symlink (the build would write, and the packager read, somewhere
    /// else) and the folders above it must be folders. `create` makes missing folders above it.
    @discardableResult
    private func checkOutput(root: String, create: Bool) throws -> String {
        let parts = step.output.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.isEmpty, !parts.contains(where: { $0 == "." || $0 == ".." }) else {
            throw WorkflowError.buildOutputUnsafe(function: function, output: step.output, reason: "is not a relative path inside the function directory")
        }
        var path = root
        for (index, part) in parts.enumerated() {
            path += "/" + part
            let shown = parts[...index].joined(separator: "/")
            let isLast = index == parts.count - 1
            var info = stat()
            guard lstat(path, &info) == 0 else {
                guard errno == ENOENT else {
                    throw WorkflowError.buildNotRun(function: function, reason: "cannot read \(shown) (\(String(cString: strerror(errno))))")
                }
                if isLast { break }
                guard create else { throw WorkflowError.buildOutputMissing(function: function, output: step.output) }
                guard mkdir(path, 0o755) == 0 else {
                    throw WorkflowError.buildNotRun(function: function, reason: "cannot create \(shown) (\(String(cString: strerror(errno))))")
                }
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR: continue
            case S_IFLNK: throw WorkflowError.buildOutputUnsafe(function: function, output: step.output, reason: "goes through the symlink \(shown)")
            default: throw WorkflowError.buildOutputUnsafe(function: function, output: step.output, reason: "is not a folder (\(shown) is a file)")
            }
        }
        if !create {
            var info = stat()
            guard lstat(path, &info) == 0 else { throw WorkflowError.buildOutputMissing(function: function, output: step.output) }
        }
        return path
    }
}

enum BuildTiming {
    static func seconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%.1f s", value)
    }
}

extension Project {
    /// The config's `build:` for `function` in `directory`, ready to run (nil without one): its
    /// `SOURCE_DATE_EPOCH` is the time of `commit` (HEAD when nil), or
    /// ``FunctionBuild/sourceDateEpochFallback`` outside a repository or before its first commit.
    public func functionBuild(function: String, directory: String, commit: String?) -> FunctionBuild? {
        guard let step = config.build else { return nil }
        let time = repository.flatMap { try? $0.commitTime(commit ?? "HEAD") } ?? FunctionBuild.sourceDateEpochFallback
        return FunctionBuild(
            function: function, directory: directory, step: step, environment: environment.variables,
            sourceDateEpoch: time, cacheDirectory: environment.cacheDirectory + "/builds")
    }

    /// The folder `package` and `deploy` zip for a function: its build's output once the
    /// config's `build:` ran (or was reused), or `directory` itself without one. `runBuild:
    /// false` takes the output as the last build left it.
    public func packagedDirectory(function: String, directory: String, commit: String?, runBuild: Bool = true, reporter: Reporter) throws -> String {
        guard let build = functionBuild(function: function, directory: directory, commit: commit) else { return directory }
        if let problem = untrackedOutputProblem(build) { reporter.warning(problem) }
        return runBuild ? try build.run(reporter: reporter).output : try build.existingOutput()
    }

    /// A warning when the build's output is inside the repository and not git-ignored: it
    /// would show as an untracked change, so every deploy after the first would be recorded as
    /// dirty and the pre-push hook would refuse to deploy.
    func untrackedOutputProblem(_ build: FunctionBuild) -> String? {
        guard let repository, let folder = pathInRepository(build.directory) else { return nil }
        let output = (folder.isEmpty ? "" : folder + "/") + build.step.output
        // git matches a folder rule (`build/`) only against a path that says it is a folder.
        guard let ignored = try? repository.isIgnored(output + "/"), !ignored else { return nil }
        return "the build output \(output) of \(build.function) is not git-ignored, so deploys would be recorded as dirty: add `\(output)/` to .gitignore"
    }
}
