import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
import Digest
@testable import Packaging

/// A tree or destination built to break the packager (issue 11): each must end in a one-line
/// error naming what it is, never a crash, a hang, a wrong zip or a replaced file.
struct HostileCase: Sendable, CustomTestStringConvertible {
    var testDescription: String
    /// Builds the situation under `tmp`; returns the directory to package and the output path.
    var setUp: @Sendable (String) throws -> (directory: String, output: String)
    var expected: @Sendable (String) -> PackagingError
    /// Words the message must hold (the thing named, the fix).
    var mentions: [String]
    var onTmpfs = false
}

@Suite struct HostileInputTests {
    static let cases: [HostileCase] = [
        // MARK: walker
        HostileCase(
            testDescription: "path longer than Lambda's PATH_MAX",
            setUp: { tmp in
                // 20 levels of 250-byte names: 5,020 bytes, more than /var/task/ plus a path may hold.
                let deep = (0..<20).map { _ in String(repeating: "d", count: 250) }.joined(separator: "/")
                try makeDirectories(tmp + "/fn", relative: deep)
                try writeRelative(tmp + "/fn", deep + "/x.py", "x")
                try TreeBuilder(root: tmp + "/fn").file("handler.py", "x")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in
                let path = (0..<17).map { _ in String(repeating: "d", count: 250) }.joined(separator: "/")
                return .pathTooLong(path: path, bytes: path.utf8.count, limit: 4085)
            },
            mentions: ["4085", "PATH_MAX", "shorten"]),
        HostileCase(
            testDescription: "FIFO named .lambdaignore (reading it would block forever)",
            setUp: { tmp in
                try TreeBuilder(root: tmp + "/fn").file("handler.py", "x")
                guard mkfifo(tmp + "/fn/.lambdaignore", 0o644) == 0 else { throw TestFailure("mkfifo") }
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .ignoreFileNotRegular(path: ".lambdaignore", kind: "named pipe") },
            mentions: [".lambdaignore is a named pipe", "regular file"]),
        HostileCase(
            testDescription: "directory named .lambdaignore",
            setUp: { tmp in
                try TreeBuilder(root: tmp + "/fn").file("handler.py", "x")
                try TreeBuilder(root: tmp + "/fn").file(".lambdaignore/x", "x")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .ignoreFileNotRegular(path: ".lambdaignore", kind: "directory") },
            mentions: [".lambdaignore is a directory"]),
        HostileCase(
            testDescription: ".lambdaignore linked to /dev/zero (an endless read)",
            setUp: { tmp in
                try TreeBuilder(root: tmp + "/fn").file("handler.py", "x")
                try TreeBuilder(root: tmp + "/fn").symlink(".lambdaignore", to: "/dev/zero")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .ignoreFileNotRegular(path: ".lambdaignore", kind: "character device") },
            mentions: ["character device"]),
        HostileCase(
            testDescription: ".lambdaignore that is a symlink loop",
            setUp: { tmp in
                try TreeBuilder(root: tmp + "/fn").file("handler.py", "x")
                try TreeBuilder(root: tmp + "/fn").symlink(".lambdaignore", to: ".lambdaignore")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .symlinkLoop(path: ".lambdaignore", target: ".lambdaignore") },
            mentions: ["loop"]),
        HostileCase(
            testDescription: ".lambdaignore larger than any rules file",
            setUp: { tmp in
                try TreeBuilder(root: tmp + "/fn").file("handler.py", "x")
                try TreeBuilder(root: tmp + "/fn").file(".lambdaignore", String(repeating: "*.tmp\n", count: 50_000))
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .ignoreFileTooLarge(path: ".lambdaignore", limit: 262_144) },
            mentions: ["262144 bytes"]),
        HostileCase(
            testDescription: ".lambdaignore pattern longer than any path",
            setUp: { tmp in
                try TreeBuilder(root: tmp + "/fn").file("handler.py", "x")
                try TreeBuilder(root: tmp + "/fn").file(".lambdaignore", "*.pyc\n" + String(repeating: "*a", count: 3000) + "\n")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .ignorePatternTooLong(path: ".lambdaignore", line: 2, limit: 4096) },
            mentions: ["line 2 of .lambdaignore"]),
        HostileCase(
            testDescription: "symlink loop of two links",
            setUp: { tmp in
                let tree = TreeBuilder(root: tmp + "/fn")
                try tree.file("handler.py", "x")
                try tree.symlink("a", to: "b")
                try tree.symlink("b", to: "a")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .symlinkLoop(path: "a", target: "b") },
            mentions: ["symlink a -> b", "loop"]),
        HostileCase(
            testDescription: "symlink to itself through a directory",
            setUp: { tmp in
                let tree = TreeBuilder(root: tmp + "/fn")
                try tree.file("handler.py", "x")
                try tree.symlink("sub/self", to: "../sub/self")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .symlinkLoop(path: "sub/self", target: "../sub/self") },
            mentions: ["loop"]),
        HostileCase(
            testDescription: "socket in the tree",
            setUp: { tmp in
                try TreeBuilder(root: tmp + "/fn").file("handler.py", "x")
                try bindSocket(tmp + "/fn/agent.sock")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .unsupportedFileType(path: "agent.sock", kind: "socket") },
            mentions: ["agent.sock is a socket"]),
        HostileCase(
            testDescription: "character device in the tree",
            setUp: { tmp in
                try TreeBuilder(root: tmp + "/fn").file("handler.py", "x")
                // Device 1,3 (/dev/null): major in bits 8-19, minor in bits 0-7 of Linux's dev_t.
                guard mknod(tmp + "/fn/null", S_IFCHR | 0o644, dev_t(1 << 8 | 3)) == 0 else { throw TestFailure("mknod needs root") }
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .unsupportedFileType(path: "null", kind: "character device") },
            mentions: ["null is a character device"]),
        HostileCase(
            testDescription: "FIFO whose name holds a newline and an ESC (message stays one line)",
            setUp: { tmp in
                try TreeBuilder(root: tmp + "/fn").file("handler.py", "x")
                guard mkfifo(tmp + "/fn/a\nb\u{1B}[2J", 0o644) == 0 else { throw TestFailure("mkfifo") }
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .unsupportedFileType(path: "a\nb\u{1B}[2J", kind: "named pipe") },
            mentions: ["a\\nb\\e[2J is a named pipe"]),
        HostileCase(
            testDescription: "two sparse files of 2^63-1 bytes (their sum overflowed)",
            setUp: { tmp in
                let tree = TreeBuilder(root: tmp + "/fn")
                try tree.file("a.bin", "")
                try tree.file("b.bin", "")
                guard truncate(tmp + "/fn/a.bin", .max) == 0, truncate(tmp + "/fn/b.bin", .max) == 0 else {
                    throw TestFailure("this file system refuses 2^63-1-byte files")
                }
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .fileTooLarge(path: "a.bin", bytes: .max, limit: 262_144_000) },
            mentions: ["a.bin alone is 9223372036854775807 bytes", "250 MB"], onTmpfs: true),
        // MARK: symlinks that would dangle in Lambda
        HostileCase(
            testDescription: "symlink to a file .lambdaignore excludes",
            setUp: { tmp in
                let tree = TreeBuilder(root: tmp + "/fn")
                try tree.file("handler.py", "x")
                try tree.file("config.local.json", "{}")
                try tree.file(".lambdaignore", "*.local.json\n")
                try tree.symlink("config.json", to: "config.local.json")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .symlinkTargetExcluded(path: "config.json", target: "config.local.json", missing: "config.local.json") },
            mentions: ["symlink config.json -> config.local.json", "dangle in Lambda"]),
        HostileCase(
            testDescription: "symlink into an excluded directory",
            setUp: { tmp in
                let tree = TreeBuilder(root: tmp + "/fn")
                try tree.file("handler.py", "x")
                try tree.file("fixtures/data.json", "{}")
                try tree.symlink("lib/data.json", to: "../fixtures/data.json")
                try tree.file(".lambdaignore", "fixtures/\n")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .symlinkTargetExcluded(path: "lib/data.json", target: "../fixtures/data.json", missing: "fixtures") },
            mentions: ["needs fixtures"]),
        HostileCase(
            testDescription: "symlink into .git",
            setUp: { tmp in
                let tree = TreeBuilder(root: tmp + "/fn")
                try tree.file("handler.py", "x")
                try tree.file(".git/HEAD", "ref: refs/heads/main\n")
                try tree.symlink("HEAD", to: ".git/HEAD")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .symlinkTargetExcluded(path: "HEAD", target: ".git/HEAD", missing: ".git") },
            mentions: ["needs .git"]),
        HostileCase(
            testDescription: "symlink through an excluded link",
            setUp: { tmp in
                let tree = TreeBuilder(root: tmp + "/fn")
                try tree.file("handler.py", "x")
                try tree.file("real.txt", "x")
                try tree.symlink("hop.tmp", to: "real.txt")
                try tree.symlink("entry.txt", to: "hop.tmp")
                try tree.file(".lambdaignore", "*.tmp\n")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .symlinkTargetExcluded(path: "entry.txt", target: "hop.tmp", missing: "hop.tmp") },
            mentions: ["needs hop.tmp"]),
        HostileCase(
            testDescription: "symlink to a directory whose every file is excluded",
            setUp: { tmp in
                let tree = TreeBuilder(root: tmp + "/fn")
                try tree.file("handler.py", "x")
                try tree.file("cache/a.pyc", "x")
                try tree.symlink("current", to: "cache")
                try tree.file(".lambdaignore", "*.pyc\n")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .symlinkTargetExcluded(path: "current", target: "cache", missing: "cache") },
            mentions: ["needs cache"]),
        HostileCase(
            testDescription: "symlink that stays inside only by walking through an excluded link that climbs out",
            setUp: { tmp in
                let tree = TreeBuilder(root: tmp + "/fn")
                try tree.file("handler.py", "x")
                try tree.symlink("up", to: "..")
                try tree.symlink("link", to: "up/fn/handler.py")
                try tree.file(".lambdaignore", "/up\n")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .symlinkEscapes(path: "link", target: "up/fn/handler.py") },
            mentions: ["points outside"]),
        // MARK: destinations that must not be replaced
        HostileCase(
            testDescription: "--output inside the function directory",
            setUp: { tmp in
                try TreeBuilder(root: tmp + "/fn").file("handler.py", "x")
                return (tmp + "/fn", tmp + "/fn/dist/fn.zip")
            },
            expected: { tmp in .outputInsideDirectory(output: tmp + "/fn/dist/fn.zip", directory: resolved(tmp + "/fn")) },
            mentions: ["inside the function directory", "outside it"]),
        HostileCase(
            testDescription: "--output is a source file of the function",
            setUp: { tmp in
                try TreeBuilder(root: tmp + "/fn").file("src/handler.py", "def handler(e, c): pass\n")
                return (tmp + "/fn", tmp + "/fn/src/handler.py")
            },
            expected: { tmp in .outputInsideDirectory(output: tmp + "/fn/src/handler.py", directory: resolved(tmp + "/fn")) },
            mentions: ["src/handler.py"]),
        HostileCase(
            testDescription: "--output reaches into the function directory through a symlink",
            setUp: { tmp in
                try TreeBuilder(root: tmp + "/fn").file("handler.py", "x")
                try TreeBuilder(root: tmp).symlink("alias", to: "fn")
                return (tmp + "/fn", tmp + "/alias/out.zip")
            },
            expected: { tmp in .outputInsideDirectory(output: tmp + "/alias/out.zip", directory: resolved(tmp + "/fn")) },
            mentions: ["inside the function directory"]),
        HostileCase(
            testDescription: "--output is the project's config file",
            setUp: { tmp in
                try TreeBuilder(root: tmp).file("src/handler.py", "x")
                try TreeBuilder(root: tmp).file("lambda-deploy.yml", "function: pr\n")
                return (tmp + "/src", tmp + "/lambda-deploy.yml")
            },
            expected: { tmp in .outputNotOurs(path: tmp + "/lambda-deploy.yml", kind: "another file") },
            mentions: ["lambda-deploy.yml already exists", "not a zip lambda-deploy wrote"]),
        HostileCase(
            testDescription: "--output is a zip another tool wrote",
            setUp: { tmp in
                try TreeBuilder(root: tmp).file("fn/handler.py", "x")
                guard try run(["zip", "-q", "-X", tmp + "/other.zip", "handler.py"], in: tmp + "/fn").status == 0 else { throw TestFailure("zip") }
                return (tmp + "/fn", tmp + "/other.zip")
            },
            expected: { tmp in .outputNotOurs(path: tmp + "/other.zip", kind: "another file") },
            mentions: ["other.zip"]),
        HostileCase(
            testDescription: "--output is an empty file",
            setUp: { tmp in
                try TreeBuilder(root: tmp).file("fn/handler.py", "x")
                try TreeBuilder(root: tmp).file("empty.zip", "")
                return (tmp + "/fn", tmp + "/empty.zip")
            },
            expected: { tmp in .outputNotOurs(path: tmp + "/empty.zip", kind: "empty") },
            mentions: ["is empty"]),
        HostileCase(
            testDescription: "--output is a FIFO (opening it would block)",
            setUp: { tmp in
                try TreeBuilder(root: tmp).file("fn/handler.py", "x")
                guard mkfifo(tmp + "/pipe.zip", 0o644) == 0 else { throw TestFailure("mkfifo") }
                return (tmp + "/fn", tmp + "/pipe.zip")
            },
            expected: { tmp in .outputNotOurs(path: tmp + "/pipe.zip", kind: "a named pipe") },
            mentions: ["is a named pipe"]),
        HostileCase(
            testDescription: "--output is a symlink to a source file",
            setUp: { tmp in
                try TreeBuilder(root: tmp).file("fn/handler.py", "x")
                try TreeBuilder(root: tmp).file("notes.txt", "keep me")
                try TreeBuilder(root: tmp).symlink("out.zip", to: "notes.txt")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { tmp in .outputNotOurs(path: tmp + "/out.zip", kind: "a symbolic link") },
            mentions: ["is a symbolic link"]),
    ]

    @Test(arguments: cases)
    func refusedWithOneLineNamingIt(_ c: HostileCase) throws {
        try withTemporaryDirectory(onTmpfs: c.onTmpfs) { tmp in
            let (directory, output) = try c.setUp(tmp)
            let before = snapshot(tmp)
            let error = try withHangDetector(seconds: 60) { () -> PackagingError? in
                do throws(PackagingError) {
                    _ = try Packager.package(PackageOptions(directory: directory, output: output))
                    return nil
                } catch {
                    return error
                }
            }
            #expect(error == c.expected(tmp))
            let message = error?.errorDescription ?? ""
            for word in c.mentions { #expect(message.contains(word), "\(message)") }
            #expect(!message.contains("\n") && !message.contains("\u{1B}"), "\(message)")
            #expect(!message.contains("fix its permissions"), "\(message)")
            // Nothing written, nothing replaced, no temporary file left behind.
            #expect(snapshot(tmp) == before)
        }
    }

    /// A 1,100-deep tree under `ulimit -n 1024` (issue 11): the walk used to hold one descriptor
    /// per level and failed with "Too many open files ... fix its permissions".
    @Test func deepTreeUnderADescriptorLimitPackages() throws {
        try withTemporaryDirectory(onTmpfs: true) { tmp in
            let relative = Array(repeating: "d", count: 1_100).joined(separator: "/")
            try makeDirectories(tmp + "/fn", relative: relative)
            try writeRelative(tmp + "/fn", relative + "/leaf.txt", "deep")
            try TreeBuilder(root: tmp + "/fn").file("handler.py", "x")
            var old = rlimit()
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &old)
            var lowered = old
            lowered.rlim_cur = min(old.rlim_cur, 1024)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lowered)
            defer { setrlimit(Int32(RLIMIT_NOFILE.rawValue), &old) }
            let result = try withHangDetector(seconds: 120) { try packageTree(tmp + "/fn", to: tmp + "/out.zip") }
            #expect(result.files == 2)
            #expect(result.entries.map(\.name) == [relative + "/leaf.txt", "handler.py"])
        }
    }

    /// Times the walk cannot multiply into nanoseconds without overflow (ext4 keeps mtimes up to
    /// 2446); they used to trap.
    @Test(arguments: [99_999_999_999, -99_999_999_999, 9_300_000_000] as [Int])
    func farFutureAndPastModificationTimesPackage(seconds: Int) throws {
        try withTemporaryDirectory(onTmpfs: true) { tmp in
            try TreeBuilder(root: tmp + "/fn").file("handler.py", "x")
            try TreeBuilder(root: tmp + "/fn").file("big.txt", String(repeating: "lambda ", count: 2000))
            var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 999_999_999)]
            for name in ["handler.py", "big.txt"] {
                #expect(utimensat(AT_FDCWD, tmp + "/fn/" + name, &times, 0) == 0)
            }
            let plain = try packageTree(tmp + "/fn", to: tmp + "/a.zip")
            let cached = try packageTree(tmp + "/fn", to: tmp + "/b.zip") { $0.cacheDirectory = tmp + "/cache" }
            #expect(plain.codeSha256 == cached.codeSha256)
            #expect(plain.files == 2)
        }
    }

    @Test func existingZipThisToolWroteIsReplaced() throws {
        try withTemporaryDirectory { tmp in
            try TreeBuilder(root: tmp + "/fn").file("handler.py", "x = 1\n")
            let first = try packageTree(tmp + "/fn", to: tmp + "/out.zip")
            try TreeBuilder(root: tmp + "/fn").file("handler.py", "x = 2\n")
            let second = try packageTree(tmp + "/fn", to: tmp + "/out.zip")
            #expect(first.codeSha256 != second.codeSha256)
            #expect(try readWithPython(tmp + "/out.zip").first?.hex == hex(Array("x = 2\n".utf8)))
        }
    }

    /// A file rewritten in place (same size) while it is read must never give a zip holding a mix
    /// of both versions: either the package is refused, or it holds one whole version.
    /// The rewrite starts when inotify reports the packager opened the file, so it lands during
    /// the read; run several times, since each run is a race.
    @Test func fileRewrittenInPlaceWhileReadIsRefusedOrWhole() throws {
        let size = 32 << 20
        let versionA = [UInt8](repeating: UInt8(ascii: "a"), count: size)
        let versionB = [UInt8](repeating: UInt8(ascii: "b"), count: size)
        var refused = 0
        for _ in 0..<4 {
            try withTemporaryDirectory(onTmpfs: true) { tmp in
                let path = try TreeBuilder(root: tmp + "/fn").file("data.bin", versionA)
                let writer = try InPlaceRewriter(path: path, with: versionB)
                defer { writer.stop() }
                do {
                    _ = try packageTree(tmp + "/fn", to: tmp + "/out.zip") { $0.level = 0 }
                    let entry = try #require(try readWithPython(tmp + "/out.zip").first)
                    let bytes = entry.hex
                    #expect(bytes == hex(versionA) || bytes == hex(versionB), "a zip mixing two versions of data.bin")
                } catch let error as PackagingError {
                    #expect(error == .fileChanged("data.bin"))
                    refused += 1
                }
            }
        }
        #expect(refused > 0, "the rewrite never overlapped a read, so nothing was tested")
    }

    /// Issue 11: names holding newlines could forge the old line-based content digest, so two
    /// different trees gave the same digest (and the same version description).
    @Test func contentDigestTellsApartTreesWhoseLinesLookAlike() throws {
        try withTemporaryDirectory { tmp in
            let contentX = Array("x\n".utf8)
            let contentY = Array("y\n".utf8)
            let shaY = hex(SHA256.hash(contentY))
            let two = TreeBuilder(root: tmp + "/two")
            try two.file("a", contentX)
            try two.file("b", contentY)
            // One file whose name continues the first line and forges the second.
            let one = TreeBuilder(root: tmp + "/one")
            try one.file("a\n100644 \(shaY) b", contentX)
            let digestTwo = try packageTree(tmp + "/two", to: tmp + "/two.zip").contentDigest
            let digestOne = try packageTree(tmp + "/one", to: tmp + "/one.zip").contentDigest
            #expect(digestOne != digestTwo)
        }
    }

    /// The content digest as an independent implementation (Python) computes it from the zip,
    /// following the encoding documented on ``Packager/contentDigestFormat``.
    @Test func contentDigestFollowsTheDocumentedEncoding() throws {
        try withTemporaryDirectory { tmp in
            _ = try buildMixedTree(tmp + "/fn")
            try TreeBuilder(root: tmp + "/fn").file("new\nline.txt", "n")
            let result = try packageTree(tmp + "/fn", to: tmp + "/fn.zip")
            let script = """
                import hashlib, struct, sys, zipfile
                h = hashlib.sha256(sys.argv[2].encode() + b"\\0")
                with zipfile.ZipFile(sys.argv[1]) as z:
                    for i in z.infolist():
                        name = i.filename.encode()
                        h.update(struct.pack(">I", i.external_attr >> 16) + hashlib.sha256(z.read(i)).digest()
                                 + struct.pack(">Q", len(name)) + name)
                print(h.hexdigest())
                """
            let python = try run(["python3", "-c", script, tmp + "/fn.zip", Packager.contentDigestFormat]).output
            #expect(python.trimmingCharacters(in: .whitespacesAndNewlines) == result.contentDigest)
        }
    }

    @Test func functionDirectoryIsReportedResolvedForTheRepositoryCheck() throws {
        try withTemporaryDirectory { tmp in
            try TreeBuilder(root: tmp + "/repo/src").file("handler.py", "x")
            try TreeBuilder(root: tmp).symlink("elsewhere", to: "repo/src")
            let resolvedRepo = try Packager.resolvedDirectory(tmp + "/repo")
            let result = try packageTree(tmp + "/elsewhere", to: tmp + "/out.zip")
            #expect(result.directory == resolvedRepo + "/src")
            #expect(Packager.relativePath(of: result.directory, inside: resolvedRepo) == "src")
            #expect(Packager.relativePath(of: resolvedRepo, inside: resolvedRepo) == "")
            #expect(Packager.relativePath(of: resolvedRepo + "-old/src", inside: resolvedRepo) == nil)
            #expect(Packager.relativePath(of: tmp, inside: resolvedRepo) == nil)
        }
    }
}

// MARK: helpers

/// The path with symlinks and doubled slashes resolved, as the packager reports directories.
private func resolved(_ path: String) -> String {
    (try? Packager.resolvedDirectory(path)) ?? path
}

/// Every path under `root` with its size and content hash, to prove nothing changed.
private func snapshot(_ root: String) -> [String: String] {
    var out: [String: String] = [:]
    guard let walker = FileManager.default.enumerator(atPath: root) else { return out }
    while let name = walker.nextObject() as? String {
        let path = root + "/" + name
        var info = stat()
        guard lstat(path, &info) == 0 else { continue }
        if info.st_mode & S_IFMT == S_IFREG && info.st_size < 1 << 26 {
            out[name] = hex(SHA256.hash(fileBytes(path)))
        } else {
            out[name] = String(info.st_mode & S_IFMT, radix: 8)
        }
    }
    return out
}

/// Creates `relative` (any depth) under `root` one level at a time with `mkdirat`, so paths
/// longer than PATH_MAX can be built.
func makeDirectories(_ root: String, relative: String) throws {
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    var fd = open(root, O_RDONLY | O_DIRECTORY)
    guard fd >= 0 else { throw TestFailure("open \(root)") }
    for part in relative.split(separator: "/") {
        let name = String(part)
        if mkdirat(fd, name, 0o755) != 0 && errno != EEXIST { throw TestFailure("mkdirat \(name)") }
        let next = openat(fd, name, O_RDONLY | O_DIRECTORY)
        close(fd)
        guard next >= 0 else { throw TestFailure("openat \(name)") }
        fd = next
    }
    close(fd)
}

/// Writes a file at a path relative to `root` that may be longer than PATH_MAX.
func writeRelative(_ root: String, _ relative: String, _ text: String) throws {
    var parts = relative.split(separator: "/").map(String.init)
    let name = parts.removeLast()
    var fd = open(root, O_RDONLY | O_DIRECTORY)
    for part in parts {
        let next = openat(fd, part, O_RDONLY | O_DIRECTORY)
        close(fd)
        guard next >= 0 else { throw TestFailure("openat \(part)") }
        fd = next
    }
    let file = openat(fd, name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    close(fd)
    guard file >= 0 else { throw TestFailure("create \(name)") }
    _ = text.withCString { write(file, $0, strlen($0)) }
    close(file)
}

private func bindSocket(_ path: String) throws {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket") }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw TestFailure("socket path too long") }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (index, byte) in bytes.enumerated() { raw[index] = byte }
    }
    let status = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard status == 0 else { throw TestFailure("bind \(path)") }
}

/// Rewrites a file in place (same size, new bytes) as soon as another process or thread opens
/// it: inotify's IN_OPEN tells when the packager's read begins.
private final class InPlaceRewriter: @unchecked Sendable {
    private let notify: Int32
    private let path: String
    private let thread: Thread
    private let done = DispatchSemaphore(value: 0)

    init(path: String, with bytes: [UInt8]) throws {
        self.path = path
        notify = inotify_init1(Int32(IN_CLOEXEC))
        guard notify >= 0, inotify_add_watch(notify, path, UInt32(IN_OPEN)) >= 0 else { throw TestFailure("inotify") }
        let notify = self.notify
        let done = self.done
        thread = Thread {
            var event = [UInt8](repeating: 0, count: 4096)
            // Blocks until the file is opened (or the descriptor is closed by stop()).
            if read(notify, &event, event.count) > 0 {
                let fd = open(path, O_WRONLY)
                if fd >= 0 {
                    // Small slices, so the rewrite overlaps the reader rather than beating it.
                    var offset = 0
                    while offset < bytes.count {
                        let n = bytes[offset..<min(offset + (1 << 20), bytes.count)].withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
                        guard n > 0 else { break }
                        offset += n
                    }
                    close(fd)
                }
            }
            done.signal()
        }
        thread.start()
    }

    func stop() {
        // Wake the thread if the packager never opened the file, then let it finish.
        close(open(path, O_RDONLY))
        _ = done.wait(timeout: .now() + 30)
        close(notify)
    }
}
