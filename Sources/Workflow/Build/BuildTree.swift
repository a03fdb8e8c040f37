import Digest
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file-system problem met while building, hashing or caching: the path (relative to the tree
/// it was found in) and what the system said. The build turns it into a `WorkflowError`.
struct BuildTreeFailure: Error, Equatable {
    var path: String
    var reason: String

    init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// `errno` as text, for the call that just failed on `path`.
    init(path: String, errno code: Int32 = errno) {
        self.init(path: path, reason: String(cString: strerror(code)))
    }
}

/// One entry of a tree walked without following symlinks.
struct BuildTreeEntry: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        case directory
        case file
        case symlink(target: [UInt8])
        /// A named pipe, socket or device: nothing a build should leave for packaging.
        case special
    }

    /// The path relative to the tree's root, `/`-separated, as the file system spells it (bytes).
    var path: [UInt8]
    var kind: Kind
    /// The permission bits (`st_mode & 0o7777`).
    var mode: UInt32

    var displayPath: String { String(decoding: path, as: UTF8.self) }
}

/// Small, careful file-tree operations for the build step: a walk that never follows symlinks,
/// a removal that copes with read-only folders, and streaming SHA-256 and copies.
///
/// Paths are bytes until they are shown, so a name that is not UTF-8 is still hashed and copied
/// as itself.
enum BuildTree {
    private static let slash: UInt8 = 47
    private static let chunk = 1 << 20

    /// Every entry under `root` (directories too), sorted bytewise by path. Symlinks are entries,
    /// never followed; `prune` is asked about each entry and keeps it (and, for a directory,
    /// everything under it) out when it answers true. Iterative, so depth is no problem.
    static func walk(_ root: String, prune: ([UInt8], Bool) -> Bool = { _, _ in false }) throws(BuildTreeFailure) -> [BuildTreeEntry] {
        var entries: [BuildTreeEntry] = []
        var pending: [[UInt8]] = [[]]
        while let relative = pending.popLast() {
            let directory = join(Array(root.utf8), relative)
            guard let handle = withCPath(directory, { opendir($0) }) else {
                throw BuildTreeFailure(path: display(relative, root: root))
            }
            defer { closedir(handle) }
            let fd = dirfd(handle)
            while true {
                errno = 0
                guard let item = readdir(handle) else {
                    if errno != 0 { throw BuildTreeFailure(path: display(relative, root: root)) }
                    break
                }
                let name = withUnsafeBytes(of: item.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
                if name == [46] || name == [46, 46] { continue }
                let path = relative.isEmpty ? name : relative + [slash] + name
                var info = stat()
                let statted = withCPath(name) { fstatat(fd, $0, &info, AT_SYMLINK_NOFOLLOW) }
                guard statted == 0 else { throw BuildTreeFailure(path: display(path, root: root)) }
                let type = info.st_mode & S_IFMT
                if prune(path, type == S_IFDIR) { continue }
                let mode = UInt32(info.st_mode) & 0o7777
                switch type {
                case S_IFDIR:
                    entries.append(BuildTreeEntry(path: path, kind: .directory, mode: mode))
                    pending.append(path)
                case S_IFREG:
                    entries.append(BuildTreeEntry(path: path, kind: .file, mode: mode))
                case S_IFLNK:
                    let target = try linkTarget(fd: fd, name: name, display: display(path, root: root))
                    entries.append(BuildTreeEntry(path: path, kind: .symlink(target: target), mode: mode))
                default:
                    entries.append(BuildTreeEntry(path: path, kind: .special, mode: mode))
                }
            }
        }
        entries.sort { $0.path.lexicographicallyPrecedes($1.path) }
        return entries
    }

    private static func linkTarget(fd: Int32, name: [UInt8], display: String) throws(BuildTreeFailure) -> [UInt8] {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = withCPath(name) { readlinkat(fd, $0, &buffer, buffer.count - 1) }
        guard length >= 0 else { throw BuildTreeFailure(path: display) }
        return buffer[..<length].map { UInt8(bitPattern: $0) }
    }

    /// The SHA-256 of a regular file's content, read in 1 MiB chunks (never following a symlink).
    static func sha256(ofFile path: [UInt8]) throws(BuildTreeFailure) -> [UInt8] {
        let fd = withCPath(path) { open($0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { throw BuildTreeFailure(path: String(decoding: path, as: UTF8.self)) }
        defer { close(fd) }
        let hasher = SHA256Hasher()
        try stream(from: fd, display: String(decoding: path, as: UTF8.self)) { hasher.update($0) }
        return hasher.finalize()
    }

    /// Copies a regular file to a new file `destination` with `mode` (exactly: the umask does not
    /// apply) and returns the SHA-256 of what was copied.
    static func copyFile(_ source: [UInt8], to destination: [UInt8], mode: UInt32) throws(BuildTreeFailure) -> [UInt8] {
        let input = withCPath(source) { open($0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) }
        guard input >= 0 else { throw BuildTreeFailure(path: String(decoding: source, as: UTF8.self)) }
        defer { close(input) }
        let shown = String(decoding: destination, as: UTF8.self)
        let output = withCPath(destination) { open($0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
        guard output >= 0 else { throw BuildTreeFailure(path: shown) }
        var closed = false
        defer { if !closed { close(output) } }
        let hasher = SHA256Hasher()
        var failure: BuildTreeFailure?
        try stream(from: input, display: String(decoding: source, as: UTF8.self)) { bytes in
            guard failure == nil, var base = bytes.baseAddress else { return }
            var left = bytes.count
            while left > 0 {
                let written = write(output, base, left)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = BuildTreeFailure(path: shown)
                    return
                }
                left -= written
                base += written
            }
            hasher.update(bytes)
        }
        if let failure { throw failure }
        guard fchmod(output, mode_t(mode & 0o7777)) == 0 else { throw BuildTreeFailure(path: shown) }
        closed = true
        guard close(output) == 0 else { throw BuildTreeFailure(path: shown) }
        return hasher.finalize()
    }

    private static func stream(from fd: Int32, display: String, _ body: (UnsafeRawBufferPointer) -> Void) throws(BuildTreeFailure) {
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, chunk) }
            if count < 0 {
                if errno == EINTR { continue }
                throw BuildTreeFailure(path: display)
            }
            if count == 0 { return }
            buffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        }
    }

    /// Removes `path` and everything under it without following symlinks, making read-only
    /// folders writable on the way (a build may leave some, e.g. a Go module cache). A missing
    /// path is fine.
    static func remove(_ path: String) throws(BuildTreeFailure) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw BuildTreeFailure(path: path)
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            guard unlink(path) == 0 || errno == ENOENT else { throw BuildTreeFailure(path: path) }
            return
        }
        // Children first: walk, then delete in reverse order (deepest paths sort after parents).
        _ = chmod(path, 0o700)
        let entries = try walk(path) { relative, isDirectory in
            if isDirectory { _ = withCPath(join(Array(path.utf8), relative)) { chmod($0, 0o700) } }
            return false
        }
        for entry in entries.reversed() {
            let full = join(Array(path.utf8), entry.path)
            let removed = withCPath(full) { entry.kind == .directory ? rmdir($0) : unlink($0) }
            guard removed == 0 || errno == ENOENT else { throw BuildTreeFailure(path: String(decoding: full, as: UTF8.self)) }
        }
        guard rmdir(path) == 0 || errno == ENOENT else { throw BuildTreeFailure(path: path) }
    }

    /// `root/relative` as bytes.
    static func join(_ root: [UInt8], _ relative: [UInt8]) -> [UInt8] {
        relative.isEmpty ? root : root + [slash] + relative
    }

    /// Calls `body` with `path` as a NUL-terminated C string (a path holding NUL cannot exist:
    /// it is cut there, and the call then fails on the shorter name).
    static func withCPath<R>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
        let terminated: [CChar] = path.prefix { $0 != 0 }.map { CChar(bitPattern: $0) } + [0]
        return body(terminated)
    }

    private static func display(_ relative: [UInt8], root: String) -> String {
        relative.isEmpty ? root : root + "/" + String(decoding: relative, as: UTF8.self)
    }
}
