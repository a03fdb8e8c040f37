#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the cache needs to know a file has not changed since it was last compressed.
struct FileStamp: Sendable, Equatable {
    var size: Int64
    var mtimeNanoseconds: Int64
    var ctimeNanoseconds: Int64
    var inode: UInt64
    var device: UInt64
    var rawMode: UInt32
}

/// One file or symlink that goes into the zip.
struct SourceEntry: Sendable {
    enum Kind: Sendable, Equatable {
        case file
        case symlink(target: [UInt8])
    }

    /// Path relative to the function directory with `/` separators: the zip entry name.
    var name: [UInt8]
    /// Absolute path, for opening the file.
    var path: String
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

/// Walks the function directory with `opendir`/`readdir`/`fstatat` (no Foundation enumerator in the
/// hot path), applying the ignore rules and refusing what Lambda cannot unpack.
struct DirectoryWalker {
    /// Canonical (symlink-free) absolute path of the function directory.
    var root: String
    var rules: IgnoreRules
    /// Relative paths never packaged: the output zip and its temporary file when they lie inside the tree.
    var skip: Set<[UInt8]>

    func walk() throws(PackagingError) -> [SourceEntry] {
        var entries: [SourceEntry] = []
        try walk(directory: root, relative: [], into: &entries)
        return entries
    }

    private func walk(directory: String, relative: [UInt8], into entries: inout [SourceEntry]) throws(PackagingError) {
        guard let handle = opendir(directory) else {
            throw .unreadable(path: display(relative), reason: String(cString: strerror(errno)))
        }
        defer { closedir(handle) }
        let fd = dirfd(handle)
        var children: [(name: [UInt8], isDirectory: Bool, rel: [UInt8])] = []
        while let item = readdir(handle) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            if name == [46] || name == [46, 46] { continue }  // "." and ".."
            // `.git` (a directory, or the file a worktree/submodule leaves) is never packaged.
            if name == Array(".git".utf8) { continue }
            let rel = relative.isEmpty ? name : relative + [47] + name
            if skip.contains(rel) { continue }

            var info = stat()
            guard fstatat(fd, name.map { CChar(bitPattern: $0) } + [0], &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw .unreadable(path: display(rel), reason: String(cString: strerror(errno)))
            }
            let type = info.st_mode & S_IFMT
            let isDirectory = type == S_IFDIR
            if rules.matches(rel[...], isDirectory: isDirectory) { continue }
            guard String(validating: name, as: UTF8.self) != nil else { throw .nonUTF8Name(escaped(rel)) }
            let path = rawPath(directory, name)
            if isDirectory {
                children.append((name, true, rel))
                continue
            }
            let stamp = FileStamp(info)
            switch type {
            case S_IFREG:
                entries.append(SourceEntry(name: rel, path: rawPath(directory, name), kind: .file, stamp: stamp))
            case S_IFLNK:
                let target = try checkedLinkTarget(fd: fd, name: name, rel: rel, path: path)
                entries.append(SourceEntry(name: rel, path: rawPath(directory, name), kind: .symlink(target: target), stamp: stamp))
            default:
                throw .unsupportedFileType(path: display(rel), kind: kindName(type))
            }
        }
        for child in children {
            try walk(directory: rawPath(directory, child.name), relative: child.rel, into: &entries)
        }
    }

    /// A symlink is kept only if it stays inside the tree both lexically (so it still resolves once
    /// Lambda unpacks the zip under /var/task) and on disk (its target exists inside the directory).
    private func checkedLinkTarget(fd: Int32, name: [UInt8], rel: [UInt8], path: String) throws(PackagingError) -> [UInt8] {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlinkat(fd, name.map { CChar(bitPattern: $0) } + [0], &buffer, buffer.count - 1)
        guard length >= 0 else { throw .unreadable(path: display(rel), reason: String(cString: strerror(errno))) }
        let target = buffer[..<length].map { UInt8(bitPattern: $0) }
        let targetText = String(decoding: target, as: UTF8.self)
        if target.first == 47 { throw .symlinkAbsolute(path: display(rel), target: targetText) }

        // Lexical: resolve against the link's directory inside the tree; climbing above the root escapes.
        var stack = rel.split(separator: 47, omittingEmptySubsequences: true).dropLast().map(Array.init)
        for component in target.split(separator: 47, omittingEmptySubsequences: true) {
            if component.elementsEqual([46]) { continue }
            if component.elementsEqual([46, 46]) {
                if stack.isEmpty { throw .symlinkEscapes(path: display(rel), target: targetText) }
                stack.removeLast()
            } else {
                stack.append(Array(component))
            }
        }
        // On disk: the whole chain must resolve, and land inside the root.
        guard let resolved = realpath(path, nil) else {
            if errno == ENOENT || errno == ELOOP || errno == ENOTDIR {
                throw .symlinkDangling(path: display(rel), target: targetText)
            }
            throw .unreadable(path: display(rel), reason: String(cString: strerror(errno)))
        }
        defer { free(resolved) }
        let real = String(cString: resolved)
        guard real == root || real.hasPrefix(root == "/" ? "/" : root + "/") else {
            throw .symlinkEscapes(path: display(rel), target: targetText)
        }
        return target
    }

    private func rawPath(_ directory: String, _ name: [UInt8]) -> String {
        // Names are validated as UTF-8 before this is called, so the decoding is exact.
        directory + "/" + String(decoding: name, as: UTF8.self)
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

    private func kindName(_ type: mode_t) -> String {
        switch type {
        case S_IFIFO: return "named pipe"
        case S_IFSOCK: return "socket"
        case S_IFCHR: return "character device"
        case S_IFBLK: return "block device"
        default: return "special file"
        }
    }
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
            mtimeNanoseconds: Int64(mtime.tv_sec) * 1_000_000_000 + Int64(mtime.tv_nsec),
            ctimeNanoseconds: Int64(ctime.tv_sec) * 1_000_000_000 + Int64(ctime.tv_nsec),
            inode: UInt64(info.st_ino),
            device: UInt64(info.st_dev),
            rawMode: UInt32(info.st_mode))
    }
}
