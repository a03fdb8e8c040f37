import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import Packaging

/// A scratch directory removed when the body returns, whatever happens.
/// `onTmpfs` puts it in /dev/shm when there is one: tests that create tens of thousands of files
/// take seconds there instead of tens of seconds on a slow disk.
func withTemporaryDirectory<T>(onTmpfs: Bool = false, _ body: (String) throws -> T) throws -> T {
    var isDirectory: ObjCBool = false
    let base = onTmpfs && FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDirectory) && isDirectory.boolValue
        ? "/dev/shm" : NSTemporaryDirectory()
    var template = Array((base + "/packaging-test.XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
    let path = String(cString: made)
    defer {
        // Tests make directories unreadable on purpose; give permissions back before deleting.
        _ = try? run(["/bin/chmod", "-R", "u+rwx", path])
        try? FileManager.default.removeItem(atPath: path)
    }
    return try body(path)
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Builds trees of files, executables and symlinks.
struct TreeBuilder {
    let root: String

    @discardableResult
    func file(_ name: String, _ contents: [UInt8], mode: mode_t = 0o644) throws -> String {
        let path = root + "/" + name
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: Data(contents)) else {
            throw TestFailure("cannot create \(path)")
        }
        guard chmod(path, mode) == 0 else { throw TestFailure("chmod \(path)") }
        return path
    }

    @discardableResult
    func file(_ name: String, _ text: String, mode: mode_t = 0o644) throws -> String {
        try file(name, Array(text.utf8), mode: mode)
    }

    func symlink(_ name: String, to target: String) throws {
        let path = root + "/" + name
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard Glibc.symlink(target, path) == 0 else { throw TestFailure("symlink \(path)") }
    }

    func directory(_ name: String) throws {
        try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
    }
}

/// Runs a program, returning its exit status and standard output (standard error is discarded).
@discardableResult
func run(_ arguments: [String], in directory: String? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: arguments[0].hasPrefix("/") ? arguments[0] : "/usr/bin/env")
    process.arguments = arguments[0].hasPrefix("/") ? Array(arguments.dropFirst()) : arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// One entry as Python's `zipfile` reads it back.
struct ReadEntry: Decodable, Equatable {
    var name: String
    var mode: Int
    var hex: String
    var method: Int
    var utf8Flag: Bool
}

/// Reads a zip with Python's zipfile (an independent implementation): checks every CRC, returns the entries.
func readWithPython(_ zip: String) throws -> [ReadEntry] {
    let script = """
        import json, sys, zipfile
        with zipfile.ZipFile(sys.argv[1]) as z:
            bad = z.testzip()
            if bad is not None:
                sys.exit("bad CRC in " + bad)
            out = [dict(name=i.filename, mode=i.external_attr >> 16, hex=z.read(i).hex(),
                        method=i.compress_type, utf8Flag=bool(i.flag_bits & 0x800)) for i in z.infolist()]
        print(json.dumps(out))
        """
    let result = try run(["python3", "-c", script, zip])
    guard result.status == 0 else { throw TestFailure("python zipfile refused \(zip)") }
    return try JSONDecoder().decode([ReadEntry].self, from: Data(result.output.utf8))
}

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

/// Deterministic pseudo-random bytes (SplitMix64), so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            var word = next()
            for _ in 0..<min(8, count - index) {
                out[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return out
    }
}

func packageTree(_ dir: String, to zip: String, configure: (inout PackageOptions) -> Void = { _ in }) throws -> PackageResult {
    var options = PackageOptions(directory: dir, output: zip)
    configure(&options)
    return try Packager.package(options)
}

func fileBytes(_ path: String) -> [UInt8] {
    FileManager.default.contents(atPath: path).map { Array($0) } ?? []
}

/// Runs `body` on its own thread and fails the test if it has not returned after `seconds`: a
/// generous bound that only a hang exceeds (performance targets live in ci/bench*, not here).
func withHangDetector<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    let box = ResultBox<T>()
    let thread = Thread {
        box.set(Result { try body() })
        done.signal()
    }
    thread.stackSize = 8 << 20
    thread.start()
    guard done.wait(timeout: .now() + seconds) == .success, let result = box.get() else {
        Issue.record("did not finish within \(seconds) s: a hang")
        throw TestFailure("hang")
    }
    return try result.get()
}

private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<T, any Error>?
    func set(_ result: Result<T, any Error>) { lock.withLock { value = result } }
    func get() -> Result<T, any Error>? { lock.withLock { value } }
}
