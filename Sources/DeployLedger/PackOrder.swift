internal import CLibgit2
import Foundation

/// Where objects sit in the repository's packs, read from the pack index files, so the ledger
/// reads note blobs in pack order.
///
/// Packs store similar blobs as chains of deltas (up to 50 deep), each resolved from its base.
/// libgit2 keeps recently resolved bases in a cache of 16 MiB: reading 100,000 notes in the notes
/// tree's order (by annotated commit, unrelated to the chains) evicts each base long before the
/// next blob of its chain needs it, and every read resolves its chain again (three times
/// `git log`'s time, BENCHMARKS.md). In pack order a blob's base was read just before it, so each
/// base is resolved once. Objects not found in a pack (loose, or an index this does not read)
/// sort after the packed ones; the order only changes speed, never the answer.
///
/// Pack index format version 2 (gitformat-pack(5)): `\377tOc`, version 2, a fan-out table of 256
/// big-endian counts, the sorted object ids (20 bytes each), their CRC32s, their 4-byte offsets
/// (the high bit set: an index into the 8-byte offsets that follow), then two checksums. Every
/// size is checked against the file before use; a file that does not check out is skipped.
struct PackOrder {
    /// One mapped index and its object count.
    private struct Index {
        let file: MappedFile
        let count: Int
        var bytes: UnsafeRawBufferPointer { file.bytes }
    }

    private let indexes: [Index]

    /// The pack indexes of `repository` (its common directory's `objects/pack`).
    init(repository: GitRepository) {
        var common = String(cString: git_repository_commondir(repository.pointer))
        while common.count > 1 && common.hasSuffix("/") { common.removeLast() }
        self.init(packDirectory: common + "/objects/pack")
    }

    /// The pack indexes in `directory`, in name order; files that do not check out are skipped.
    init(packDirectory directory: String) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".idx") }.sorted()
        indexes = names.compactMap { Self.open(directory + "/" + $0) }
    }

    private static let oidSize = 20
    private static let headerSize = 8 + 256 * 4

    private static func open(_ path: String) -> Index? {
        guard let file = MappedFile(path: path) else { return nil }
        let bytes = file.bytes
        guard bytes.count >= headerSize + 40, bytes[0] == 0xFF, bytes[1] == 0x74, bytes[2] == 0x4F, bytes[3] == 0x63,
              bigEndian32(bytes, 4) == 2
        else { return nil }
        let count = Int(bigEndian32(bytes, 8 + 255 * 4))
        // ids, CRCs and offsets, then the two checksums (large offsets may sit in between).
        guard count < 1 << 31, headerSize + count * (oidSize + 8) + 40 <= bytes.count else { return nil }
        return Index(file: file, count: count)
    }

    private static func bigEndian32(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))
    }

    /// A key that sorts objects in pack order: the pack's number in the high bits, the offset in
    /// the low ones; `UInt64.max` when no index holds the object.
    func position(of id: ObjectID) -> UInt64 {
        var raw = id.raw
        return withUnsafeBytes(of: &raw.id) { target -> UInt64 in
            guard let targetBase = target.baseAddress else { return .max }
            for (number, index) in indexes.enumerated() {
                let bytes = index.bytes
                guard let base = bytes.baseAddress else { continue }
                let first = Int(target[0])
                var low = first == 0 ? 0 : Int(Self.bigEndian32(bytes, 8 + (first - 1) * 4))
                var high = Int(Self.bigEndian32(bytes, 8 + first * 4))
                guard low <= high, high <= index.count else { continue }
                let ids = base + Self.headerSize
                while low < high {
                    let middle = (low + high) / 2
                    let order = memcmp(ids + middle * Self.oidSize, targetBase, Self.oidSize)
                    if order == 0 {
                        guard let offset = offset(index, middle) else { break }
                        return UInt64(number) << 48 | (offset & 0xFFFF_FFFF_FFFF)
                    }
                    if order < 0 { low = middle + 1 } else { high = middle }
                }
            }
            return .max
        }
    }

    /// The pack offset of the `n`th object of `index`, nil when the file is inconsistent.
    private func offset(_ index: Index, _ n: Int) -> UInt64? {
        let bytes = index.bytes
        let offsets = Self.headerSize + index.count * (Self.oidSize + 4)
        let small = Self.bigEndian32(bytes, offsets + n * 4)
        guard small & 0x8000_0000 != 0 else { return UInt64(small) }
        let large = offsets + index.count * 4 + Int(small & 0x7FFF_FFFF) * 8
        guard large + 8 <= bytes.count - 40 else { return nil }
        return UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: large, as: UInt64.self))
    }

    /// `notes` in pack order of their blobs (ties, and objects in no pack, keep their order).
    func sorted(_ notes: [NotePair]) -> [NotePair] {
        guard !indexes.isEmpty else { return notes }
        // (position, original index) pairs sort fast and keep ties in their original order.
        var keys = notes.indices.map { (position(of: notes[$0].blob), $0) }
        keys.sort { $0 < $1 }
        return keys.map { notes[$0.1] }
    }
}

/// A note: the annotated object, its blob, and its place in the notes tree.
struct NotePair: Sendable {
    var annotated: ObjectID
    var blob: ObjectID
    var treeOrder: Int
}
