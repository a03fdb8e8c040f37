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
    private let compressor: OpaquePointer?

    init(level: Int) {
        self.level = level
        compressor = level > 0 ? libdeflate_alloc_compressor(Int32(level)) : nil
    }

    deinit { libdeflate_free_compressor(compressor) }

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
            // Small files compress faster than their cache slot opens, so they bypass the cache.
            let cache = entry.stamp.size >= EntryCache.minimumSize ? cache : nil
            if let cache, let hit = cache.load(entry, level: level) { return .success(hit) }
            let prepared: PreparedEntry
            switch read(entry) {
            case .failure(let error): return .failure(error)
            case .success(let input): prepared = compress(input)
            }
            cache?.store(prepared, for: entry, level: level)
            return .success(prepared)
        }
    }

    private func read(_ entry: SourceEntry) -> Result<OwnedBuffer, PackagingError> {
        let fd = open(entry.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.unreadable(path: entry.displayName, reason: String(cString: strerror(errno)))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(.unreadable(path: entry.displayName, reason: String(cString: strerror(errno)))) }
        // The stamp decides cache hits later, so the bytes must belong to the stamp the walk saw.
        guard FileStamp(info) == entry.stamp else { return .failure(.fileChanged(entry.displayName)) }
        let size = Int(info.st_size)
        guard let base = malloc(max(size, 1)) else { return .failure(.unreadable(path: entry.displayName, reason: "out of memory")) }
        let buffer = OwnedBuffer(base: base, count: size)
        var done = 0
        while done < size {
            let n = posixRead(fd, base + done, size - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                if n == 0 { return .failure(.fileChanged(entry.displayName)) }
                return .failure(.unreadable(path: entry.displayName, reason: String(cString: strerror(errno))))
            }
            done += n
        }
        return .success(buffer)
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
