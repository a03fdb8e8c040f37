#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file time as the file system reports it: seconds and nanoseconds kept apart, because a
/// far-future mtime (year 2446 on ext4) does not fit in 64 bits of nanoseconds.
struct Timestamp: Sendable, Equatable, Comparable {
    var seconds: Int64
    var nanoseconds: Int64

    static func < (a: Timestamp, b: Timestamp) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    static func now() -> Timestamp {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Timestamp(seconds: Int64(now.tv_sec), nanoseconds: Int64(now.tv_nsec))
    }

    /// Changes stamped at or after this time may share a timestamp tick with a later write, so a
    /// stat cannot prove them finished: "racy", in git's word. Two seconds covers every common
    /// file system's granularity.
    static func racyCutoff(before start: Timestamp) -> Timestamp {
        Timestamp(seconds: start.seconds &- 2, nanoseconds: start.nanoseconds)
    }
}

/// What the cache and the change checks need to know a file is the one the walk saw, unchanged.
struct FileStamp: Sendable, Equatable {
    var size: Int64
    var mtime: Timestamp
    var ctime: Timestamp
    var inode: UInt64
    var device: UInt64
    var rawMode: UInt32

    /// Whether a write could have landed in the same timestamp tick as the last change we see.
    func isRacy(cutoff: Timestamp) -> Bool { mtime >= cutoff || ctime >= cutoff }
}

/// One file or symlink that goes into the zip.
struct SourceEntry: Sendable {
    enum Kind: Sendable, Equatable {
        case file
        case symlink(target: [UInt8])
    }

    /// Path relative to the function directory with `/` separators: the zip entry name, and the
    /// path the file is opened by (relative to the directory's descriptor).
    var name: [UInt8]
    var kind: Kind
    var stamp: FileStamp

    /// The Unix mode the zip records: only "executable or not" survives, so umask and owner do not matter.
    var zipMode: UInt32 {
        switch kind {
        case .symlink: return 0o120777
        case .file: return stamp.rawMode & 0o111 != 0 ? 0o100755 : 0o100644
        }
    }

    var contentSize: Int64 {
        switch kind {
        case .file: return stamp.size
        case .symlink(let target): return Int64(target.count)
        }
    }

    var displayName: String { String(decoding: name, as: UTF8.self) }
}

/// What a walk found: the entries, and for each symlink the paths its resolution passes through,
/// which must all be in the package too or the link dangles once Lambda unpacks it.
struct WalkResult {
    var entries: [SourceEntry]
    var links: [(name: [UInt8], target: [UInt8], needs: [[UInt8]])]
}

/// Walks the function directory with `openat`/`readdir`/`fstatat` relative to one descriptor of
/// the directory, applying the ignore rules and refusing what Lambda cannot unpack.
///
/// The walk keeps at most two descriptors open (the root's and the directory being listed)
/// whatever the depth, and uses an explicit stack rather than recursion, so a 1,100-deep tree
/// needs neither 1,100 descriptors nor 1,100 stack frames. Paths are never longer than the
/// entry names, so a function directory deep in the file system does not hit PATH_MAX.
struct DirectoryWalker {
    /// Lambda unpacks under `/var/task/`; a path there must fit in PATH_MAX (4096) with its NUL.
    static let maximumNameBytes = 4096 - 1 - "/var/task/".utf8.count
    /// Linux gives up after 40 links in one resolution (ELOOP); so do we.
    static let maximumLinkHops = 40

    /// Canonical (symlink-free) absolute path of the function directory, for messages.
    var root: String
    /// An open descriptor of `root`; every path is resolved relative to it.
    var rootFD: Int32
    var rules: IgnoreRules
    /// Relative paths never packaged: a cache directory inside the tree.
    var skip: Set<[UInt8]>

    func walk() throws(PackagingError) -> WalkResult {
        var result = WalkResult(entries: [], links: [])
        var rootInfo = stat()
        guard fstat(rootFD, &rootInfo) == 0 else { throw .fileSystem(errno, path: root) }
        var pending: [(rel: [UInt8], device: UInt64, inode: UInt64)] = [([], UInt64(rootInfo.st_dev), UInt64(rootInfo.st_ino))]
        while let directory = pending.popLast() {
            let subdirectories = try list(directory, into: &result)
            // Reversed, so directories are visited in name order and the first problem reported
            // is the same on every machine.
            pending += subdirectories.reversed()
        }
        return result
    }

    /// Lists one directory; returns its subdirectories to visit.
    private func list(
        _ directory: (rel: [UInt8], device: UInt64, inode: UInt64), into result: inout WalkResult
    ) throws(PackagingError) -> [(rel: [UInt8], device: UInt64, inode: UInt64)] {
        let fd = directory.rel.isEmpty
            ? dup(rootFD)
            : openat(rootFD, cString(directory.rel), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            // ELOOP: O_NOFOLLOW met a symlink where the listing saw a directory.
            throw errno == ELOOP ? .fileChanged(display(directory.rel)) : .fileSystem(errno, path: display(directory.rel))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw .fileSystem(errno, path: display(directory.rel))
        }
        // The same directory the parent's listing saw, not one swapped in since.
        guard UInt64(info.st_dev) == directory.device, UInt64(info.st_ino) == directory.inode else {
            close(fd)
            throw .fileChanged(display(directory.rel))
        }
        guard let handle = fdopendir(fd) else {
            close(fd)
            throw .fileSystem(errno, path: display(directory.rel))
        }
        defer { closedir(handle) }

        var names: [[UInt8]] = []
        while true {
            // readdir returns nil both at the end and on failure; only errno tells them apart.
            errno = 0
            guard let item = readdir(handle) else {
                if errno != 0 { throw .fileSystem(errno, path: display(directory.rel)) }
                break
            }
            let name = withUnsafeBytes(of: item.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            if name == [46] || name == [46, 46] { continue }  // "." and ".."
            // `.git` (a directory, or the file a worktree/submodule leaves) is never packaged.
            if name == Array(".git".utf8) { continue }
            names.append(name)
        }
        names.sort { $0.lexicographicallyPrecedes($1) }

        var subdirectories: [(rel: [UInt8], device: UInt64, inode: UInt64)] = []
        for name in names {
            let rel = directory.rel.isEmpty ? name : directory.rel + [47] + name
            if skip.contains(rel) { continue }
            var info = stat()
            guard fstatat(dirfd(handle), cString(name), &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw .fileSystem(errno, path: display(rel))
            }
            let type = info.st_mode & S_IFMT
            let isDirectory = type == S_IFDIR
            if rules.matches(rel[...], isDirectory: isDirectory) { continue }
            guard String(validating: name, as: UTF8.self) != nil else { throw .nonUTF8Name(escaped(rel)) }
            guard rel.count <= Self.maximumNameBytes else {
                throw .pathTooLong(path: display(rel), bytes: rel.count, limit: Self.maximumNameBytes)
            }
            if isDirectory {
                subdirectories.append((rel, UInt64(info.st_dev), UInt64(info.st_ino)))
                continue
            }
            let stamp = FileStamp(info)
            switch type {
            case S_IFREG:
                guard stamp.size <= Packager.maximumUnzippedBytes else {
                    throw .fileTooLarge(path: display(rel), bytes: stamp.size, limit: Packager.maximumUnzippedBytes)
                }
                result.entries.append(SourceEntry(name: rel, kind: .file, stamp: stamp))
            case S_IFLNK:
                let target = try readLink(at: dirfd(handle), name: name, shownAs: rel)
                let needs = try resolve(link: rel, target: target)
                result.entries.append(SourceEntry(name: rel, kind: .symlink(target: target), stamp: stamp))
                result.links.append((rel, target, needs))
            default:
                throw .unsupportedFileType(path: display(rel), kind: fileKindName(type))
            }
        }
        return subdirectories
    }

    private func readLink(at fd: Int32, name: [UInt8], shownAs rel: [UInt8]) throws(PackagingError) -> [UInt8] {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlinkat(fd, cString(name), &buffer, buffer.count - 1)
        guard length >= 0 else { throw .fileSystem(errno, path: display(rel)) }
        return buffer[..<length].map { UInt8(bitPattern: $0) }
    }

    /// Follows the link the way the kernel will inside Lambda, component by component, and
    /// returns every path the resolution passes through (links, directories, the final target).
    ///
    /// The link must stay inside the tree at every step: an absolute link, or a `..` above the
    /// root, escapes; a missing component dangles; more than ``maximumLinkHops`` links is a loop.
    private func resolve(link rel: [UInt8], target: [UInt8]) throws(PackagingError) -> [[UInt8]] {
        let targetText = String(decoding: target, as: UTF8.self)
        if target.first == 47 { throw .symlinkAbsolute(path: display(rel), target: targetText) }
        var resolved = rel.split(separator: 47, omittingEmptySubsequences: true).dropLast().map(Array.init)
        var remaining: [[UInt8]] = Array(target.split(separator: 47, omittingEmptySubsequences: true).map(Array.init).reversed())
        var needs: [[UInt8]] = []
        var hops = 0
        while let component = remaining.popLast() {
            if component == [46] { continue }
            if component == [46, 46] {
                guard !resolved.isEmpty else { throw .symlinkEscapes(path: display(rel), target: targetText) }
                resolved.removeLast()
                continue
            }
            let path = Array((resolved + [component]).joined(separator: [47]))
            guard path.count <= Self.maximumNameBytes else {
                throw .pathTooLong(path: display(path), bytes: path.count, limit: Self.maximumNameBytes)
            }
            var info = stat()
            guard fstatat(rootFD, cString(path), &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                if errno == ENOENT || errno == ENOTDIR { throw .symlinkDangling(path: display(rel), target: targetText) }
                throw .fileSystem(errno, path: display(path))
            }
            needs.append(path)
            switch info.st_mode & S_IFMT {
            case S_IFLNK:
                hops += 1
                guard hops <= Self.maximumLinkHops else { throw .symlinkLoop(path: display(rel), target: targetText) }
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let length = readlinkat(rootFD, cString(path), &buffer, buffer.count - 1)
                guard length >= 0 else { throw .fileSystem(errno, path: display(path)) }
                let next = buffer[..<length].map { UInt8(bitPattern: $0) }
                // An absolute link in the chain leaves the tree (it is refused on its own too).
                if next.first == 47 { throw .symlinkEscapes(path: display(rel), target: targetText) }
                remaining += next.split(separator: 47, omittingEmptySubsequences: true).map(Array.init).reversed()
            case S_IFDIR:
                resolved.append(component)
            default:
                // A file: only valid as the last component.
                guard remaining.isEmpty && !target.hasSuffixSlash else {
                    throw .symlinkDangling(path: display(rel), target: targetText)
                }
                resolved.append(component)
            }
        }
        return needs
    }

    /// The NUL-terminated form of a path for system calls.
    private func cString(_ bytes: [UInt8]) -> [CChar] {
        bytes.map { CChar(bitPattern: $0) } + [0]
    }

    private func display(_ rel: [UInt8]) -> String {
        rel.isEmpty ? root : String(decoding: rel, as: UTF8.self)
    }

    /// The path with bytes that are not UTF-8 shown as `\xNN`, so the user can find the file.
    private func escaped(_ rel: [UInt8]) -> String {
        var out = ""
        var rest = rel[...]
        while !rest.isEmpty {
            var length = 1
            while length <= min(4, rest.count) {
                if let text = String(validating: rest.prefix(length), as: UTF8.self) {
                    out += text
                    break
                }
                length += 1
            }
            if length > min(4, rest.count) {
                out += "\\x" + String(rest[rest.startIndex], radix: 16, uppercase: true)
                length = 1
            }
            rest = rest.dropFirst(length)
        }
        return out
    }
}

/// What a file of this type is called in a message.
func fileKindName(_ type: mode_t) -> String {
    switch type {
    case S_IFREG: return "file"
    case S_IFDIR: return "directory"
    case S_IFLNK: return "symbolic link"
    case S_IFIFO: return "named pipe"
    case S_IFSOCK: return "socket"
    case S_IFCHR: return "character device"
    case S_IFBLK: return "block device"
    default: return "special file"
    }
}

extension [UInt8] {
    /// `a/b/` names a directory: a file there does not resolve.
    fileprivate var hasSuffixSlash: Bool { last == 47 }
}

extension FileStamp {
    init(_ info: stat) {
        #if canImport(Darwin)
        let mtime = info.st_mtimespec
        let ctime = info.st_ctimespec
        #else
        let mtime = info.st_mtim
        let ctime = info.st_ctim
        #endif
        self.init(
            size: Int64(info.st_size),
            mtime: Timestamp(seconds: Int64(mtime.tv_sec), nanoseconds: Int64(mtime.tv_nsec)),
            ctime: Timestamp(seconds: Int64(ctime.tv_sec), nanoseconds: Int64(ctime.tv_nsec)),
            inode: UInt64(info.st_ino),
            device: UInt64(info.st_dev),
            rawMode: UInt32(info.st_mode))
    }
}
