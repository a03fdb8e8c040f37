#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLibdeflate
import Digest

/// A directory of compressed entries, so re-packaging an unchanged tree costs stat calls, not deflate.
///
/// One file per (function directory, entry path, level): a changed file overwrites its slot, so the
/// cache grows with the number of distinct files, not with edits. The file repeats the whole key
/// (size, mtime, ctime, inode, device, mode, level, path, libdeflate version) and is used only when
/// all of it matches; ctime is in the key because no user tool can set it back. Every read is
/// checked (magic, lengths, CRC-32 of the header and of the payload, method/size sanity) and
/// anything odd is a miss, so a damaged cache costs time, never a wrong zip. Files modified in
/// the last two seconds are not stored: a write in the same timestamp tick could go unnoticed
/// (git's "racy" problem).
///
/// Format 2 keeps mtime and ctime as seconds and nanoseconds apart (format 1 multiplied them into
/// one 64-bit count, which overflowed for times past 2262); a format-1 file is simply a miss.
struct EntryCache: Sendable {
    static let magic: UInt32 = 0x435a_444c  // "LDZC"
    static let formatVersion: UInt32 = 2
    static let headerFixedSize = 136
    /// Below this size deflating costs less than opening the cache slot (measured on the benchmark
    /// tree: caching every file made warm runs slower than cold ones on a 65,600-file tree).
    static let minimumSize: Int64 = 4096

    let directory: String
    let root: String
    let racyCutoff: Timestamp

    func load(_ entry: SourceEntry, level: Int) -> PreparedEntry? {
        let path = slot(for: entry, level: level)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        let total = Int(info.st_size)
        let headerSize = Self.headerFixedSize + entry.name.count + 4
        let (largest, overflow) = headerSize.addingReportingOverflow(Int(clamping: entry.stamp.size))
        guard !overflow, total >= headerSize, total <= largest, let base = malloc(total) else { return nil }
        var handedOver = false
        defer { if !handedOver { free(base) } }
        var done = 0
        while done < total {
            let n = posixRead(fd, base + done, total - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            done += n
        }
        let bytes = UnsafeRawBufferPointer(start: base, count: total)
        let expected = header(entry, level: level, method: 0, crc: 0, compressedSize: 0, sha: [], payloadCRC: 0)
        var reader = Reader(bytes: bytes)
        // Key fields: everything up to the method must equal what we would write for this entry now.
        guard bytes[0..<12].elementsEqual(expected[0..<12]), bytes[14..<76].elementsEqual(expected[14..<76]) else { return nil }
        reader.position = 12
        let method = reader.u16()
        reader.position = 76
        let crc = reader.u32()
        let uncompressed = reader.u64()
        let compressed = reader.u64()
        let sha = Array(bytes[96..<128])
        reader.position = 128
        let payloadCRC = reader.u32()
        guard bytes[132..<(Self.headerFixedSize + entry.name.count)].elementsEqual(expected[132...]) else { return nil }
        reader.position = Self.headerFixedSize + entry.name.count
        let headerCRC = reader.u32()
        guard headerCRC == libdeflate_crc32(0, base, headerSize - 4) else { return nil }
        guard uncompressed == UInt64(entry.stamp.size), compressed == UInt64(total - headerSize) else { return nil }
        switch method {
        case 0: guard compressed == uncompressed else { return nil }
        case 8: guard compressed > 0, compressed < uncompressed else { return nil }
        default: return nil
        }
        guard crc32(UnsafeRawBufferPointer(rebasing: bytes[headerSize...])) == payloadCRC else { return nil }
        handedOver = true
        let payload = OwnedBuffer(base: base, offset: headerSize, count: Int(compressed))
        return PreparedEntry(method: method, crc32: crc, uncompressedSize: Int64(uncompressed), payload: payload, contentSHA256: sha)
    }

    func store(_ prepared: PreparedEntry, for entry: SourceEntry, level: Int) {
        guard !entry.stamp.isRacy(cutoff: racyCutoff) else { return }
        var head = header(
            entry, level: level, method: prepared.method, crc: prepared.crc32,
            compressedSize: UInt64(prepared.payload.count), sha: prepared.contentSHA256,
            payloadCRC: crc32(prepared.payload.bytes))
        head.le32(head.withUnsafeBytes { libdeflate_crc32(0, $0.baseAddress, $0.count) })
        let path = slot(for: entry, level: level)
        let temporary = path + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        let ok = head.withUnsafeBytes { writeAll(fd, $0) } && writeAll(fd, prepared.payload.bytes)
        close(fd)
        if !ok || rename(temporary, path) != 0 { unlink(temporary) }
    }

    private func slot(for entry: SourceEntry, level: Int) -> String {
        let hasher = SHA256Hasher()
        hasher.update(root)
        hasher.update([0])
        hasher.update(entry.name)
        hasher.update([0])
        hasher.update("\(level) libdeflate \(LIBDEFLATE_VERSION_STRING)")
        return directory + "/" + Hex.encode(hasher.finalize().prefix(20))
    }

    /// The header without its trailing CRC; the caller appends it.
    private func header(
        _ entry: SourceEntry, level: Int, method: UInt16, crc: UInt32, compressedSize: UInt64,
        sha: [UInt8], payloadCRC: UInt32
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.headerFixedSize + entry.name.count + 4)
        out.le32(Self.magic)
        out.le32(Self.formatVersion)
        out.le32(UInt32(level))
        out.le16(method)
        out.le16(UInt16(LIBDEFLATE_VERSION_MAJOR) << 8 | UInt16(LIBDEFLATE_VERSION_MINOR))
        out.le64(UInt64(entry.stamp.size))
        out.le64(UInt64(bitPattern: entry.stamp.mtime.seconds))
        out.le64(UInt64(bitPattern: entry.stamp.mtime.nanoseconds))
        out.le64(UInt64(bitPattern: entry.stamp.ctime.seconds))
        out.le64(UInt64(bitPattern: entry.stamp.ctime.nanoseconds))
        out.le64(entry.stamp.inode)
        out.le64(entry.stamp.device)
        out.le32(entry.stamp.rawMode)
        out.le32(crc)
        out.le64(UInt64(entry.stamp.size))
        out.le64(compressedSize)
        out += sha.count == 32 ? sha : [UInt8](repeating: 0, count: 32)
        out.le32(payloadCRC)
        out.le32(UInt32(entry.name.count))
        out += entry.name
        return out
    }

    private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var done = 0
        while done < bytes.count {
            let n = posixWrite(fd, base + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }
}

/// Little-endian field reader over a byte buffer.
private struct Reader {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    mutating func u16() -> UInt16 {
        defer { position += 2 }
        return UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8
    }

    mutating func u32() -> UInt32 {
        UInt32(u16()) | UInt32(u16()) << 16
    }

    mutating func u64() -> UInt64 {
        UInt64(u32()) | UInt64(u32()) << 32
    }
}
