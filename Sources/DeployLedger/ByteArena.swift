import Foundation

/// A growable byte buffer with a stable owner, so entries can keep offsets into it.
///
/// Small buffers come from `malloc`. From ``mappedFrom`` bytes on, the buffer is its own
/// anonymous mapping, 2 MiB aligned and advised for transparent huge pages: a cold `history` of
/// 10,000 records fills about 5 MB of records and then a 5 MB printed array, and first touching
/// that 4 KiB at a time costs over a thousand more page faults (3,090 against 4,229 for
/// `history` on 10,000 records, and a tenth of the CPU time on 100,000: BENCHMARKS.md). Where
/// huge pages are off the advice is ignored and the buffer behaves like a `malloc` one.
final class ByteArena: @unchecked Sendable {
    // Filled by one reader, then only read (a finished output travels in `HistoryOutput`).
    private var base: UnsafeMutableRawPointer?
    private(set) var count = 0
    private var capacity = 0
    /// Whether `base` is a mapping (unmapped on release) rather than a `malloc` block.
    private var mapped = false
    /// Set when memory ran out and an append was dropped; the reader then fails instead of
    /// printing wrong bytes.
    private(set) var exhausted = false

    static let mappedFrom = 1 << 20
    private static let hugePage = 2 << 20

    deinit { release() }

    private func release() {
        guard let base else { return }
        if mapped { munmap(base, capacity) } else { free(base) }
    }

    func reserve(_ minimum: Int) {
        guard minimum > capacity else { return }
        if minimum < Self.mappedFrom {
            guard !mapped, let grown = realloc(base, minimum) else { return }
            base = grown
            capacity = minimum
            return
        }
        let size = (minimum + Self.hugePage - 1) / Self.hugePage * Self.hugePage
        guard let fresh = Self.mapAligned(size) else { return }
        if let base, count > 0 { fresh.copyMemory(from: base, byteCount: count) }
        release()
        base = fresh
        capacity = size
        mapped = true
    }

    /// `size` bytes (a multiple of 2 MiB) of zeroed memory on a 2 MiB boundary, advised for huge
    /// pages: mapped 2 MiB larger, then the unaligned head and tail are given back.
    private static func mapAligned(_ size: Int) -> UnsafeMutableRawPointer? {
        let span = size + hugePage
        guard let raw = mmap(nil, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), raw != MAP_FAILED
        else { return nil }
        let address = Int(bitPattern: raw)
        let aligned = (address + hugePage - 1) / hugePage * hugePage
        let head = aligned - address
        if head > 0 { munmap(raw, head) }
        let tail = span - head - size
        if tail > 0 { munmap(raw + head + size, tail) }
        let start = raw + head
        _ = madvise(start, size, MADV_HUGEPAGE)
        return start
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        guard let from = bytes.baseAddress, bytes.count > 0 else { return }
        if count + bytes.count > capacity { reserve(max(capacity * 2, count + bytes.count, 4096)) }
        guard let base, count + bytes.count <= capacity else {
            exhausted = true
            return
        }
        (base + count).copyMemory(from: from, byteCount: bytes.count)
        count += bytes.count
    }

    /// Appends a string's UTF-8 and returns where it landed.
    func append(_ text: String) -> Range<Int> {
        let start = count
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
        return start..<count
    }

    /// Lets `body` write up to `size` bytes after the current end; it returns how many it wrote.
    func append(upTo size: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) {
        reserve(count + size)
        guard let base, count + size <= capacity else {
            exhausted = true
            return
        }
        count += min(size, body(UnsafeMutableRawBufferPointer(start: base + count, count: size)))
    }

    func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// Records that an output built from this arena is incomplete (a part ran out of memory).
    func markExhausted() {
        exhausted = true
    }

    /// Everything appended so far (valid while the arena is alive).
    var all: UnsafeRawBufferPointer { bytes(0..<count) }

    /// A copy of everything appended so far.
    func copy() -> [UInt8] {
        withExtendedLifetime(self) { Array(all) }
    }
}
