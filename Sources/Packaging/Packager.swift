import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Digest

/// What to package and how.
public struct PackageOptions: Sendable {
    /// The function directory.
    public var directory: String
    /// Where the zip goes (relative paths are resolved against the current directory).
    public var output: String
    /// libdeflate level, 0 (store everything) to 12 (smallest, slowest); 6 beats Info-ZIP's size.
    public var level: Int = 6
    /// Extra gitignore-style patterns, applied after `.lambdaignore` (so they win).
    public var excludes: [String] = []
    /// Where compressed entries are cached between runs; nil disables the cache.
    public var cacheDirectory: String? = nil
    /// Compression threads; nil uses every core.
    public var threads: Int? = nil

    public init(directory: String, output: String) {
        self.directory = directory
        self.output = output
    }
}

/// What was written: the numbers a user and the deploy step need.
public struct PackageResult: Sendable, Codable, Equatable {
    public var output: String
    /// Base64 of the SHA-256 of the zip bytes: the value Lambda reports as CodeSha256.
    public var codeSha256: String
    public var sha256Hex: String
    /// Hex SHA-256 over the sorted lines `"<mode octal> <sha256 hex of content> <path>\n"`: names,
    /// modes and contents only, so it survives a change of zip encoding (level, libdeflate version).
    public var contentDigest: String
    public var files: Int
    /// Zip size in bytes.
    public var bytes: Int64
    public var unzippedBytes: Int64
    public var warnings: [String]

    public init(
        output: String, codeSha256: String, sha256Hex: String, contentDigest: String, files: Int,
        bytes: Int64, unzippedBytes: Int64, warnings: [String]
    ) {
        self.output = output
        self.codeSha256 = codeSha256
        self.sha256Hex = sha256Hex
        self.contentDigest = contentDigest
        self.files = files
        self.bytes = bytes
        self.unzippedBytes = unzippedBytes
        self.warnings = warnings
    }
}

/// Turns a function directory into the deterministic zip Lambda runs.
public enum Packager {
    /// Lambda's limit on the unzipped deployment package (250 MB).
    public static let maximumUnzippedBytes: Int64 = 262_144_000
    /// Above this a zip cannot go in the UpdateFunctionCode request body (50 MB); it has to go through S3.
    public static let directUploadLimit: Int64 = 52_428_800
    /// The rules file read from the function directory's root.
    public static let ignoreFileName = ".lambdaignore"

    public static func package(_ options: PackageOptions) throws(PackagingError) -> PackageResult {
        guard (0...12).contains(options.level) else { throw .invalidLevel(options.level) }
        let root = try canonicalDirectory(options.directory)
        let output = try OutputFile(path: options.output)
        defer { output.discard() }

        var skip = Set<[UInt8]>()
        for path in [output.finalPath, output.temporaryPath] where path.hasPrefix(root + "/") {
            skip.insert(Array(path.utf8.dropFirst(root.utf8.count + 1)))
        }
        var warnings: [String] = []
        var cache: EntryCache?
        if let directory = options.cacheDirectory {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                var now = timespec()
                clock_gettime(CLOCK_REALTIME, &now)
                let cutoff = (Int64(now.tv_sec) - 2) * 1_000_000_000 + Int64(now.tv_nsec)
                cache = EntryCache(directory: directory, root: root, racyCutoffNanoseconds: cutoff)
                // A cache kept inside the function directory must not end up in the zip.
                if let resolved = realpath(directory, nil) {
                    let path = String(cString: resolved)
                    free(resolved)
                    if path.hasPrefix(root + "/") { skip.insert(Array(path.utf8.dropFirst(root.utf8.count + 1))) }
                }
            } catch {
                warnings.append("entry cache disabled: cannot create \(directory) (\(error.localizedDescription))")
            }
        }

        let rules = try loadRules(root: root, options: options)
        var entries = try DirectoryWalker(root: root, rules: rules, skip: skip).walk()
        guard !entries.isEmpty else { throw .nothingToPackage(options.directory) }
        entries.sort { $0.name.lexicographicallyPrecedes($1.name) }

        let unzipped = entries.reduce(Int64(0)) { $0 + $1.contentSize }
        guard unzipped <= maximumUnzippedBytes else {
            throw .tooLarge(unzippedBytes: unzipped, limit: maximumUnzippedBytes)
        }

        let threads = max(1, min(options.threads ?? ProcessInfo.processInfo.activeProcessorCount, entries.count))
        let pipeline = CompressionPipeline(entries: entries, level: options.level, cache: cache, threads: threads)
        var writer = ZipWriter(fd: output.fd, path: options.output)
        let contentHasher = SHA256Hasher()
        var unzippedBytes: Int64 = 0
        do {
            for (index, entry) in entries.enumerated() {
                let prepared = try pipeline.take(index).get()
                try writer.add(name: entry.name, mode: entry.zipMode, entry: prepared)
                unzippedBytes += prepared.uncompressedSize
                contentHasher.update(String(entry.zipMode, radix: 8) + " " + Hex.encode(prepared.contentSHA256) + " ")
                contentHasher.update(entry.name)
                contentHasher.update([10])
            }
        } catch {
            pipeline.cancel()
            throw error
        }
        pipeline.finish()
        let (digest, size) = try writer.finish()
        try output.commit()

        if size > directUploadLimit {
            warnings.append(
                "the zip is \(size) bytes, above the \(directUploadLimit)-byte (50 MB) limit for direct upload; Lambda needs it through an S3 bucket")
        }
        return PackageResult(
            output: output.finalPath, codeSha256: Data(digest).base64EncodedString(), sha256Hex: Hex.encode(digest),
            contentDigest: Hex.encode(contentHasher.finalize()), files: entries.count, bytes: size,
            unzippedBytes: unzippedBytes, warnings: warnings)
    }

    private static func canonicalDirectory(_ path: String) throws(PackagingError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw .directoryNotFound(path) }
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .notADirectory(path) }
        guard let resolved = realpath(path, nil) else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func loadRules(root: String, options: PackageOptions) throws(PackagingError) -> IgnoreRules {
        let path = root + "/" + ignoreFileName
        var rules = IgnoreRules(patterns: [])
        if access(path, F_OK) == 0 {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw .unreadable(path: path, reason: "permission denied")
            }
            let text = String(decoding: data, as: UTF8.self)
            rules = IgnoreRules(patterns: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
        }
        return rules.adding(IgnoreRules(patterns: options.excludes))
    }
}

/// The zip being written: a temporary file beside the output, renamed into place only on success.
private final class OutputFile {
    let finalPath: String
    let temporaryPath: String
    let fd: Int32
    private var committed = false

    init(path: String) throws(PackagingError) {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let url = URL(fileURLWithPath: absolute)
        let parent = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        guard let resolved = realpath(parent, nil) else {
            throw .outputNotWritable(path: path, reason: "directory \(parent) does not exist")
        }
        let directory = String(cString: resolved)
        free(resolved)
        finalPath = (directory == "/" ? "" : directory) + "/" + name
        var info = stat()
        if stat(finalPath, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR {
            throw .outputNotWritable(path: path, reason: "it is a directory")
        }
        var template = ((directory == "/" ? "" : directory) + "/." + name + ".XXXXXX.tmp").utf8CString
        let fd = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return mkstemps(base, 4)
        }
        guard fd >= 0 else { throw .outputNotWritable(path: path, reason: String(cString: strerror(errno))) }
        self.fd = fd
        temporaryPath = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func commit() throws(PackagingError) {
        // mkstemp creates 0600; a deployment artifact is meant to be read by other tools and users.
        guard fchmod(fd, 0o644) == 0, close(fd) == 0 else {
            throw .writeFailed(path: finalPath, reason: String(cString: strerror(errno)))
        }
        guard rename(temporaryPath, finalPath) == 0 else {
            throw .writeFailed(path: finalPath, reason: String(cString: strerror(errno)))
        }
        committed = true
    }

    /// Removes the temporary file unless the zip was committed (called on every exit path).
    func discard() {
        guard !committed else { return }
        close(fd)
        unlink(temporaryPath)
    }
}

/// Compresses entries on worker threads while the caller writes them in sorted order.
///
/// Workers claim entries in index order, so the writer's next entry is always being worked on;
/// at most `windowBytes` of input is in flight, which bounds memory for large trees.
final class CompressionPipeline: @unchecked Sendable {
    private let entries: [SourceEntry]
    private let condition = NSCondition()
    private var slots: [Result<PreparedEntry, PackagingError>?]
    private var nextToClaim = 0
    private var inFlightBytes: Int64 = 0
    private var cancelled = false
    private var running = 0
    private let windowBytes: Int64 = 96 << 20

    init(entries: [SourceEntry], level: Int, cache: EntryCache?, threads: Int) {
        self.entries = entries
        slots = Array(repeating: nil, count: entries.count)
        running = threads
        for _ in 0..<threads {
            let thread = Thread { [self] in
                self.work(level: level, cache: cache)
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func work(level: Int, cache: EntryCache?) {
        let compressor = EntryCompressor(level: level)
        condition.lock()
        while true {
            while !cancelled && nextToClaim < entries.count && inFlightBytes > 0
                && inFlightBytes + entries[nextToClaim].contentSize > windowBytes
            {
                condition.wait()
            }
            guard !cancelled && nextToClaim < entries.count else { break }
            let index = nextToClaim
            nextToClaim += 1
            inFlightBytes += entries[index].contentSize
            condition.unlock()
            let result = compressor.prepare(entries[index], cache: cache)
            condition.lock()
            slots[index] = result
            condition.broadcast()
        }
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for entry `index` and hands it over; each index is taken once, in order.
    func take(_ index: Int) -> Result<PreparedEntry, PackagingError> {
        condition.lock()
        defer { condition.unlock() }
        while slots[index] == nil { condition.wait() }
        let result = slots[index] ?? .failure(.fileChanged(entries[index].displayName))
        slots[index] = nil
        inFlightBytes -= entries[index].contentSize
        condition.broadcast()
        return result
    }

    /// Stops workers after their current entry and waits for them, so no thread outlives the call.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
        finish()
    }

    func finish() {
        condition.lock()
        while running > 0 { condition.wait() }
        condition.unlock()
    }
}
