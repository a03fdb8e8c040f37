import Foundation
import Testing
@testable import Packaging

@Suite struct DeterminismTests {
    @Test func sameTreeElsewhereWithOtherMtimesUmaskAndThreadsGivesSameBytes() throws {
        try withTemporaryDirectory { tmp in
            let first = tmp + "/one/fn"
            _ = try buildMixedTree(first)
            let reference = try packageTree(first, to: tmp + "/a.zip")

            // A copy made by another process under umask 077: new mtimes, new inodes, another
            // absolute path, and permission bits 0600/0700 instead of 0644/0755.
            try FileManager.default.createDirectory(atPath: tmp + "/two/nested", withIntermediateDirectories: true)
            let second = tmp + "/two/nested/fn"
            #expect(try run(["/bin/sh", "-c", "umask 077 && sleep 0.01 && cp -R \"$0\" \"$1\"", first, second]).status == 0)
            var info = stat()
            #expect(stat(second + "/handler.py", &info) == 0 && info.st_mode & 0o777 == 0o600)
            #expect(utime(second + "/bootstrap", nil) == 0)

            let copy = try packageTree(second, to: tmp + "/b.zip")
            let oneThread = try packageTree(second, to: tmp + "/c.zip") { $0.threads = 1 }
            let manyThreads = try packageTree(first, to: tmp + "/d.zip") { $0.threads = 7 }
            for other in [copy, oneThread, manyThreads] {
                #expect(other.codeSha256 == reference.codeSha256)
                #expect(other.contentDigest == reference.contentDigest)
            }
            #expect(fileBytes(tmp + "/a.zip") == fileBytes(tmp + "/c.zip"))
        }
    }

    /// Pinned so an accidental format change (a header field, the order, a timestamp, the
    /// libdeflate level default) shows up here before it silently changes every deployed CodeSha256.
    /// If you change the format on purpose, update the value and say why in the commit.
    @Test func goldenCodeSha256ForASmallFixedTree() throws {
        try withTemporaryDirectory { tmp in
            let tree = TreeBuilder(root: tmp + "/fn")
            try tree.file("bootstrap", "#!/bin/sh\necho hello\n", mode: 0o755)
            try tree.file("lib/data.txt", String(repeating: "lambda-deploy golden tree\n", count: 50))
            try tree.file("lib/empty", "")
            try tree.file("ünïcode name.txt", "ü\n")
            try tree.symlink("lib/link", to: "data.txt")
            let result = try packageTree(tmp + "/fn", to: tmp + "/golden.zip")
            #expect(result.codeSha256 == "bKn6SzoGp55iwTg9Ee/EokZoNZoQFcHyFeVdGEAhMmo=")
            // The content digest changed on purpose with its encoding (version 2: length-prefixed
            // fields instead of lines a file name could forge, issue 11); the zip bytes did not.
            #expect(result.contentDigest == "52250c1d3c2f5c964e19457ca0aa3f227c74930f1c149f15e4b3126f528e0ed7")
            #expect(result.files == 5)
        }
    }

    @Test func cacheOnAndOffGiveIdenticalBytes() throws {
        try withTemporaryDirectory { tmp in
            let dir = tmp + "/fn"
            _ = try buildMixedTree(dir)
            // Files written just now are "racy" and not cached; age them so the cache is filled.
            try ageTree(dir)
            let cache = tmp + "/cache"
            let plain = try packageTree(dir, to: tmp + "/plain.zip")
            let cold = try packageTree(dir, to: tmp + "/cold.zip") { $0.cacheDirectory = cache }
            let cached = try FileManager.default.contentsOfDirectory(atPath: cache)
            #expect(cached.count == 2, "one slot per file of at least 4 KiB (random.bin, compressible.txt)")
            let warm = try packageTree(dir, to: tmp + "/warm.zip") { $0.cacheDirectory = cache }
            #expect(cold == PackageResult(plain, output: cold.output))
            #expect(warm == PackageResult(plain, output: warm.output))
            #expect(fileBytes(tmp + "/warm.zip") == fileBytes(tmp + "/plain.zip"))

            // A changed file must not come from the cache.
            try TreeBuilder(root: dir).file("handler.py", "def handler(e, c):\n    return 2\n")
            let changed = try packageTree(dir, to: tmp + "/changed.zip") { $0.cacheDirectory = cache }
            let fresh = try packageTree(dir, to: tmp + "/fresh.zip")
            #expect(changed.codeSha256 == fresh.codeSha256)
            #expect(changed.codeSha256 != plain.codeSha256)
        }
    }

    @Test func cacheInsideTheDirectoryIsNotPackaged() throws {
        try withTemporaryDirectory { tmp in
            let dir = tmp + "/fn"
            _ = try buildMixedTree(dir)
            try ageTree(dir)
            let plain = try packageTree(dir, to: tmp + "/plain.zip")
            _ = try packageTree(dir, to: tmp + "/a.zip") { $0.cacheDirectory = dir + "/.cache/entries" }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/.cache/entries").count == 2)
            let again = try packageTree(dir, to: tmp + "/b.zip") { $0.cacheDirectory = dir + "/.cache/entries" }
            #expect(again.files == plain.files)
            #expect(again.codeSha256 == plain.codeSha256)
        }
    }

    @Test func corruptCacheEntriesFallBackToCompressing() throws {
        try withTemporaryDirectory { tmp in
            let dir = tmp + "/fn"
            _ = try buildMixedTree(dir)
            try ageTree(dir)
            let cache = tmp + "/cache"
            let plain = try packageTree(dir, to: tmp + "/plain.zip")
            _ = try packageTree(dir, to: tmp + "/cold.zip") { $0.cacheDirectory = cache }
            var rng = SeededGenerator(state: 9)
            for (index, name) in try FileManager.default.contentsOfDirectory(atPath: cache).sorted().enumerated() {
                let path = cache + "/" + name
                var bytes = fileBytes(path)
                switch index % 4 {
                case 0: bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= 0x40  // flip a bit anywhere
                case 1: bytes = Array(bytes.prefix(bytes.count / 2))  // truncated
                case 2: bytes[bytes.count - 1] ^= 1  // payload damaged
                default: bytes += [1, 2, 3]  // trailing garbage
                }
                #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            }
            let damaged = try packageTree(dir, to: tmp + "/damaged.zip") { $0.cacheDirectory = cache }
            #expect(damaged.codeSha256 == plain.codeSha256)
        }
    }

    @Test func neverLargerThanInfoZip() throws {
        try withTemporaryDirectory { tmp in
            let dir = tmp + "/fn"
            _ = try buildMixedTree(dir)
            // Real source code (Python's own json and email packages), the bulk of a typical function.
            let stdlib = try run(["python3", "-c", "import json, os; print(os.path.dirname(os.path.dirname(json.__file__)))"])
                .output.trimmingCharacters(in: .whitespacesAndNewlines)
            for package in ["json", "email"] {
                #expect(try run(["cp", "-R", stdlib + "/" + package, dir + "/" + package]).status == 0)
            }
            let ours = try packageTree(dir, to: tmp + "/ours.zip")
            #expect(try run(["zip", "-q", "-r", "-X", "-y", tmp + "/info.zip", "."], in: dir).status == 0)
            let theirs = try #require(try FileManager.default.attributesOfItem(atPath: tmp + "/info.zip")[.size] as? Int)
            #expect(ours.bytes <= Int64(theirs), "ours \(ours.bytes) vs Info-ZIP \(theirs)")
        }
    }
}

/// Waits out the cache's two-second "racy" window: files changed within it are not cached, and
/// ctime (part of the key) cannot be set back, so the only way to age a fresh tree is to wait.
func ageTree(_ dir: String) throws {
    Thread.sleep(forTimeInterval: 2.1)
}

extension PackageResult {
    /// `other` with a different output path, for comparing results of runs that wrote elsewhere.
    init(_ other: PackageResult, output: String) {
        self = other
        self.output = output
    }
}
