import Foundation
import Digest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finished builds, kept by the digest of their inputs: `<cache>/builds/<digest>/` holds the
/// output's copy (`tree/`), a manifest of every entry's kind, mode and SHA-256 or symlink target
/// (`manifest.json`), and the function it belongs to (`function`).
///
/// An entry is written in a temporary folder and renamed into place, so a reader sees a whole
/// entry or none. On reuse the tree is compared with its manifest and every file's SHA-256 is
/// checked while it is copied out: an entry that does not match (a disk error, a hand edit, a
/// half-deleted folder) is reported, removed and built again, never packaged.
struct BuildCache {
    /// `<cache>/builds`.
    let root: String

    /// Entries kept per function: the newest (by last use) few, so a branch switch back and
    /// forth still reuses, while the cache stays bounded.
    static let keepPerFunction = 3
    /// The largest manifest read back (about 300,000 entries).
    static let manifestLimit = 64 << 20
    static let manifestFormat = 1
    /// A temporary entry older than this was left by a process that died: removed when pruning.
    static let abandonedAfter: TimeInterval = 3600

    struct Manifest: Codable, Equatable {
        var format: Int
        var function: String
        var entries: [Item]
    }

    struct Item: Codable, Equatable {
        enum Kind: String, Codable { case directory, file, symlink }
        var path: String
        var kind: Kind
        var mode: UInt32
        /// Hex SHA-256 of a file's content.
        var sha256: String?
        /// A symlink's target, as written.
        var target: String?
    }

    enum Lookup: Equatable {
        case miss
        case restored(files: Int)
        /// The entry does not match its manifest (or cannot be read): it must not be used.
        case damaged(reason: String)
    }

    func entryPath(_ digest: String) -> String { root + "/" + digest }

    // MARK: Reuse

    /// Copies the entry for `digest` into `output` (an existing, empty folder), checking it
    /// against its manifest on the way. Anything but `.restored` leaves `output` to be emptied
    /// and built into.
    func restore(digest: String, function: String, into output: String) -> Lookup {
        let entry = entryPath(digest)
        var info = stat()
        guard lstat(entry, &info) == 0 else { return errno == ENOENT ? .miss : .damaged(reason: String(cString: strerror(errno))) }
        guard info.st_mode & S_IFMT == S_IFDIR else { return .damaged(reason: "the entry is not a folder") }
        do throws(BuildTreeFailure) {
            let manifest = try readManifest(entry + "/manifest.json")
            guard manifest.format == Self.manifestFormat else { return .damaged(reason: "manifest format \(manifest.format), expected \(Self.manifestFormat)") }
            guard manifest.function == function else { return .damaged(reason: "the entry belongs to another function") }

            // The stored tree must hold exactly what the manifest lists, kind for kind, in the
            // walk's order. The manifest is read from disk; as its paths must equal names the walk
            // found under `tree/`, it cannot make the copy below write outside the output.
            let stored = try BuildTree.walk(entry + "/tree")
            guard stored.count == manifest.entries.count else {
                return .damaged(reason: "the stored tree has \(stored.count) entries, the manifest \(manifest.entries.count)")
            }
            for (item, actual) in zip(manifest.entries, stored) {
                if let problem = Self.mismatch(item, actual) { return .damaged(reason: problem) }
            }

            // Copy out, checking each file's content as it is read.
            let source = Array((entry + "/tree").utf8)
            let target = Array(output.utf8)
            var files = 0
            for item in manifest.entries {
                let path = Array(item.path.utf8)
                let destination = BuildTree.join(target, path)
                switch item.kind {
                case .directory:
                    guard BuildTree.withCPath(destination, { mkdir($0, 0o700) }) == 0 else { throw BuildTreeFailure(path: item.path) }
                case .file:
                    let digest = try BuildTree.copyFile(BuildTree.join(source, path), to: destination, mode: item.mode)
                    guard Hex.encode(digest) == item.sha256 else { return .damaged(reason: "\(item.path) does not have the content its manifest records") }
                    files += 1
                case .symlink:
                    let made = BuildTree.withCPath(destination) { symlink(item.target ?? "", $0) }
                    guard made == 0 else { throw BuildTreeFailure(path: item.path) }
                    files += 1
                }
            }
            // Folder modes last, deepest first, so a read-only folder was still writable above.
            for item in manifest.entries.reversed() where item.kind == .directory {
                let changed = BuildTree.withCPath(BuildTree.join(target, Array(item.path.utf8))) { chmod($0, mode_t(item.mode)) }
                guard changed == 0 else { throw BuildTreeFailure(path: item.path) }
            }
            // Last use, for keeping the newest entries.
            _ = utimes(entry, nil)
            return .restored(files: files)
        } catch {
            return .damaged(reason: "\(error.path): \(error.reason)")
        }
    }

    private func readManifest(_ path: String) throws(BuildTreeFailure) -> Manifest {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw BuildTreeFailure(path: "manifest.json") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw BuildTreeFailure(path: "manifest.json") }
        guard info.st_mode & S_IFMT == S_IFREG, info.st_size <= Self.manifestLimit else {
            throw BuildTreeFailure(path: "manifest.json", reason: "not a regular file of at most \(Self.manifestLimit) bytes")
        }
        var data = Data(count: Int(info.st_size))
        var filled = 0
        while filled < data.count {
            let count = data.withUnsafeMutableBytes { read(fd, $0.baseAddress.map { $0 + filled }, $0.count - filled) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw BuildTreeFailure(path: "manifest.json", reason: "cut short") }
            filled += count
        }
        do {
            return try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw BuildTreeFailure(path: "manifest.json", reason: "not a manifest (\(describe(error)))")
        }
    }

    /// Why a stored entry differs from its manifest item, or nil.
    static func mismatch(_ item: Item, _ actual: BuildTreeEntry) -> String? {
        guard actual.path == Array(item.path.utf8) else { return "the stored tree has \(actual.displayPath) where the manifest lists \(item.path)" }
        switch (item.kind, actual.kind) {
        case (.directory, .directory), (.file, .file):
            guard item.mode == actual.mode else { return "\(item.path) has mode \(String(actual.mode, radix: 8)), the manifest \(String(item.mode, radix: 8))" }
            return nil
        case (.symlink, .symlink(let target)):
            guard item.target.map({ Array($0.utf8) }) == target else { return "\(item.path) points elsewhere than its manifest records" }
            return nil
        default:
            return "\(item.path) is not the kind of entry the manifest records"
        }
    }

    // MARK: Storing

    /// Stores `output` (a build's result) as the entry for `digest`. Returns why it was not
    /// stored, or nil; not storing only costs the next run a build.
    func store(digest: String, function: String, from output: String) -> String? {
        let temporary = root + "/.tmp-\(digest.prefix(16))-\(getpid())-\(UUID().uuidString.prefix(8))"
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            return "cannot create \(root) (\(describe(error)))"
        }
        defer { try? BuildTree.remove(temporary) }
        do {
            guard mkdir(temporary, 0o700) == 0, mkdir(temporary + "/tree", 0o700) == 0 else { throw BuildTreeFailure(path: temporary) }
            let entries = try BuildTree.walk(output)
            let source = Array(output.utf8)
            let target = Array((temporary + "/tree").utf8)
            var items: [Item] = []
            for entry in entries {
                // The manifest is JSON text; a name that is not UTF-8 would not survive it (and
                // the packager refuses such names anyway).
                guard let path = String(validating: entry.path, as: UTF8.self) else { return "\(entry.displayPath) is not a UTF-8 name" }
                let destination = BuildTree.join(target, entry.path)
                switch entry.kind {
                case .directory:
                    guard BuildTree.withCPath(destination, { mkdir($0, 0o700) }) == 0 else { throw BuildTreeFailure(path: path) }
                    items.append(Item(path: path, kind: .directory, mode: entry.mode))
                case .file:
                    let digest = try BuildTree.copyFile(BuildTree.join(source, entry.path), to: destination, mode: entry.mode)
                    items.append(Item(path: path, kind: .file, mode: entry.mode, sha256: Hex.encode(digest)))
                case .symlink(let bytes):
                    guard let text = String(validating: bytes, as: UTF8.self) else { return "\(path) points at a name that is not UTF-8" }
                    guard BuildTree.withCPath(destination, { symlink(text, $0) }) == 0 else { throw BuildTreeFailure(path: path) }
                    var stored = stat()
                    guard BuildTree.withCPath(destination, { lstat($0, &stored) }) == 0 else { throw BuildTreeFailure(path: path) }
                    items.append(Item(path: path, kind: .symlink, mode: UInt32(stored.st_mode) & 0o7777, target: text))
                case .special:
                    return "\(path) is a special file (a pipe, socket or device)"
                }
            }
            for item in items.reversed() where item.kind == .directory {
                let changed = BuildTree.withCPath(BuildTree.join(target, Array(item.path.utf8))) { chmod($0, mode_t(item.mode)) }
                guard changed == 0 else { throw BuildTreeFailure(path: item.path) }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let manifest = try encoder.encode(Manifest(format: Self.manifestFormat, function: function, entries: items))
            try manifest.write(to: URL(fileURLWithPath: temporary + "/manifest.json"))
            try Data(function.utf8).write(to: URL(fileURLWithPath: temporary + "/function"))
        } catch let failure as BuildTreeFailure {
            return "\(failure.path): \(failure.reason)"
        } catch {
            return describe(error)
        }
        // Another run may have stored the same digest meanwhile: its entry is as good as ours.
        guard rename(temporary, entryPath(digest)) == 0 || errno == EEXIST || errno == ENOTEMPTY else {
            return "cannot move the entry into place (\(String(cString: strerror(errno))))"
        }
        return nil
    }

    /// Removes an entry (a damaged one, or one pruned).
    func remove(digest: String) {
        try? BuildTree.remove(entryPath(digest))
    }

    /// Keeps the `keep` most recently used entries of `function` and removes its others, and
    /// temporary entries abandoned by a process that died.
    func prune(function: String, keep: Int = BuildCache.keepPerFunction) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return }
        let now = Date().timeIntervalSince1970
        var owned: [(name: String, used: TimeInterval)] = []
        for name in names {
            var info = stat()
            guard lstat(root + "/" + name, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { continue }
            #if canImport(Darwin)
            let used = TimeInterval(info.st_mtimespec.tv_sec)
            #else
            let used = TimeInterval(info.st_mtim.tv_sec)
            #endif
            if name.hasPrefix(".tmp-") {
                if now - used > Self.abandonedAfter { try? BuildTree.remove(root + "/" + name) }
                continue
            }
            guard name.utf8.count == 64, name.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { continue }
            guard let handle = FileHandle(forReadingAtPath: root + "/" + name + "/function"),
                  let data = try? handle.read(upToCount: 4096)
            else { continue }
            try? handle.close()
            if String(decoding: data, as: UTF8.self) == function { owned.append((name, used)) }
        }
        for stale in owned.sorted(by: { ($0.used, $0.name) > ($1.used, $1.name) }).dropFirst(keep) {
            remove(digest: stale.name)
        }
    }
}
