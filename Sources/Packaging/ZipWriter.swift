#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Digest

/// Bytes owned by exactly one holder; freed when the holder lets go.
///
/// A compressed entry moves from a worker to the writer without a copy; `payload` is a window into
/// the allocation (a cache file's payload follows its header).
final class OwnedBuffer: @unchecked Sendable {
    let base: UnsafeMutableRawPointer?
    let offset: Int
    let count: Int

    init(base: UnsafeMutableRawPointer?, offset: Int = 0, count: Int) {
        self.base = base
        self.offset = offset
        self.count = count
    }

    static let empty = OwnedBuffer(base: nil, count: 0)

    var bytes: UnsafeRawBufferPointer {
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + offset, count: count)
    }

    deinit { free(base) }
}

/// An entry ready to be written: its bytes as they go in the zip, and what the headers say about them.
struct PreparedEntry: Sendable {
    /// 0 = stored, 8 = deflated (APPNOTE.TXT 4.4.5).
    var method: UInt16
    var crc32: UInt32
    var uncompressedSize: Int64
    var payload: OwnedBuffer
    /// SHA-256 of the uncompressed content, for the content digest.
    var contentSHA256: [UInt8]
    /// The start of the content, kept for the few files lint reads (``PackageLint/inspects(_:)``).
    var inspected: [UInt8]? = nil
}

/// Streams a zip to a file descriptor in entry order, hashing every byte as it goes.
///
/// Format per PKWARE APPNOTE.TXT (https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT):
/// local header + data per entry (sizes and CRC known up front, so no data descriptor), then the
/// central directory, then Zip64 end records (4.3.14, 4.3.15) when the entry count or an offset
/// outgrows the classic fields, then the classic end record. Every field that could vary between
/// machines is fixed: one DOS timestamp, no extra fields, Unix "version made by" with the mode in
/// the external attributes (high 16 bits), as Info-ZIP does.
struct ZipWriter: ~Copyable {
    /// 1980-01-01 00:00:00, the earliest DOS date: the same for every entry so mtimes cannot leak in.
    static let dosTime: UInt16 = 0
    static let dosDate: UInt16 = (0 << 9) | (1 << 5) | 1
    /// Host system 3 (Unix) in the high byte, spec version 2.0 in the low byte.
    static let versionMadeBy: UInt16 = (3 << 8) | 20
    static let versionNeeded: UInt16 = 20
    static let versionNeededZip64: UInt16 = 45

    private let fd: Int32
    private let path: String
    private let hasher = SHA256Hasher()
    private var buffer: UnsafeMutableRawPointer
    private let capacity = 1 << 20
    private var used = 0
    private(set) var offset: Int64 = 0
    private var central: [UInt8] = []
    private(set) var entryCount = 0

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    mutating func add(name: [UInt8], mode: UInt32, entry: PreparedEntry) throws(PackagingError) {
        let compressedSize = Int64(entry.payload.count)
        // The 250 MB limit keeps every size and offset far below 4 GiB; refuse rather than write
        // a header that would need a per-entry Zip64 extra field we do not emit.
        guard offset < 0xFFFF_FFFF, entry.uncompressedSize < 0xFFFF_FFFF, compressedSize < 0xFFFF_FFFF else {
            throw .writeFailed(path: path, reason: "entry \(String(decoding: name, as: UTF8.self)) needs per-entry Zip64 fields")
        }
        // The walker refuses names Lambda could not unpack long before this 16-bit field overflows.
        guard let nameLength = UInt16(exactly: name.count) else {
            throw .pathTooLong(path: String(decoding: name, as: UTF8.self), bytes: name.count, limit: DirectoryWalker.maximumNameBytes)
        }
        // Bit 11: the name is UTF-8 (APPNOTE 4.4.4, appendix D); set only when it matters so
        // ASCII-only archives look like Info-ZIP's.
        let flags: UInt16 = name.contains(where: { $0 >= 0x80 }) ? 1 << 11 : 0
        // The fields the local header and the central directory entry share, in the same order
        // (APPNOTE 4.3.7 and 4.3.12): version needed to extract through the name length.
        func sharedFields(_ record: inout [UInt8]) {
            record.le16(Self.versionNeeded)
            record.le16(flags)
            record.le16(entry.method)
            record.le16(Self.dosTime)
            record.le16(Self.dosDate)
            record.le32(entry.crc32)
            record.le32(UInt32(compressedSize))
            record.le32(UInt32(entry.uncompressedSize))
            record.le16(nameLength)
        }

        var header: [UInt8] = []
        header.reserveCapacity(30 + name.count)
        header.le32(0x0403_4b50)
        sharedFields(&header)
        header.le16(0)
        header += name

        central.le32(0x0201_4b50)
        central.le16(Self.versionMadeBy)
        sharedFields(&central)
        central.le16(0)  // extra field length
        central.le16(0)  // comment length
        central.le16(0)  // disk number start
        central.le16(0)  // internal attributes
        central.le32(mode << 16)
        central.le32(UInt32(offset))
        central += name
        entryCount += 1

        try write(header)
        try write(entry.payload.bytes)
    }

    /// Writes the central directory and end records; returns the SHA-256 of the whole archive.
    mutating func finish() throws(PackagingError) -> (sha256: [UInt8], size: Int64) {
        let centralOffset = offset
        let centralSize = Int64(central.count)
        try write(central)

        var end: [UInt8] = []
        let needsZip64 = entryCount > 0xFFFF || centralOffset >= 0xFFFF_FFFF || centralSize >= 0xFFFF_FFFF
        if needsZip64 {
            let zip64EndOffset = offset
            end.le32(0x0606_4b50)
            end.le64(44)  // size of the remaining record
            end.le16(Self.versionMadeBy)
            end.le16(Self.versionNeededZip64)
            end.le32(0)  // this disk
            end.le32(0)  // disk with the central directory
            end.le64(UInt64(entryCount))
            end.le64(UInt64(entryCount))
            end.le64(UInt64(centralSize))
            end.le64(UInt64(centralOffset))
            end.le32(0x0706_4b50)  // locator
            end.le32(0)
            end.le64(UInt64(zip64EndOffset))
            end.le32(1)  // total disks
        }
        let count16 = UInt16(clamping: entryCount)
        end.le32(0x0605_4b50)
        end.le16(0)
        end.le16(0)
        end.le16(count16)
        end.le16(count16)
        end.le32(UInt32(clamping: centralSize))
        end.le32(UInt32(clamping: centralOffset))
        end.le16(0)  // comment length
        try write(end)
        try flush()
        return (hasher.finalize(), offset)
    }

    private mutating func write(_ array: [UInt8]) throws(PackagingError) {
        var failure: PackagingError?
        array.withUnsafeBytes { raw in
            do throws(PackagingError) { try write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    private mutating func write(_ bytes: UnsafeRawBufferPointer) throws(PackagingError) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        hasher.update(bytes)
        offset += Int64(bytes.count)
        if used + bytes.count <= capacity {
            (buffer + used).copyMemory(from: source, byteCount: bytes.count)
            used += bytes.count
            return
        }
        try flush()
        if bytes.count >= capacity / 2 {
            try writeAll(source, bytes.count)
        } else {
            buffer.copyMemory(from: source, byteCount: bytes.count)
            used = bytes.count
        }
    }

    private mutating func flush() throws(PackagingError) {
        guard used > 0 else { return }
        try writeAll(UnsafeRawPointer(buffer), used)
        used = 0
    }

    private func writeAll(_ start: UnsafeRawPointer, _ count: Int) throws(PackagingError) {
        var done = 0
        while done < count {
            let n = posixWrite(fd, start + done, count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
            }
            done += n
        }
    }
}

extension ZipWriter {
    /// Whether the open file `fd` looks like an archive this writer produced: a local header with
    /// our fixed version and timestamp first, and an end record without a comment last.
    ///
    /// `package --output` replaces only such a file, so a mistyped path cannot turn a source file
    /// or a config into a zip (Info-ZIP and other tools' archives carry real timestamps).
    static func wroteArchive(fd: Int32) -> Bool {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size >= 30 + 22 else { return false }
        var head = [UInt8](repeating: 0, count: 30)
        var tail = [UInt8](repeating: 0, count: 22)
        guard pread(fd, &head, 30, 0) == 30, pread(fd, &tail, 22, off_t(info.st_size) - 22) == 22 else { return false }
        func u16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
        func u32(_ b: [UInt8], _ at: Int) -> UInt32 { UInt32(u16(b, at)) | UInt32(u16(b, at + 2)) << 16 }
        return u32(head, 0) == 0x0403_4b50 && u16(head, 4) == versionNeeded && u16(head, 10) == dosTime
            && u16(head, 12) == dosDate && u32(tail, 0) == 0x0605_4b50 && u16(tail, 20) == 0
    }
}

/// `write(2)`, named apart from `ZipWriter.write`.
func posixWrite(_ fd: Int32, _ start: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, start, count)
}

extension [UInt8] {
    mutating func be32(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func be64(_ value: UInt64) {
        be32(UInt32(truncatingIfNeeded: value >> 32))
        be32(UInt32(truncatingIfNeeded: value))
    }

    mutating func le16(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
    }

    mutating func le32(_ value: UInt32) {
        le16(UInt16(truncatingIfNeeded: value))
        le16(UInt16(truncatingIfNeeded: value >> 16))
    }

    mutating func le64(_ value: UInt64) {
        le32(UInt32(truncatingIfNeeded: value))
        le32(UInt32(truncatingIfNeeded: value >> 32))
    }
}
