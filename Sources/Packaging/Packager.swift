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
    /// Where the zip goes (relative paths are resolved against the current directory). It must
    /// lie outside the function directory and be new, or a zip this tool wrote before.
    public var output: String
    /// libdeflate level, 0 (store everything) to 12 (smallest, slowest); 6 beats Info-ZIP's size.
    public var level: Int = 6
    /// Extra gitignore-style patterns, applied after `.lambdaignore` (so they win).
    public var excludes: [String] = []
    /// Where compressed entries are cached between runs; nil disables the cache.
    public var cacheDirectory: String? = nil
    /// Compression threads; nil uses every core.
    public var threads: Int? = nil
    /// Lint to run before the zip is put in place: errors refuse the package (nothing is written),
    /// warnings come back in ``PackageResult/lint``. Nil runs no lint.
    public var lint: LintOptions? = nil

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
    /// Hex SHA-256 over names, modes and contents only (see ``Packager/contentDigestFormat``), so it
    /// survives a change of zip encoding (level, libdeflate version) and no two trees share it.
    public var contentDigest: String
    public var files: Int
    /// Zip size in bytes.
    public var bytes: Int64
    public var unzippedBytes: Int64
    public var warnings: [String]
    /// The function directory as packaged: absolute, symlinks resolved (what a repository check compares).
    public var directory: String
    /// Lint warnings (errors refuse the package instead).
    public var lint: [LintFinding]
    /// Every entry, in zip order, for lint run elsewhere (`doctor`). Not part of the JSON output.
    public var entries: [PackageEntry]

    public init(
        output: String, codeSha256: String, sha256Hex: String, contentDigest: String, files: Int,
        bytes: Int64, unzippedBytes: Int64, warnings: [String], directory: String = "",
        lint: [LintFinding] = [], entries: [PackageEntry] = []
    ) {
        self.output = output
        self.codeSha256 = codeSha256
        self.sha256Hex = sha256Hex
        self.contentDigest = contentDigest
        self.files = files
        self.bytes = bytes
        self.unzippedBytes = unzippedBytes
        self.warnings = warnings
        self.directory = directory
        self.lint = lint
        self.entries = entries
    }

    private enum CodingKeys: String, CodingKey {
        case output, codeSha256, sha256Hex, contentDigest, files, bytes, unzippedBytes, warnings, directory, lint
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            output: try c.decode(String.self, forKey: .output), codeSha256: try c.decode(String.self, forKey: .codeSha256),
            sha256Hex: try c.decode(String.self, forKey: .sha256Hex), contentDigest: try c.decode(String.self, forKey: .contentDigest),
            files: try c.decode(Int.self, forKey: .files), bytes: try c.decode(Int64.self, forKey: .bytes),
            unzippedBytes: try c.decode(Int64.self, forKey: .unzippedBytes), warnings: try c.decode([String].self, forKey: .warnings),
            directory: try c.decodeIfPresent(String.self, forKey: .directory) ?? "",
            lint: try c.decodeIfPresent([LintFinding].self, forKey: .lint) ?? [])
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
    /// Bounds on the rules file: far more than any real one, small enough that matching every path
    /// against every pattern stays quick.
    static let maximumIgnoreFileBytes = 256 << 10
    static let maximumPatternBytes = 4096
    /// Prefixes the content digest's input; its version changes whenever the encoding does.
    ///
    /// Version 2: for each entry in zip order, the mode (4 bytes, big-endian), the SHA-256 of its
    /// content (32 bytes), the name's length (8 bytes, big-endian) and the name. Every field has
    /// a fixed size or a length prefix, so the input splits into entries one way only and two
    /// different trees cannot give the same digest. (Version 1 hashed `"<mode> <sha> <name>\n"`
    /// lines, which a name holding a newline could forge.)
    public static let contentDigestFormat = "lambda-deploy content digest 2"

    public static func package(_ options: PackageOptions) throws(PackagingError) -> PackageResult {
        guard (0...12).contains(options.level) else { throw .invalidLevel(options.level) }
        let racyCutoff = Timestamp.racyCutoff(before: .now())
        let root = try resolvedDirectory(options.directory)
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw .fileSystem(errno, path: root) }
        defer { close(rootFD) }
        let output = try OutputFile(path: options.output, outside: root)
        defer { output.discard() }

        var skip = Set<[UInt8]>()
        var warnings: [String] = []
        var cache: EntryCache?
        if let directory = options.cacheDirectory {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                cache = EntryCache(directory: directory, root: root, racyCutoff: racyCutoff)
                // A cache kept inside the function directory must not end up in the zip.
                if let resolved = realpath(directory, nil) {
                    let path = String(cString: resolved)
                    free(resolved)
                    if let relative = relativePath(of: path, inside: root), !relative.isEmpty { skip.insert(Array(relative.utf8)) }
                }
            } catch {
                warnings.append("entry cache disabled: cannot create \(directory) (\(error.localizedDescription))")
            }
        }

        let rules = try loadRules(rootFD: rootFD, root: root).adding(IgnoreRules(patterns: options.excludes))
        let walk = try DirectoryWalker(root: root, rootFD: rootFD, rules: rules, skip: skip).walk()
        var entries = walk.entries
        guard !entries.isEmpty else { throw .nothingToPackage(options.directory) }
        entries.sort { $0.name.lexicographicallyPrecedes($1.name) }
        try checkLinksStayInPackage(walk.links, sortedEntries: entries)

        var unzipped: Int64 = 0
        for entry in entries {
            let (sum, overflow) = unzipped.addingReportingOverflow(entry.contentSize)
            guard !overflow else { throw .tooLarge(unzippedBytes: .max, limit: maximumUnzippedBytes) }
            unzipped = sum
        }
        guard unzipped <= maximumUnzippedBytes else {
            throw .tooLarge(unzippedBytes: unzipped, limit: maximumUnzippedBytes)
        }

        let threads = max(1, min(options.threads ?? ProcessInfo.processInfo.activeProcessorCount, entries.count))
        let pipeline = CompressionPipeline(
            entries: entries, level: options.level, cache: cache, threads: threads, rootFD: rootFD, racyCutoff: racyCutoff)
        var writer = ZipWriter(fd: output.fd, path: options.output)
        let contentHasher = SHA256Hasher()
        contentHasher.update(Array(contentDigestFormat.utf8) + [0])
        var unzippedBytes: Int64 = 0
        var manifest: [PackageEntry] = []
        manifest.reserveCapacity(entries.count)
        do {
            for (index, entry) in entries.enumerated() {
                let prepared = try pipeline.take(index).get()
                try writer.add(name: entry.name, mode: entry.zipMode, entry: prepared)
                unzippedBytes += prepared.uncompressedSize
                var record: [UInt8] = []
                record.be32(entry.zipMode)
                record += prepared.contentSHA256
                record.be64(UInt64(entry.name.count))
                contentHasher.update(record)
                contentHasher.update(entry.name)
                var linkTarget: String?
                if case .symlink(let target) = entry.kind { linkTarget = String(decoding: target, as: UTF8.self) }
                manifest.append(PackageEntry(
                    name: entry.displayName, mode: entry.zipMode, size: prepared.uncompressedSize,
                    linkTarget: linkTarget, inspected: prepared.inspected))
            }
        } catch {
            pipeline.cancel()
            throw error
        }
        pipeline.finish()
        let (digest, size) = try writer.finish()

        var lint: [LintFinding] = []
        if let settings = options.lint {
            let findings = PackageLint.check(manifest, settings)
            let errors = findings.filter { $0.severity == .error }
            guard errors.isEmpty else { throw .lintRefused(errors) }
            lint = findings
        }
        try output.commit()

        if size > directUploadLimit {
            warnings.append(
                "the zip is \(size) bytes, above the \(directUploadLimit)-byte (50 MB) limit for direct upload; Lambda needs it through an S3 bucket")
        }
        for index in manifest.indices { manifest[index].inspected = nil }
        return PackageResult(
            output: output.finalPath, codeSha256: Data(digest).base64EncodedString(), sha256Hex: Hex.encode(digest),
            contentDigest: Hex.encode(contentHasher.finalize()), files: entries.count, bytes: size,
            unzippedBytes: unzippedBytes, warnings: warnings, directory: root, lint: lint, entries: manifest)
    }

    /// The function directory as packaging reads it: absolute, every symlink resolved.
    ///
    /// Workflow compares this with the repository's work tree to refuse a function directory
    /// outside the repository (whose files HEAD does not hold).
    public static func resolvedDirectory(_ path: String) throws(PackagingError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw .directoryNotFound(path) }
            if errno == ELOOP { throw .symlinkLoop(path: path, target: path) }
            throw .fileSystem(errno, path: path)
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .notADirectory(path) }
        guard let resolved = realpath(path, nil) else { throw .fileSystem(errno, path: path) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// `path` relative to `root` ("" for `root` itself) when it is `root` or lies below it, else
    /// nil. Both must be resolved (``resolvedDirectory(_:)``): the comparison is by components,
    /// so `/repo-old` is not inside `/repo`.
    public static func relativePath(of path: String, inside root: String) -> String? {
        if path == root { return "" }
        let prefix = root.hasSuffix("/") ? root : root + "/"
        guard path.hasPrefix(prefix) else { return nil }
        return String(path.dropFirst(prefix.count))
    }

    /// Every path a symlink's resolution passes through must be in the package, or the link
    /// dangles once Lambda unpacks it: a file or link must be an entry, a directory must hold one.
    private static func checkLinksStayInPackage(
        _ links: [(name: [UInt8], target: [UInt8], needs: [[UInt8]])], sortedEntries: [SourceEntry]
    ) throws(PackagingError) {
        guard !links.isEmpty else { return }
        let names = Set(sortedEntries.map(\.name))
        func holdsEntries(_ directory: [UInt8]) -> Bool {
            let prefix = directory + [47]
            var low = 0
            var high = sortedEntries.count
            while low < high {
                let middle = (low + high) / 2
                if sortedEntries[middle].name.lexicographicallyPrecedes(prefix) { low = middle + 1 } else { high = middle }
            }
            return low < sortedEntries.count && sortedEntries[low].name.starts(with: prefix)
        }
        for link in links {
            for needed in link.needs where !names.contains(needed) && !holdsEntries(needed) {
                throw .symlinkTargetExcluded(
                    path: String(decoding: link.name, as: UTF8.self), target: String(decoding: link.target, as: UTF8.self),
                    missing: String(decoding: needed, as: UTF8.self))
            }
        }
    }

    /// Reads `.lambdaignore` from the root: a regular file (or a link to one) of bounded size,
    /// opened without blocking so a FIFO in its place cannot hang packaging.
    private static func loadRules(rootFD: Int32, root: String) throws(PackagingError) -> IgnoreRules {
        let shownPath = ignoreFileName
        let fd = openat(rootFD, ignoreFileName, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return IgnoreRules(patterns: []) }
            if errno == ELOOP { throw .symlinkLoop(path: shownPath, target: shownPath) }
            if errno == ENOTDIR || errno == ENXIO {
                // ENXIO: a socket; ENOTDIR: a link through a file.
                var info = stat()
                if fstatat(rootFD, ignoreFileName, &info, 0) == 0 {
                    throw .ignoreFileNotRegular(path: shownPath, kind: fileKindName(info.st_mode & S_IFMT))
                }
            }
            throw .fileSystem(errno, path: shownPath)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .fileSystem(errno, path: shownPath) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw .ignoreFileNotRegular(path: shownPath, kind: fileKindName(info.st_mode & S_IFMT))
        }
        guard info.st_size <= maximumIgnoreFileBytes else {
            throw .ignoreFileTooLarge(path: shownPath, limit: maximumIgnoreFileBytes)
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return posixRead(fd, base, buffer.count)
            }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw .fileSystem(errno, path: shownPath) }
            if n == 0 { break }
            bytes += chunk[..<n]
            guard bytes.count <= maximumIgnoreFileBytes else {
                throw .ignoreFileTooLarge(path: shownPath, limit: maximumIgnoreFileBytes)
            }
        }
        let lines = bytes.split(separator: 10, omittingEmptySubsequences: false)
        if let index = lines.firstIndex(where: { $0.count > maximumPatternBytes }) {
            throw .ignorePatternTooLong(path: shownPath, line: index + 1, limit: maximumPatternBytes)
        }
        return IgnoreRules(patterns: lines.map { String(decoding: $0, as: UTF8.self) })
    }
}

/// The zip being written: a temporary file beside the output, renamed into place only on success.
private final class OutputFile {
    let finalPath: String
    let temporaryPath: String
    let fd: Int32
    private var committed = false

    /// Checks the destination before anything is written: it must lie outside `root` (the
    /// function directory), and be new or a zip this tool wrote, never a source file.
    init(path: String, outside root: String) throws(PackagingError) {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let url = URL(fileURLWithPath: absolute)
        let parent = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        guard let resolved = realpath(parent, nil) else {
            // Still refuse a destination inside the function directory, judged by its nearest existing ancestor.
            var ancestor = URL(fileURLWithPath: parent)
            var missing: [String] = []
            while ancestor.path != "/", realpath(ancestor.path, nil).map({ free($0) }) == nil {
                missing.insert(ancestor.lastPathComponent, at: 0)
                ancestor.deleteLastPathComponent()
            }
            if let base = realpath(ancestor.path, nil) {
                let within = ([String(cString: base)] + missing).joined(separator: "/")
                free(base)
                if Packager.relativePath(of: within, inside: root) != nil {
                    throw .outputInsideDirectory(output: path, directory: root)
                }
            }
            throw .outputNotWritable(path: path, reason: "directory \(parent) does not exist")
        }
        let directory = String(cString: resolved)
        free(resolved)
        finalPath = (directory == "/" ? "" : directory) + "/" + name
        var info = stat()
        if lstat(finalPath, &info) == 0 {
            let type = info.st_mode & S_IFMT
            if type == S_IFDIR { throw .outputNotWritable(path: path, reason: "it is a directory") }
            guard type == S_IFREG else { throw .outputNotOurs(path: path, kind: "a " + fileKindName(type)) }
        }
        if Packager.relativePath(of: finalPath, inside: root) != nil {
            throw .outputInsideDirectory(output: path, directory: root)
        }
        if lstat(finalPath, &info) == 0 {
            let existing = open(finalPath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            let ours = existing >= 0 && ZipWriter.wroteArchive(fd: existing)
            if existing >= 0 { close(existing) }
            guard ours else { throw .outputNotOurs(path: path, kind: info.st_size == 0 ? "empty" : "another file") }
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

    init(entries: [SourceEntry], level: Int, cache: EntryCache?, threads: Int, rootFD: Int32, racyCutoff: Timestamp) {
        self.entries = entries
        slots = Array(repeating: nil, count: entries.count)
        running = threads
        for _ in 0..<threads {
            let thread = Thread { [self] in
                self.work(compressor: EntryCompressor(level: level, rootFD: rootFD, racyCutoff: racyCutoff), cache: cache)
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func work(compressor: EntryCompressor, cache: EntryCache?) {
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
