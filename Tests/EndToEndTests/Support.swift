import Foundation
import Testing

/// The repository root, for scripts under ci/.
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The built `lambda-deploy` binary: beside the test bundle in the build products directory
/// (`swift test` builds every product), or `LAMBDA_DEPLOY_BIN`.
let toolPath: String = {
    if let explicit = ProcessInfo.processInfo.environment["LAMBDA_DEPLOY_BIN"] { return explicit }
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var url = URL(fileURLWithPath: exe).deletingLastPathComponent()
    // The test runner may live inside NAME.xctest/; the products directory is above it.
    while url.path != "/", !FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("lambda-deploy").path) {
        url.deleteLastPathComponent()
    }
    return url.appendingPathComponent("lambda-deploy").path
}()

struct RunResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    var output: String { stdout + stderr }

    func json() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
        guard let dictionary = object as? [String: Any] else { throw RunError(message: "stdout is not a JSON object: \(stdout)") }
        return dictionary
    }

    func jsonArray() throws -> [[String: Any]] {
        let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
        guard let array = object as? [[String: Any]] else { throw RunError(message: "stdout is not a JSON array: \(stdout)") }
        return array
    }
}

struct RunError: Error, CustomStringConvertible { var message: String; var description: String { message } }

/// A clean environment for the tool: no real credentials, no CI variables from the machine
/// running the tests, a private HOME and cache.
func baseEnvironment(home: String) -> [String: String] {
    var env: [String: String] = [
        "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test Author", "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Author", "GIT_COMMITTER_EMAIL": "author@example.com",
        "AWS_CONFIG_FILE": home + "/no-aws-config", "AWS_SHARED_CREDENTIALS_FILE": home + "/no-aws-credentials",
        "LAMBDA_DEPLOY_CACHE_DIR": home + "/cache",
    ]
    if let pyenv = ProcessInfo.processInfo.environment["PYENV_ROOT"] { env["PYENV_ROOT"] = pyenv }
    return env
}

@discardableResult
func run(_ executable: String, _ arguments: [String], cwd: String, env: [String: String], stdin: String? = nil, timeout: TimeInterval = 120) throws -> RunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
    process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
    process.currentDirectoryURL = URL(fileURLWithPath: cwd)
    process.environment = env
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try? input.fileHandleForWriting.close()
    // Read both pipes concurrently so a chatty child never blocks on a full pipe.
    let outData = LockedData(), errData = LockedData()
    let group = DispatchGroup()
    for (pipe, sink) in [(out, outData), (err, errData)] {
        group.enter()
        DispatchQueue.global().async { sink.set(pipe.fileHandleForReading.readDataToEndOfFile()); group.leave() }
    }
    if group.wait(timeout: .now() + timeout) == .timedOut {
        process.terminate()
        throw RunError(message: "\(executable) \(arguments.joined(separator: " ")) timed out after \(timeout) s")
    }
    process.waitUntilExit()
    return RunResult(
        status: process.terminationStatus,
        stdout: String(decoding: outData.get(), as: UTF8.self),
        stderr: String(decoding: errData.get(), as: UTF8.self))
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ value: Data) { lock.lock(); data = value; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}

/// A temporary directory removed when the value is deinitialised.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init(_ label: String = "e2e") throws {
        let base = NSTemporaryDirectory() + "lambda-deploy-\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        // Resolve symlinks (/tmp may be one) so paths compare equal to what the tool prints.
        path = URL(fileURLWithPath: base).resolvingSymlinksInPath().path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ relative: String, _ contents: String, mode: Int = 0o644) throws {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: full))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: full)
    }
}

/// Runs `git` in `cwd` and fails the test on a non-zero exit.
@discardableResult
func git(_ arguments: [String], cwd: String, env: [String: String]) throws -> String {
    let result = try run("git", arguments, cwd: cwd, env: env)
    guard result.status == 0 else { throw RunError(message: "git \(arguments.joined(separator: " ")) failed: \(result.stderr)") }
    return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// One moto server for the whole test process, on a free loopback port, started on first use.
/// It exits by itself when the test process does (ci/support/moto_local.py watches its parent).
actor MotoServer {
    static let shared = MotoServer(authChecks: false)

    let authChecks: Bool
    private var started: (endpoint: String, process: Process)?

    init(authChecks: Bool) { self.authChecks = authChecks }

    func endpoint() throws -> String {
        if let started { return started.endpoint }
        let port = try freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", packageRoot + "/ci/support/moto_local.py", "serve", String(port)]
        var env = ProcessInfo.processInfo.environment
        if authChecks { env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3" }
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = out.fileHandleForReading.availableDataLine(timeout: 60)
        guard line == "ready" else { throw RunError(message: "moto did not start on port \(port) (is `pip install 'moto[server]'` done?)") }
        let endpoint = "http://127.0.0.1:\(port)"
        started = (endpoint, process)
        return endpoint
    }

    private func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else { throw RunError(message: "no free loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

extension FileHandle {
    /// Reads one line, waiting at most `timeout` seconds. Lines that arrive together are all
    /// kept: the next call returns the next one (one reader thread per handle buffers them).
    func availableDataLine(timeout: TimeInterval) -> String? {
        LineReader.for(self).nextLine(timeout: timeout)
    }
}

/// Reads a handle to its end on a thread of its own and hands out whole lines.
final class LineReader: @unchecked Sendable {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var readers: [ObjectIdentifier: LineReader] = [:]  // guarded by `lock`

    static func `for`(_ handle: FileHandle) -> LineReader {
        lock.lock()
        defer { lock.unlock() }
        if let reader = readers[ObjectIdentifier(handle)] { return reader }
        let reader = LineReader(handle)
        readers[ObjectIdentifier(handle)] = reader
        return reader
    }

    private let condition = NSCondition()
    private var buffer = Data()
    private var ended = false
    /// Held for the process's life, so its ObjectIdentifier can never name another handle.
    private let handle: FileHandle

    private init(_ handle: FileHandle) {
        self.handle = handle
        let thread = Thread { [self] in
            while true {
                let chunk = handle.availableData
                condition.lock()
                if chunk.isEmpty { ended = true } else { buffer.append(chunk) }
                condition.broadcast()
                condition.unlock()
                if chunk.isEmpty { return }
            }
        }
        thread.start()
    }

    func nextLine(timeout: TimeInterval) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let newline = buffer.firstIndex(of: 0x0a) {
                let line = buffer[buffer.startIndex..<newline]
                buffer.removeSubrange(buffer.startIndex...newline)
                return String(decoding: line, as: UTF8.self)
            }
            if ended {
                guard !buffer.isEmpty else { return nil }
                defer { buffer.removeAll() }
                return String(decoding: buffer, as: UTF8.self)
            }
            if !condition.wait(until: deadline) { return nil }
        }
    }
}

/// Creates a function (and its role) in moto with a starter zip.
func createFunction(_ name: String, endpoint: String) throws {
    let result = try run("python3", [packageRoot + "/ci/support/moto_local.py", "create-function", endpoint, name], cwd: packageRoot, env: ProcessInfo.processInfo.environment.merging(["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"]) { $1 })
    guard result.status == 0 else { throw RunError(message: "create-function \(name) failed: \(result.stderr)") }
}

func uniqueName(_ prefix: String) -> String { prefix + "-" + String(UUID().uuidString.prefix(8)).lowercased() }
