import Foundation
import Testing
@testable import Packaging

/// The mixed tree most tests use: exec bits, links (to a file and a directory), unicode and spaces,
/// an empty file, incompressible and compressible data, deep nesting.
func buildMixedTree(_ root: String) throws -> [String: (mode: Int, bytes: [UInt8])] {
    let tree = TreeBuilder(root: root)
    var rng = SeededGenerator(state: 42)
    var expected: [String: (mode: Int, bytes: [UInt8])] = [:]
    func add(_ name: String, _ bytes: [UInt8], exec: Bool = false) throws {
        try tree.file(name, bytes, mode: exec ? 0o755 : 0o644)
        expected[name] = (exec ? 0o100755 : 0o100644, bytes)
    }
    try add("bootstrap", Array("#!/bin/sh\nexec ./handler\n".utf8), exec: true)
    try add("handler.py", Array("def handler(event, context):\n    return {'ok': True}\n".utf8))
    try add("dir with space/ünïcödé 名前.txt", Array("héllo wörld\n".utf8))
    try add("empty.txt", [])
    try add("random.bin", rng.bytes(200_000))
    try add("compressible.txt", Array(String(repeating: "the same line again and again\n", count: 4000).utf8))
    try add("deep/a/b/c/d/e/f/g/h/i/j/k/deep.txt", Array("deep\n".utf8))
    try add("node_modules/tool/cli.js", Array("#!/usr/bin/env node\nconsole.log(1)\n".utf8), exec: true)
    try tree.symlink("node_modules/.bin/tool", to: "../tool/cli.js")
    expected["node_modules/.bin/tool"] = (0o120777, Array("../tool/cli.js".utf8))
    try tree.symlink("shortcut", to: "deep/a")
    expected["shortcut"] = (0o120777, Array("deep/a".utf8))
    try tree.directory("empty-dir")
    return expected
}

@Suite struct RoundTripTests {
    @Test func pythonZipfileReadsBackNamesModesAndBytes() throws {
        try withTemporaryDirectory { tmp in
            let dir = tmp + "/fn"
            let expected = try buildMixedTree(dir)
            let result = try packageTree(dir, to: tmp + "/fn.zip")
            let entries = try readWithPython(tmp + "/fn.zip")

            #expect(entries.map(\.name) == expected.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
            for entry in entries {
                let want = try #require(expected[entry.name])
                #expect(entry.mode == want.mode, "\(entry.name)")
                #expect(entry.hex == hex(want.bytes), "\(entry.name)")
                #expect(entry.utf8Flag == entry.name.utf8.contains { $0 >= 0x80 }, "\(entry.name)")
            }
            let byName = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0) })
            #expect(byName["random.bin"]?.method == 0, "incompressible data is stored")
            #expect(byName["compressible.txt"]?.method == 8, "text is deflated")
            #expect(byName["node_modules/.bin/tool"]?.method == 0, "link targets are stored")
            #expect(result.files == expected.count)
            #expect(result.unzippedBytes == Int64(expected.values.reduce(0) { $0 + $1.bytes.count }))
            #expect(result.bytes == Int64(fileBytes(tmp + "/fn.zip").count))
            #expect(result.warnings.isEmpty)
        }
    }

    @Test func infoZipTestsListsAndExtractsIt() throws {
        try withTemporaryDirectory { tmp in
            let dir = tmp + "/fn"
            let expected = try buildMixedTree(dir)
            _ = try packageTree(dir, to: tmp + "/fn.zip")

            #expect(try run(["unzip", "-tq", tmp + "/fn.zip"]).status == 0)
            let listing = try run(["zipinfo", tmp + "/fn.zip"]).output
            let lines = listing.split(separator: "\n")
            func line(_ name: String) -> Substring? { lines.first { $0.hasSuffix(" " + name) } }
            #expect(line("bootstrap")?.hasPrefix("-rwxr-xr-x  2.0 unx") == true)
            #expect(line("handler.py")?.hasPrefix("-rw-r--r--  2.0 unx") == true)
            #expect(line("node_modules/.bin/tool")?.hasPrefix("lrwxrwxrwx  2.0 unx") == true)
            #expect(line("empty-dir") == nil, "directories get no entries")

            let out = tmp + "/out"
            #expect(try run(["unzip", "-q", tmp + "/fn.zip", "-d", out]).status == 0)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: out + "/node_modules/.bin/tool") == "../tool/cli.js")
            #expect(FileManager.default.isExecutableFile(atPath: out + "/bootstrap"))
            #expect(fileBytes(out + "/dir with space/ünïcödé 名前.txt") == expected["dir with space/ünïcödé 名前.txt"]?.bytes)
        }
    }

    @Test func moreThan65535EntriesUseZip64Records() throws {
        try withTemporaryDirectory(onTmpfs: true) { tmp in
            let dir = tmp + "/fn"
            let count = 65_600
            for d in 0..<100 {
                let sub = dir + "/d\(d)"
                try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
                for f in stride(from: d, to: count, by: 100) {
                    let fd = open(sub + "/f\(f)", O_WRONLY | O_CREAT, 0o644)
                    #expect(fd >= 0)
                    let text = "\(f)"
                    _ = text.withCString { write(fd, $0, strlen($0)) }
                    close(fd)
                }
            }
            let result = try packageTree(dir, to: tmp + "/big.zip")
            #expect(result.files == count)

            let zip = fileBytes(tmp + "/big.zip")
            let zip64End: [UInt8] = [0x50, 0x4b, 0x06, 0x06]
            #expect(zip.count > 100)
            #expect(Array(zip[(zip.count - 22 - 20 - 56)..<(zip.count - 22 - 20 - 52)]) == zip64End)

            #expect(try run(["unzip", "-tq", tmp + "/big.zip"]).status == 0)
            let script = """
                import sys, zipfile
                z = zipfile.ZipFile(sys.argv[1])
                names = z.namelist()
                assert len(names) == \(count), len(names)
                assert z.read("d7/f65507") == b"65507"
                assert z.testzip() is None
                print("ok")
                """
            #expect(try run(["python3", "-c", script, tmp + "/big.zip"]).output == "ok\n")
        }
    }

    /// Property: random trees (seeded, so a failure reproduces) always read back exactly.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func randomTreesReadBackExactly(seed: UInt64) throws {
        try withTemporaryDirectory { tmp in
            var rng = SeededGenerator(state: seed)
            let dir = tmp + "/fn"
            let tree = TreeBuilder(root: dir)
            var expected: [String: (Int, [UInt8])] = [:]
            let alphabet = Array("abcXYZ019 _-.é名ü")
            for _ in 0..<Int.random(in: 1...60, using: &rng) {
                let depth = Int.random(in: 0...4, using: &rng)
                var parts: [String] = []
                for _ in 0...depth {
                    let length = Int.random(in: 1...12, using: &rng)
                    var part = String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
                    if part == "." || part == ".." || part.hasPrefix(".git") { part = "x" + part }
                    parts.append(part)
                }
                let name = parts.joined(separator: "/")
                if expected.keys.contains(where: { $0.hasPrefix(name + "/") || name.hasPrefix($0 + "/") }) || expected[name] != nil { continue }
                let size = [0, 1, 100, 5000, 70_000][Int.random(in: 0..<5, using: &rng)]
                let bytes: [UInt8] = Bool.random(using: &rng)
                    ? rng.bytes(size)
                    : (0..<size).map { UInt8(ascii: "a") &+ UInt8($0 % 7) }
                let exec = Bool.random(using: &rng)
                try tree.file(name, bytes, mode: exec ? 0o755 : 0o644)
                expected[name] = (exec ? 0o100755 : 0o100644, bytes)
            }
            _ = try packageTree(dir, to: tmp + "/r.zip") { $0.level = Int.random(in: 0...12, using: &rng) }
            let entries = try readWithPython(tmp + "/r.zip")
            #expect(entries.count == expected.count)
            for entry in entries {
                #expect(entry.mode == expected[entry.name]?.0, "\(entry.name)")
                #expect(entry.hex == expected[entry.name].map { hex($0.1) }, "\(entry.name)")
            }
        }
    }
}
