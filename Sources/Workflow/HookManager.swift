public import Foundation
#if canImport(Glibc)
import Glibc
#endif
import DeployLedger
import ReleasePolicy

/// What `hook install` / `hook uninstall` did.
public struct HookInstallResult: Encodable, Sendable {
    public var action: String  // installed | already-installed | chained | manager | removed | not-installed
    public var path: String?
    /// What happened, one line each (a hook manager's instructions take several).
    public var lines: [String]
    public var message: String { lines.joined(separator: "\n") }

    init(action: String, path: String?, message: String) {
        self.init(action: action, path: path, lines: [message])
    }

    init(action: String, path: String?, lines: [String]) {
        self.action = action
        self.path = path
        self.lines = lines
    }

    enum CodingKeys: String, CodingKey { case action, path, message }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(action, forKey: .action)
        try container.encodeIfPresent(path, forKey: .path)
        try container.encode(message, forKey: .message)
    }
}

/// What the pre-push hook decided and did.
public struct HookRunResult: Encodable, Sendable {
    public var action: String  // deploy | skip | failed
    public var alias: String?
    public var branch: String?
    public var message: String
    public var blockPush: Bool
    public var deploy: DeployReport?
    /// With a `functions:` list: each function's result.
    public var functions: [FunctionRun]?
}

/// Installs, removes and runs the git pre-push hook that deploys `dev` on push.
public final class HookManager {
    /// A line every hook lambda-deploy writes carries, so it can recognise its own.
    static let marker = "# installed by lambda-deploy hook install"
    /// Where an existing pre-push hook is kept and chained from.
    static let chainedName = "pre-push.lambda-deploy-chained"

    let project: Project
    let repository: GitRepository

    public init(project: Project) throws {
        self.project = project
        repository = try project.requireRepository()
    }

    /// The script written into the hooks directory. It reads git's stdin once and feeds it to the
    /// chained hook (which runs first; its failure stops the push) and to lambda-deploy.
    static func script(executable: String) -> String {
        """
        #!/bin/sh
        \(marker); remove with `lambda-deploy hook uninstall`.
        # Deploys the dev alias when you push a matching branch (see hook: in lambda-deploy.yml).
        # Skip once with LAMBDA_DEPLOY_SKIP=1 git push, or git push --no-verify.
        input=$(cat)
        chained="$(dirname "$0")/\(chainedName)"
        if [ -x "$chained" ]; then
          if [ -n "$input" ]; then printf '%s\\n' "$input"; fi | "$chained" "$@" || exit $?
        fi
        tool='\(executable.replacingOccurrences(of: "'", with: "'\\''"))'
        [ -x "$tool" ] || tool=$(command -v lambda-deploy) || { echo "lambda-deploy: not found, skipping the dev deploy" >&2; exit 0; }
        if [ -n "$input" ]; then printf '%s\\n' "$input"; fi | "$tool" hook pre-push "$@"
        """ + "\n"
    }

    /// What the hook says when hook.timeout ends it before the deploy finished.
    public static func timedOutMessage(alias: String, seconds: Int, block: Bool) -> String {
        block
            ? "the \(alias) deploy did not finish within hook.timeout (\(seconds) s), and hook.blockPushOnFailure stops the push; raise hook.timeout or deploy with `lambda-deploy deploy --alias \(alias)`"
            : "WARNING: the \(alias) deploy did not finish within hook.timeout (\(seconds) s); the push goes on (raise hook.timeout, or deploy with `lambda-deploy deploy --alias \(alias)`)"
    }

    /// A hook manager that owns the hooks, and the exact lines to give it instead of writing a file.
    func hookManagerInstructions(hooksDirectory: String) -> [String]? {
        guard let root = repository.workdir.map({ $0.hasSuffix("/") ? String($0.dropLast()) : $0 }) else { return nil }
        let fm = FileManager.default
        let line = "lambda-deploy hook pre-push \"$@\""
        if fm.fileExists(atPath: root + "/.husky") || hooksDirectory.contains("/.husky") {
            return ["husky manages this repository's hooks: add this line to .husky/pre-push (husky passes git's stdin and arguments through):", "  \(line)"]
        }
        for name in ["lefthook.yml", ".lefthook.yml", "lefthook.yaml", ".lefthook.yaml"] where fm.fileExists(atPath: root + "/" + name) {
            return """
                lefthook manages this repository's hooks: add this to \(name) (use_stdin passes git's ref lines through):
                  pre-push:
                    commands:
                      lambda-deploy:
                        use_stdin: true
                        run: lambda-deploy hook pre-push {1} {2}
                """.split(separator: "\n").map(String.init)
        }
        let existing = (try? String(contentsOfFile: hooksDirectory + "/pre-push", encoding: .utf8)) ?? ""
        if existing.contains("pre-commit") && existing.contains("File generated by pre-commit") {
            return """
                pre-commit manages this repository's pre-push hook: add this to .pre-commit-config.yaml:
                  - repo: local
                    hooks:
                      - id: lambda-deploy
                        name: deploy dev
                        entry: lambda-deploy hook pre-push
                        language: system
                        stages: [pre-push]
                        pass_filenames: false
                        always_run: true
                """.split(separator: "\n").map(String.init)
        }
        return nil
    }

    public func install(force: Bool, executable: String) throws -> HookInstallResult {
        let hooks = try repository.hooksDirectory(environment: project.environment.variables)
        if let instructions = hookManagerInstructions(hooksDirectory: hooks) {
            return HookInstallResult(action: "manager", path: nil, lines: instructions)
        }
        let fm = FileManager.default
        try fm.createDirectory(atPath: hooks, withIntermediateDirectories: true)
        let hookPath = hooks + "/pre-push"
        let chainedPath = hooks + "/" + Self.chainedName
        let script = Self.script(executable: executable)
        var action = "installed"
        if let existing = try? String(contentsOfFile: hookPath, encoding: .utf8) {
            if existing.contains(Self.marker) {
                if existing == script && !force {
                    return HookInstallResult(action: "already-installed", path: hookPath, message: "the pre-push hook is already installed at \(hookPath): nothing changed")
                }
            } else {
                guard !fm.fileExists(atPath: chainedPath) else { throw WorkflowError.chainedHookExists(path: chainedPath) }
                try fm.moveItem(atPath: hookPath, toPath: chainedPath)
                action = "chained"
            }
        }
        let temporary = hookPath + ".lambda-deploy-tmp"
        try Data(script.utf8).write(to: URL(fileURLWithPath: temporary))
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: temporary)
        // rename(2): atomic, whether or not a hook is there (git never sees a half-written hook).
        guard rename(temporary, hookPath) == 0 else {
            let reason = String(cString: strerror(errno))
            try? fm.removeItem(atPath: temporary)
            throw WorkflowError.hookNotWritable(path: hookPath, reason: reason)
        }
        let alias = project.config.hook.alias
        let message = action == "chained"
            ? "installed the pre-push hook at \(hookPath); your existing hook runs first (kept as \(Self.chainedName)). Pushing deploys \(alias)."
            : "installed the pre-push hook at \(hookPath): pushing a matching branch deploys \(alias)."
        return HookInstallResult(action: action, path: hookPath, message: message)
    }

    public func uninstall() throws -> HookInstallResult {
        let hooks = try repository.hooksDirectory(environment: project.environment.variables)
        let hookPath = hooks + "/pre-push"
        let chainedPath = hooks + "/" + Self.chainedName
        let fm = FileManager.default
        guard let existing = try? String(contentsOfFile: hookPath, encoding: .utf8), existing.contains(Self.marker) else {
            return HookInstallResult(action: "not-installed", path: nil, message: "lambda-deploy's pre-push hook is not installed in \(hooks): nothing changed")
        }
        try fm.removeItem(atPath: hookPath)
        if fm.fileExists(atPath: chainedPath) {
            try fm.moveItem(atPath: chainedPath, toPath: hookPath)
            return HookInstallResult(action: "removed", path: hookPath, message: "removed lambda-deploy's pre-push hook and restored the hook it chained")
        }
        return HookInstallResult(action: "removed", path: hookPath, message: "removed lambda-deploy's pre-push hook")
    }

    public func prePush(remote: String, stdin: Data, reporter: Reporter, connect: ServicesProvider) async throws -> HookRunResult {
        let settings = project.config.hook
        guard let text = String(data: stdin, encoding: .utf8) else {
            throw PolicyError.malformedPrePushLine(lineNumber: 1, line: "(not UTF-8)", problem: "git sent bytes that are not UTF-8")
        }
        let updates = try PrePushUpdate.parse(stdin: text)
        let decision = ReleasePolicy(config: project.config).decideHook(updates: updates, remoteName: remote)
        guard decision.action == .deploy, let alias = decision.alias, let commit = decision.commit else {
            return HookRunResult(action: "skip", alias: nil, branch: decision.branch, message: decision.reason, blockPush: false, deploy: nil)
        }
        do {
            // The deploy ships the working tree: it must be the commit being pushed.
            let head = try repository.headCommit()
            guard head == commit else { throw WorkflowError.hookNotHead(pushed: commit, head: head ?? "(unborn)") }
            // The push drops commits the remote has. git rejects an unforced non-fast-forward push
            // before running this hook (its line never reaches stdin), so this is a forced push,
            // which the remote may still refuse (receive.denyNonFastForwards, branch protection):
            // deploying now could ship code that never lands.
            if let remoteSha = decision.remoteSha {
                guard repository.contains(commit: remoteSha), try repository.isAncestor(remoteSha, of: commit) else {
                    return HookRunResult(
                        action: "skip", alias: alias, branch: decision.branch,
                        message: "not deploying \(alias): \(remote)'s \(decision.branch ?? "branch") has commits this forced push would drop, and the remote may refuse it; deploy once it has landed: lambda-deploy deploy --alias \(alias)",
                        blockPush: false, deploy: nil)
                }
            }
            var request = DeployRequest(alias: alias, trigger: .hook)
            request.commit = commit
            request.decision = project.policy.decision(forHook: decision, context: project.ci)
            let entries = project.config.functions
            // A list of one is that function; the shorthand config is the config itself.
            let single = entries.count == 1 ? try project.narrowed(to: entries[0].name) : project
            let functions = entries.count > 1 ? try entries.map { try project.narrowed(to: $0.name) } : [single]
            if !settings.allowDirty {
                for function in functions {
                    let directory = try function.functionDirectory(nil)
                    if let relative = function.pathInRepository(directory), try repository.isDirty(under: relative) {
                        throw WorkflowError.hookDirty(directory: relative.isEmpty ? "the repository" : relative)
                    }
                }
            }
            reporter.step("deploying \(alias) for the push of \(decision.branch ?? commit)")
            // hook.timeout bounds the whole deploy, packaging included: the executable asks the
            // pipeline to stop at its next step at the deadline, and ends the process soon after.
            if entries.count > 1 {
                // Every function whose package changed deploys (an unchanged one costs its reads).
                let fleet = try await FleetDeploy(project: project, reporter: reporter, parallel: project.parallelDeploys)
                    .run(.alias(alias), template: request, connect: { _ in try await connect() }) { run in
                        reporter.step("\(run.result.rawValue) \(run.function):\(alias)\(run.version.map { " v\($0)" } ?? "")\(run.reason.map { ": \($0)" } ?? "")")
                    }
                if fleet.failed > 0 { throw WorkflowError.functionsFailed(count: fleet.failed, of: fleet.functions.count) }
                if let problem = fleet.recordProblem { throw problem }
                var result = HookRunResult(action: "deploy", alias: alias, branch: decision.branch, message: fleet.summary, blockPush: false, deploy: nil)
                result.functions = fleet.functions
                return result
            }
            let report = try await DeployPipeline(project: single, reporter: reporter).run(request, connect: connect)
            let version = report.outcome.version ?? "?"
            let message: String
            switch report.outcome.result {
            case .unchanged: message = "\(alias) already runs this code (version \(version))"
            case .superseded:
                message = "\(alias) runs version \(report.outcome.supersededByVersion ?? "?"), newer than this push: left as it is"
            case .deployed, .dryRun: message = "deployed \(report.outcome.function):\(alias) -> version \(version)"
            }
            return HookRunResult(action: "deploy", alias: alias, branch: decision.branch, message: message, blockPush: false, deploy: report)
        } catch {
            let reason = describe(error)
            let block = settings.blockPushOnFailure
            let message = block
                ? "the \(alias) deploy failed, and hook.blockPushOnFailure stops the push: \(reason)"
                : "WARNING: the \(alias) deploy failed; the push goes on (set hook.blockPushOnFailure: true to stop it): \(reason)"
            return HookRunResult(action: "failed", alias: alias, branch: decision.branch, message: message, blockPush: block, deploy: nil)
        }
    }
}

