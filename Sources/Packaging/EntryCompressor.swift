#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLibdeflate
import Digest

/// Turns one source entry into its zip payload: read, CRC-32, SHA-256, deflate (or store).
///
/// One per worker thread: a libdeflate compressor is not thread-safe but is reusable.
final class EntryCompressor {
    let level: Int
    /// The function directory; entries are opened relative to it.
    let rootFD: Int32
    /// Files changed at or after this time are read twice (see ``read(_:)``).
    let racyCutoff: Timestamp
    private let compressor: OpaquePointer?
    private var decompressor: OpaquePointer?

    init(level: Int, rootFD: Int32, racyCutoff: Timestamp) {
        self.level = level
        self.rootFD = rootFD
        self.racyCutoff = racyCutoff
        compressor = level > 0 ? libdeflate_alloc_compressor(Int32(level)) : nil
    }

    deinit {
        libdeflate_free_compressor(compressor)
        libdeflate_free_decompressor(decompressor)
    }

    func prepare(_ entry: SourceEntry, cache: EntryCache?) -> Result<PreparedEntry, PackagingError> {
        switch entry.kind {
        case .symlink(let target):
            // The link text is the entry's content (Info-ZIP's convention); always stored.
            let copy = UnsafeMutableRawPointer.allocate(byteCount: max(target.count, 1), alignment: 16)
            target.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(copy), byteCount: target.count) }
            let buffer = OwnedBuffer(base: copy, count: target.count)
            return .success(PreparedEntry(
                method: 0, crc32: crc32(buffer.bytes), uncompressedSize: Int64(target.count),
                payload: buffer, contentSHA256: SHA256.hash(target)))
        case .file:
            let inspect = PackageLint.inspects(entry.name)
            // Small files compress faster than their cache slot opens, so they bypass the cache.
            let cache = entry.stamp.size >= EntryCache.minimumSize ? cache : nil
            if let cache, var hit = cache.load(entry, level: level) {
                guard inspect else { return .success(hit) }
                // Lint reads this file: inflate the cached payload (a certificate bundle takes
                // well under a millisecond) rather than compress it again.
                if let bytes = inflatedPrefix(hit) {
                    hit.inspected = bytes
                    return .success(hit)
                }
            }
            var prepared: PreparedEntry
            switch read(entry) {
            case .failure(let error): return .failure(error)
            case .success(let input):
                let kept = inspect ? Array(input.bytes.prefix(PackageLint.inspectedBytes)) : nil
                prepared = compress(input)
                prepared.inspected = kept
            }
            cache?.store(prepared, for: entry, level: level)
            return .success(prepared)
        }
    }

    /// Reads the whole file, refusing bytes that never existed together.
    ///
    /// The file must be the one the walk saw (same stamp: size, mtime, ctime, inode, device, mode)
    /// before the read and after it; a file rewritten in place meanwhile changes mtime and ctime.
    /// A file changed within a timestamp tick of the read could keep its stamp, so a racy file
    /// is read a second time and both reads must agree.
    private func read(_ entry: SourceEntry) -> Result<OwnedBuffer, PackagingError> {
        let name = entry.displayName
        // O_NONBLOCK: a file swapped for a FIFO since the walk must not block the open.
        let fd = openat(rootFD, entry.name.map { CChar(bitPattern: $0) } + [0], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            return .failure(errno == ELOOP ? .fileChanged(name) : .fileSystem(errno, path: name))
        }
        defer { close(fd) }
        guard unchanged(fd, entry) else { return .failure(.fileChanged(name)) }
        let size = Int(entry.stamp.size)
        guard let base = malloc(max(size, 1)) else { return .failure(.readFailed(path: name, reason: "out of memory")) }
        let buffer = OwnedBuffer(base: base, count: size)
        switch readFully(fd, into: base, count: size, name: name) {
        case .failure(let error): return .failure(error)
        case .success: break
        }
        guard unchanged(fd, entry) else { return .failure(.fileChanged(name)) }
        if entry.stamp.isRacy(cutoff: racyCutoff) {
            switch sameBytesAgain(fd, buffer.bytes, name: name) {
            case .failure(let error): return .failure(error)
            case .success(let same): guard same else { return .failure(.fileChanged(name)) }
            }
            guard unchanged(fd, entry) else { return .failure(.fileChanged(name)) }
        }
        return .success(buffer)
    }

    private func unchanged(_ fd: Int32, _ entry: SourceEntry) -> Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && FileStamp(info) == entry.stamp
    }

    /// Reads exactly `count` bytes from the start; a file that ends early or goes on has changed.
    private func readFully(_ fd: Int32, into base: UnsafeMutableRawPointer, count: Int, name: String) -> Result<Void, PackagingError> {
        var done = 0
        while done < count {
            let n = pread(fd, base + done, count - done, off_t(done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                if n == 0 { return .failure(.fileChanged(name)) }
                return .failure(.fileSystem(errno, path: name))
            }
            done += n
        }
        var extra: UInt8 = 0
        while true {
            let n = pread(fd, &extra, 1, off_t(count))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return .failure(.fileSystem(errno, path: name)) }
            return n == 0 ? .success(()) : .failure(.fileChanged(name))
        }
    }

    /// Reads the file again in chunks and compares it with `first`.
    private func sameBytesAgain(_ fd: Int32, _ first: UnsafeRawBufferPointer, name: String) -> Result<Bool, PackagingError> {
        let chunk = 1 << 16
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
        defer { scratch.deallocate() }
        var offset = 0
        while offset < first.count {
            let want = min(chunk, first.count - offset)
            let n = pread(fd, scratch, want, off_t(offset))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return .failure(.fileSystem(errno, path: name)) }
            if n == 0 { return .success(false) }
            guard let start = first.baseAddress, memcmp(scratch, start + offset, n) == 0 else { return .success(false) }
            offset += n
        }
        return .success(true)
    }

    /// The first ``PackageLint/inspectedBytes`` of a cached entry's content; nil if it cannot be
    /// inflated exactly (then the file is read instead).
    private func inflatedPrefix(_ entry: PreparedEntry) -> [UInt8]? {
        let payload = entry.payload.bytes
        if entry.method == 0 { return Array(payload.prefix(PackageLint.inspectedBytes)) }
        guard entry.method == 8, entry.uncompressedSize <= 16 << 20, let source = payload.baseAddress else { return nil }
        if decompressor == nil { decompressor = libdeflate_alloc_decompressor() }
        guard let decompressor else { return nil }
        var out = [UInt8](repeating: 0, count: Int(entry.uncompressedSize))
        var produced = 0
        let status = out.withUnsafeMutableBytes { buffer in
            libdeflate_deflate_decompress(decompressor, source, payload.count, buffer.baseAddress, buffer.count, &produced)
        }
        guard status == LIBDEFLATE_SUCCESS, produced == out.count else { return nil }
        return Array(out.prefix(PackageLint.inspectedBytes))
    }

    /// Deflates into a buffer one byte smaller than the input: libdeflate returns 0 when the
    /// result would not fit, which is exactly "does not shrink", and then the entry is stored.
    func compress(_ input: OwnedBuffer) -> PreparedEntry {
        let bytes = input.bytes
        let crc = crc32(bytes)
        let digest = sha256(bytes)
        if let compressor, input.count > 1, let source = bytes.baseAddress, let out = malloc(input.count - 1) {
            let written = libdeflate_deflate_compress(compressor, source, input.count, out, input.count - 1)
            if written > 0 {
                return PreparedEntry(
                    method: 8, crc32: crc, uncompressedSize: Int64(input.count),
                    payload: OwnedBuffer(base: out, count: written), contentSHA256: digest)
            }
            free(out)
        }
        return PreparedEntry(method: 0, crc32: crc, uncompressedSize: Int64(input.count), payload: input, contentSHA256: digest)
    }
}

func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    guard let base = bytes.baseAddress else { return 0 }
    return libdeflate_crc32(0, base, bytes.count)
}

func sha256(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
    let hasher = SHA256Hasher()
    hasher.update(bytes)
    return hasher.finalize()
}

/// `read(2)`, named apart from `EntryCompressor.read`.
func posixRead(_ fd: Int32, _ start: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, start, count)
}
