import Foundation
import Safety

/// A value from outside on its way to a `git` command line, checked for what it is.
///
/// Remotes, refs and refspecs come from the config file, flags and CI variables: anyone with
/// push access can set them, and git reads an argument starting with `-` as an option
/// (`--upload-pack=CMD` runs CMD). A value is built only through these checks, and
/// ``GitCommand/run(_:values:)`` places every value after `--end-of-options`, so even a value
/// that slipped through would be read as data.
struct GitValue: Equatable {
    let text: String

    private init(_ text: String) {
        self.text = text
    }

    /// A remote name (`origin`) or repository URL, by ``GitNames/remoteProblem(_:)``.
    static func remote(_ name: String) throws -> GitValue {
        if let problem = GitNames.remoteProblem(name) { throw LedgerError.invalidRemote(remote: name, problem: problem) }
        return GitValue(name)
    }

    /// A full ref name (`refs/notes/deploys`), by ``GitNames/refProblem(_:)``.
    static func ref(_ name: String) throws -> GitValue {
        if let problem = GitNames.refProblem(name) { throw LedgerError.invalidRef(ref: name, problem: problem) }
        return GitValue(name)
    }

    /// `[+]source:destination`, both full ref names.
    static func refspec(_ source: String, _ destination: String, force: Bool = false) throws -> GitValue {
        let from = try ref(source), to = try ref(destination)
        return GitValue((force ? "+" : "") + from.text + ":" + to.text)
    }
}

/// Runs the `git` executable for the network half of the ledger (fetch and push).
///
/// libgit2 1.5.1 cannot fetch or push in shallow clones, ignores `http.extraheader` (where
/// actions/checkout keeps its token) and reports server-side push rejections as success, so the
/// transport goes through the git CLI, which uses whatever credentials CI configured.
struct GitCommand {
    let executable: String
    let directory: String
    let environment: [String: String]

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String

        /// The last non-empty stderr line, credentials masked (git's own summary of a failure).
        var lastErrorLine: String {
            let line = stderr.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
            let text = line.isEmpty ? "git exited with status \(status)" : line
            return URLText.maskingUserinfo(text.trimmingCharacters(in: .whitespaces))
        }
    }

    /// Finds git on the environment's PATH; ``LedgerError/gitNotFound`` when there is none.
    static func make(directory: String, environment: [String: String]) throws -> GitCommand {
        guard let executable = locate(environment: environment) else { throw LedgerError.gitNotFound }
        return GitCommand(executable: executable, directory: directory, environment: environment)
    }

    /// Variables that would point git at another repository than `directory` (hooks set GIT_DIR).
    private static let repositoryLocators: Set<String> = [
        "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX", "GIT_COMMON_DIR", "GIT_NAMESPACE",
    ]

    /// The environment git runs with: the caller's, minus repository locators, never prompting,
    /// with untranslated messages so the ledger can recognise them.
    var processEnvironment: [String: String] {
        var env = environment.filter { !Self.repositoryLocators.contains($0.key) }
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["LC_ALL"] = "C"
        env["LANGUAGE"] = "C"
        return env
    }

    /// Runs `git OPTIONS --end-of-options VALUES`: the options are the caller's constants, the
    /// values come from outside and can never be read as options.
    func run(_ options: [String], values: [GitValue]) throws -> Output {
        try run(options + ["--end-of-options"] + values.map(\.text))
    }

    /// Runs git with fixed arguments (no value from outside) and no stdin (or `stdinFile`, for
    /// tests feeding fast-import).
    func run(_ arguments: [String], stdinFile: String? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-C", directory] + arguments
        process.environment = processEnvironment
        if let stdinFile, let handle = FileHandle(forReadingAtPath: stdinFile) {
            process.standardInput = handle
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do {
            try process.run()
        } catch {
            throw LedgerError.gitNotRunnable(path: executable, reason: error.localizedDescription)
        }
        // Drain stderr on another thread so a chatty git cannot fill one pipe while we wait on the other.
        let stderrData = DrainedPipe(err.fileHandleForReading)
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus,
            stdout: String(decoding: stdoutData, as: UTF8.self),
            stderr: String(decoding: stderrData.wait(), as: UTF8.self))
    }

    /// Finds `git` on the PATH of the given environment.
    static func locate(environment: [String: String]) -> String? {
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = String(directory) + "/git"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// Reads a pipe to its end on a background thread.
private final class DrainedPipe: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()  // written once on the reader thread, read after `done`

    init(_ handle: FileHandle) {
        let thread = Thread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
        thread.start()
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
