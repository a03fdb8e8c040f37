internal import CLibgit2
import Foundation

/// The two forms `history` prints.
public enum HistoryFormat: String, Sendable {
    /// One line per record (``HistoryLine``).
    case text
    /// One JSON array, each record's keys plus `commit`.
    case json
}

/// What `history` prints (the JSON array or the text lines) and the problems (lines that are
/// not records).
public struct HistoryOutput: Sendable {
    private let storage: Storage
    private let range: Range<Int>
    public let problems: [String]
    /// Whether no record matched (the JSON array is `[]`, the text has no line).
    public let isEmpty: Bool
    /// Whether this came from the history cache rather than from reading the notes.
    public let fromCache: Bool

    /// Built in memory, or a cache file mapped read-only (never copied into the process).
    private enum Storage: Sendable {
        case built(ByteArena)
        case mapped(MappedFile)
    }

    init(mapped file: MappedFile, range: Range<Int>, problems: [String], isEmpty: Bool) {
        storage = .mapped(file)
        self.range = range
        self.problems = problems
        self.isEmpty = isEmpty
        fromCache = true
    }

    init(_ bytes: ByteArena, problems: [String], isEmpty: Bool) {
        storage = .built(bytes)
        range = 0..<bytes.count
        self.problems = problems
        self.isEmpty = isEmpty
        fromCache = false
    }

    /// Calls `body` with the output's UTF-8 (the JSON array without a trailing newline, or the
    /// text lines each ending in one), without copying it.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case let .built(arena):
            return try body(arena.bytes(range))
        case let .mapped(file):
            return try body(UnsafeRawBufferPointer(rebasing: file.bytes[range]))
        }
    }

    /// A copy of the output.
    public var bytes: [UInt8] { withBytes { Array($0) } }
}

/// A file mapped read-only into memory, unmapped when released.
///
/// Mapping a cache file of megabytes costs a few page faults where reading it costs a copy and a
/// fault per page. The cache is only ever replaced by renaming a new file over it, so a mapped
/// file never changes underneath.
final class MappedFile: @unchecked Sendable {
    // Immutable after init; the mapping is read-only.
    let bytes: UnsafeRawBufferPointer

    init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0, info.st_size < 1 << 34 else { return nil }
        let size = Int(info.st_size)
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else { return nil }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}

/// A cache of the unfiltered `history` output (text and JSON), keyed by the notes commit it was
/// read from.
///
/// A notes ref points at a commit, and a commit id names its content forever, so the output for
/// one id never changes; the cache file is valid exactly while the ref points at that commit, the
/// way git's own `commit-graph` file is tied to the objects it describes. A new record moves the
/// ref to a new commit, whose id has no file yet. The file lives under the repository's common git
/// directory (`.git/lambda-deploy/`), is written to a temporary name and renamed into place
/// (readers never see half a file, concurrent writers write identical bytes), carries the
/// notes commit id, ``formatVersion`` and a checksum, and anything that does not check out is
/// ignored and rebuilt. Failing to write it (read-only repository) is not an error.
///
/// Layout: `LDHC`, format version (u32 LE), notes commit id (20 bytes), output length (u64 LE),
/// problems length (u64 LE), checksum (u64 LE) of the output then the problems, the output, the
/// problems joined by newlines.
struct HistoryCache {
    /// Bump when this file layout, the checksum or the text line layout (``HistoryLine``)
    /// changes (3: text output cached too). The record's fields are not counted here: they
    /// enter ``formatVersion`` through ``RecordSchema/fingerprint``.
    static let layoutRevision: UInt64 = 3

    /// The format of cache files: derived from ``layoutRevision`` and the record schema, so
    /// adding a field to ``RecordSchema`` invalidates every cached output by itself.
    static let formatVersion: UInt32 = formatVersion(schema: RecordSchema.fingerprint)

    static func formatVersion(schema fingerprint: UInt64) -> UInt32 {
        var hash = checksumSeed
        withUnsafeBytes(of: layoutRevision.littleEndian) { hash = checksum($0, continuing: hash) }
        withUnsafeBytes(of: fingerprint.littleEndian) { hash = checksum($0, continuing: hash) }
        return UInt32(truncatingIfNeeded: hash ^ (hash >> 32))
    }
    private static let magic: [UInt8] = Array("LDHC".utf8)
    private static let headerSize = 4 + 4 + 20 + 8 + 8 + 8

    let directory: String

    /// The cache of `repository` (shared by its linked worktrees, like the notes themselves).
    init(repository: GitRepository) {
        var common = String(cString: git_repository_commondir(repository.pointer))
        while common.count > 1 && common.hasSuffix("/") { common.removeLast() }
        directory = common + "/lambda-deploy"
    }

    func path(for notesCommit: ObjectID, format: HistoryFormat) -> String {
        directory + "/" + Self.fileName(for: notesCommit, format: format)
    }

    private static func fileName(for notesCommit: ObjectID, format: HistoryFormat) -> String {
        "history-\(format.rawValue)-v\(formatVersion)-\(notesCommit.hex)"
    }

    // MARK: Reading

    /// The cached output for `notesCommit`; nil when there is none or it does not check out.
    func load(_ notesCommit: ObjectID, format: HistoryFormat) -> HistoryOutput? {
        guard let mapped = MappedFile(path: path(for: notesCommit, format: format)), mapped.bytes.count >= Self.headerSize else { return nil }
        let file = mapped.bytes
        guard file.prefix(4).elementsEqual(Self.magic),
              UInt32(littleEndian: file.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) == Self.formatVersion
        else { return nil }
        var id = notesCommit.raw
        let sameCommit = withUnsafeBytes(of: &id.id) { $0.elementsEqual(file[8..<28]) }
        let jsonCount = UInt64(littleEndian: file.loadUnaligned(fromByteOffset: 28, as: UInt64.self))
        let problemsCount = UInt64(littleEndian: file.loadUnaligned(fromByteOffset: 36, as: UInt64.self))
        let checksum = UInt64(littleEndian: file.loadUnaligned(fromByteOffset: 44, as: UInt64.self))
        let body = UInt64(file.count - Self.headerSize)
        guard sameCommit, jsonCount <= body, problemsCount == body - jsonCount else { return nil }
        let jsonRange = Self.headerSize..<(Self.headerSize + Int(jsonCount))
        let json = UnsafeRawBufferPointer(rebasing: file[jsonRange])
        let problemBytes = UnsafeRawBufferPointer(rebasing: file[jsonRange.upperBound...])
        guard Self.checksum(problemBytes, continuing: Self.checksum(json)) == checksum else { return nil }
        let problemText = String(decoding: problemBytes, as: UTF8.self)
        let problems = problemText.isEmpty ? [] : problemText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let isEmpty = format == .json ? jsonCount <= 2 : jsonCount == 0
        return HistoryOutput(mapped: mapped, range: jsonRange, problems: problems, isEmpty: isEmpty)
    }

    // MARK: Writing

    /// Stores `output` for `notesCommit` and removes files of other notes commits; best effort.
    func store(_ output: HistoryOutput, for notesCommit: ObjectID, format: HistoryFormat) {
        // A problem text never holds a newline (excerpts replace control characters), so joining
        // by newlines is reversible; refuse to cache rather than split one wrongly.
        guard !output.problems.contains(where: { $0.contains("\n") }) else { return }
        let problems = Array(output.problems.joined(separator: "\n").utf8)
        output.withBytes { json in store(json, problems: problems, for: notesCommit, format: format) }
    }

    private func store(_ json: UnsafeRawBufferPointer, problems: [UInt8], for notesCommit: ObjectID, format: HistoryFormat) {
        var header: [UInt8] = []
        header.reserveCapacity(Self.headerSize)
        header.append(contentsOf: Self.magic)
        withUnsafeBytes(of: Self.formatVersion.littleEndian) { header.append(contentsOf: $0) }
        var id = notesCommit.raw
        withUnsafeBytes(of: &id.id) { header.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { header.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(problems.count).littleEndian) { header.append(contentsOf: $0) }
        var sum = Self.checksumSeed
        sum = Self.checksum(json, continuing: sum)
        problems.withUnsafeBytes { sum = Self.checksum($0, continuing: sum) }
        withUnsafeBytes(of: sum.littleEndian) { header.append(contentsOf: $0) }

        mkdir(directory, 0o777)
        let temporary = directory + "/.tmp-history-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        // Three writes instead of one copy of a multi-megabyte buffer.
        let written = header.withUnsafeBytes { Self.writeAll(fd, $0) }
            && Self.writeAll(fd, json)
            && problems.withUnsafeBytes { Self.writeAll(fd, $0) }
        if close(fd) != 0 || !written || rename(temporary, path(for: notesCommit, format: format)) != 0 {
            unlink(temporary)
            return
        }
        removeOthers(keeping: [HistoryFormat.text, .json].map { Self.fileName(for: notesCommit, format: $0) })
    }

    private static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Bool {
        var at = 0
        while at < buffer.count, let base = buffer.baseAddress {
            let n = write(fd, base + at, buffer.count - at)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            at += n
        }
        return true
    }

    /// Deletes cache files of other notes commits (older ref positions, older format versions)
    /// and temporary files a killed writer left behind (older than ten minutes, so a concurrent
    /// writer's file is never taken from under it).
    private func removeOthers(keeping kept: [String]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        let now = time(nil)
        for other in names where !kept.contains(other) {
            let path = directory + "/" + other
            if other.hasPrefix("history-") {
                unlink(path)
            } else if other.hasPrefix(".tmp-history-") {
                var info = stat()
                if stat(path, &info) == 0 && now - info.st_mtim.tv_sec > 600 { unlink(path) }
            }
        }
    }

    /// A 64-bit checksum of the body: it catches a torn or damaged file, not tampering (whoever
    /// can write `.git` can change the notes themselves).
    ///
    /// Four independent lanes over 32-byte blocks, so the multiplications overlap instead of
    /// waiting on each other: about 0.3 ms for the 5 MB of 10,000 records, where one lane took
    /// 1.1 ms (format 1). `continuing` chains calls: the JSON, then the problems.
    static func checksum(_ bytes: UnsafeRawBufferPointer, continuing hash: UInt64 = checksumSeed) -> UInt64 {
        let prime: UInt64 = 0x0000_0100_0000_01b3
        @inline(__always) func mix(_ lane: UInt64, _ word: UInt64) -> UInt64 {
            let mixed = (lane ^ word) &* prime
            return mixed ^ (mixed >> 29)
        }
        var lanes = (hash, hash ^ 0x9e37_79b9_7f4a_7c15, hash ^ 0xc2b2_ae3d_27d4_eb4f, hash ^ 0x1656_67b1_9e37_79f9)
        var at = 0
        while at + 32 <= bytes.count {
            lanes.0 = mix(lanes.0, bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))
            lanes.1 = mix(lanes.1, bytes.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self))
            lanes.2 = mix(lanes.2, bytes.loadUnaligned(fromByteOffset: at + 16, as: UInt64.self))
            lanes.3 = mix(lanes.3, bytes.loadUnaligned(fromByteOffset: at + 24, as: UInt64.self))
            at += 32
        }
        var result = mix(mix(mix(lanes.0, lanes.1), lanes.2), lanes.3)
        while at < bytes.count {
            result = (result ^ UInt64(bytes[at])) &* prime
            at += 1
        }
        return (result ^ UInt64(bytes.count)) &* prime
    }

    static let checksumSeed: UInt64 = 0xcbf2_9ce4_8422_2325
}
