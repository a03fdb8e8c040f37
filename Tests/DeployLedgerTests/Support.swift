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

extension Sandbox {
    /// Objects a notes ref can be made to point at, none of them a notes commit.
    enum Impostor: String, Sendable, CaseIterable, CustomStringConvertible {
        case blob, tree, tag, malformedCommit
        var description: String { rawValue }
    }

    /// Points `ref` of the repository at `dir` at an impostor object (locally, as a fetch or a
    /// hand edit would leave it) and returns the object id.
    @discardableResult
    func pointRef(_ ref: String, at impostor: Impostor, in dir: String) throws -> String {
        let id: String
        switch impostor {
        case .blob:
            try write("not a notes commit\n", to: "impostor.txt", in: path)
            id = try git(["hash-object", "-w", path + "/impostor.txt"], in: dir)
        case .tree:
            id = try git(["write-tree"], in: dir)
        case .tag:
            try git(["tag", "-a", "-m", "a tag", "impostor-tag", "HEAD"], in: dir)
            id = try git(["rev-parse", "impostor-tag"], in: dir)
        case .malformedCommit:
            try write("tree zzz\nauthor nobody\n\nnot a commit\n", to: "bad-commit.txt", in: path)
            id = try git(["hash-object", "-t", "commit", "--literally", "-w", path + "/bad-commit.txt"], in: dir)
        }
        let trimmed = id.trimmingCharacters(in: .whitespacesAndNewlines)
        // Written as a file: git refuses to point a ref at a malformed commit itself.
        let gitDir = try git(["rev-parse", "--absolute-git-dir"], in: dir).trimmingCharacters(in: .whitespacesAndNewlines)
        try write(trimmed + "\n", to: ref, in: gitDir)
        return trimmed
    }

    /// Replaces the notes commit of `ref` by one whose tree also holds `entry` (an `ls-tree`
    /// line: mode, type, id, tab, name).
    func addToNotesTree(_ entry: String, ref: String = "refs/notes/deploys", in dir: String) throws {
        var listing = try git(["ls-tree", ref], in: dir)
        listing += entry + "\n"
        try write(listing, to: "tree.txt", in: path)
        let tree = try git(["mktree", "--missing"], in: dir, stdinFile: path + "/tree.txt").trimmingCharacters(in: .whitespacesAndNewlines)
        let commit = try git(["commit-tree", tree, "-p", ref, "-m", "foreign entry"], in: dir).trimmingCharacters(in: .whitespacesAndNewlines)
        try git(["update-ref", ref, commit], in: dir)
    }

    /// Adds `bytes` as the note on `revision` exactly as given (no clean-up of whitespace).
    func addRawNote(_ bytes: [UInt8], on revision: String, in dir: String) throws {
        let file = path + "/raw-note-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let blob = try git(["hash-object", "-w", file], in: dir).trimmingCharacters(in: .whitespacesAndNewlines)
        try git(["notes", "--ref=deploys", "add", "-f", "-C", blob, revision], in: dir)
    }

    /// An executable that creates `marker` if anything ever runs it (what an injected
    /// `--upload-pack=...` would run).
    func tripwire(_ name: String = "tripwire") throws -> (command: String, marker: String) {
        let marker = path + "/" + name + "-ran"
        return ("touch " + marker, marker)
    }
}

extension Sandbox {
    /// git's stdout as bytes (blobs that are not UTF-8).
    func gitBytes(_ arguments: [String], in directory: String) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gitPath)
        process.arguments = ["-C", directory] + arguments
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return [UInt8](data)
    }
}

/// The message of a thrown error, or nil when nothing was thrown.
func failure(_ body: () throws -> Void) -> (any Error)? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}

extension LedgerEntry {
    /// The entries as one JSON array written by the ledger's writer (what `history --json`
    /// prints for them), for comparing outputs.
    static func jsonArray(_ entries: [LedgerEntry]) -> String {
        var out = RecordWriter()
        out.raw("[")
        for (index, entry) in entries.enumerated() {
            if index > 0 { out.raw(",") }
            out.object(entry.record, commit: entry.commit)
        }
        out.raw("]")
        return String(decoding: out.bytes, as: UTF8.self)
    }
}

extension Sandbox {
    /// Writes an executable script at `path` through another process: a file this process has
    /// open for writing can be inherited by a child that another test forks meanwhile, and
    /// running the script then fails with "text file busy".
    func installExecutable(_ contents: String, at path: String) throws {
        let source = self.path + "/script-" + UUID().uuidString
        try contents.write(toFile: source, atomically: true, encoding: .utf8)
        let install = Process()
        install.executableURL = URL(fileURLWithPath: "/usr/bin/install")
        install.arguments = ["-m", "755", source, path]
        try install.run()
        install.waitUntilExit()
        guard install.terminationStatus == 0 else { throw GitFailure(description: "install \(path) failed") }
    }
}
