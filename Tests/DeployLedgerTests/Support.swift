import Foundation
@testable import DeployLedger

/// A temporary directory removed when the value is released.
final class Sandbox {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        let dir = base + "/ledger-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // Resolve symlinks (e.g. /tmp -> /private/tmp) so paths compare equal to libgit2's.
        path = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// An empty HOME: no ~/.gitconfig, so no identity unless a command passes one.
    var home: String { path + "/home" }

    /// The environment the git CLI runs with in tests: no system or global config, no identity.
    var environment: [String: String] {
        [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": home,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
        ]
    }

    var gitPath: String { NotesSync.locateGit(environment: environment) ?? "/usr/bin/git" }

    struct GitFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs git in `directory`, returning stdout; throws with stderr when git fails.
    @discardableResult
    func git(_ arguments: [String], in directory: String, identity: Bool = true, stdinFile: String? = nil) throws -> String {
        let ids = identity ? ["-c", "user.name=t", "-c", "user.email=t@t"] : []
        let command = GitCommand(executable: gitPath, directory: directory, environment: environment)
        let output = try command.run(ids + arguments, stdinFile: stdinFile)
        guard output.status == 0 else {
            throw GitFailure(description: "git \(arguments.joined(separator: " ")) failed: \(output.stderr)")
        }
        return output.stdout
    }

    /// Creates a repository with `commits` commits on `main` and returns its path.
    func makeRepository(_ name: String = "repo", commits: Int = 1) throws -> String {
        let dir = path + "/" + name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try git(["init", "-q", "-b", "main"], in: dir)
        for i in 0..<commits {
            try "\(i)\n".write(toFile: dir + "/file.txt", atomically: true, encoding: .utf8)
            try git(["add", "file.txt"], in: dir)
            try git(["commit", "-q", "-m", "commit \(i)"], in: dir)
        }
        return dir
    }

    /// Creates a bare remote from `source` and returns its path.
    func makeBareRemote(from source: String, name: String = "remote.git") throws -> String {
        let dir = path + "/" + name
        try git(["clone", "-q", "--bare", source, dir], in: path)
        return dir
    }

    func write(_ text: String, to relative: String, in directory: String) throws {
        let file = directory + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
    }
}

/// Opens a repository that must exist.
func open(_ path: String) throws -> GitRepository {
    guard let repo = try GitRepository.discover(from: path) else {
        throw Sandbox.GitFailure(description: "no repository at \(path)")
    }
    return repo
}

/// A valid record with a distinguishing alias/version/time.
func sampleRecord(alias: String = "dev", version: String = "1", time: String = "2024-05-01T12:00:00Z",
                  function: String = "orders", result: DeployRecord.Outcome = .deployed) -> DeployRecord {
    DeployRecord(
        time: time, function: function, region: "eu-west-1", account: "123456789012", alias: alias,
        version: version, previousVersion: nil, codeSha256: "abc=", result: result, trigger: .ci,
        ci: "github-actions", build: "42", buildUrl: "https://ci.example.com/b/42", branch: "main",
        actor: "octocat", tool: "lambda-deploy 0.1.0")
}
