import Foundation
import Testing
@testable import Packaging

struct BadInput: Sendable, CustomTestStringConvertible {
    var testDescription: String
    /// Builds the situation under `tmp`; returns the directory to package and the output path.
    var setUp: @Sendable (String) throws -> (directory: String, output: String)
    var expected: @Sendable (String) -> PackagingError
    var messageMentions: String
}

@Suite struct BadInputTests {
    static let cases: [BadInput] = [
        BadInput(
            testDescription: "missing directory",
            setUp: { tmp in (tmp + "/nope", tmp + "/out.zip") },
            expected: { tmp in .directoryNotFound(tmp + "/nope") }, messageMentions: "/nope"),
        BadInput(
            testDescription: "directory is a file",
            setUp: { tmp in try TreeBuilder(root: tmp).file("file.py", "x"); return (tmp + "/file.py", tmp + "/out.zip") },
            expected: { tmp in .notADirectory(tmp + "/file.py") }, messageMentions: "file.py"),
        BadInput(
            testDescription: "empty directory",
            setUp: { tmp in try TreeBuilder(root: tmp).directory("fn/empty"); return (tmp + "/fn", tmp + "/out.zip") },
            expected: { tmp in .nothingToPackage(tmp + "/fn") }, messageMentions: "/fn"),
        BadInput(
            testDescription: "everything ignored",
            setUp: { tmp in
                try TreeBuilder(root: tmp).file("fn/a.txt", "x")
                try TreeBuilder(root: tmp).file("fn/.lambdaignore", "*\n")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { tmp in .nothingToPackage(tmp + "/fn") }, messageMentions: ".lambdaignore"),
        BadInput(
            testDescription: "symlink escaping the directory",
            setUp: { tmp in
                try TreeBuilder(root: tmp).file("secret", "x")
                try TreeBuilder(root: tmp).symlink("fn/link", to: "../secret")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .symlinkEscapes(path: "link", target: "../secret") }, messageMentions: "link -> ../secret"),
        BadInput(
            testDescription: "symlink leaving and re-entering by the directory's name",
            setUp: { tmp in
                try TreeBuilder(root: tmp).file("fn/a", "x")
                try TreeBuilder(root: tmp).symlink("fn/link", to: "../fn/a")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .symlinkEscapes(path: "link", target: "../fn/a") }, messageMentions: "outside"),
        BadInput(
            testDescription: "absolute symlink",
            setUp: { tmp in
                try TreeBuilder(root: tmp).file("fn/a", "x")
                try TreeBuilder(root: tmp).symlink("fn/link", to: tmp + "/fn/a")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { tmp in .symlinkAbsolute(path: "link", target: tmp + "/fn/a") }, messageMentions: "relative"),
        BadInput(
            testDescription: "dangling symlink",
            setUp: { tmp in
                try TreeBuilder(root: tmp).file("fn/a", "x")
                try TreeBuilder(root: tmp).symlink("fn/sub/link", to: "missing")
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .symlinkDangling(path: "sub/link", target: "missing") }, messageMentions: "sub/link"),
        BadInput(
            testDescription: "name that is not UTF-8",
            setUp: { tmp in
                try TreeBuilder(root: tmp).file("fn/ok", "x")
                var path = Array((tmp + "/fn/bad").utf8CString.dropLast())
                path += [CChar(bitPattern: 0xFF), 0]
                close(open(path, O_CREAT | O_WRONLY, 0o644))
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .nonUTF8Name("bad\\xFF") }, messageMentions: "bad\\xFF"),
        BadInput(
            testDescription: "named pipe",
            setUp: { tmp in
                try TreeBuilder(root: tmp).file("fn/a", "x")
                mkfifo(tmp + "/fn/pipe", 0o644)
                return (tmp + "/fn", tmp + "/out.zip")
            },
            expected: { _ in .unsupportedFileType(path: "pipe", kind: "named pipe") }, messageMentions: "pipe"),
        BadInput(
            testDescription: "output directory missing",
            setUp: { tmp in try TreeBuilder(root: tmp).file("fn/a", "x"); return (tmp + "/fn", tmp + "/no/such/out.zip") },
            expected: { tmp in .outputNotWritable(path: tmp + "/no/such/out.zip", reason: "directory \(tmp)/no/such does not exist") },
            messageMentions: "--output"),
        BadInput(
            testDescription: "output is a directory",
            setUp: { tmp in try TreeBuilder(root: tmp).file("fn/a", "x"); try TreeBuilder(root: tmp).directory("out.zip"); return (tmp + "/fn", tmp + "/out.zip") },
            expected: { tmp in .outputNotWritable(path: tmp + "/out.zip", reason: "it is a directory") }, messageMentions: "out.zip"),
    ]

    @Test(arguments: cases)
    func refusedWithAOneLineMessageNamingThePath(_ c: BadInput) throws {
        try withTemporaryDirectory { tmp in
            let (directory, output) = try c.setUp(tmp)
            let error = #expect(throws: PackagingError.self) {
                try Packager.package(PackageOptions(directory: directory, output: output))
            }
            #expect(error == c.expected(tmp))
            let message = error?.errorDescription ?? ""
            #expect(message.contains(c.messageMentions), "\(message)")
            #expect(!message.contains("\n"))
            // No zip and no temporary file are left behind.
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: tmp).filter { $0.hasSuffix(".tmp") || $0 == "out.zip" }
            #expect(leftovers.filter { $0 != "out.zip" || c.testDescription != "output is a directory" }.isEmpty)
        }
    }

    @Test(.enabled(if: geteuid() != 0, "root reads every file"))
    func unreadableFile() throws {
        try withTemporaryDirectory { tmp in
            try TreeBuilder(root: tmp).file("fn/secret.key", "x", mode: 0o000)
            #expect(throws: PackagingError.unreadable(path: "secret.key", reason: "Permission denied")) {
                try Packager.package(PackageOptions(directory: tmp + "/fn", output: tmp + "/out.zip"))
            }
        }
    }

    @Test func tooLargeUnzippedIsRefusedWithBothSizes() throws {
        try withTemporaryDirectory { tmp in
            // Sparse files: the limit is about apparent size, and this costs no disk.
            try TreeBuilder(root: tmp).file("fn/a", "x")
            #expect(truncate(tmp + "/fn/a", 200_000_000) == 0)
            try TreeBuilder(root: tmp).file("fn/b", "x")
            #expect(truncate(tmp + "/fn/b", 62_144_001) == 0)
            let error = #expect(throws: PackagingError.self) {
                try Packager.package(PackageOptions(directory: tmp + "/fn", output: tmp + "/out.zip"))
            }
            #expect(error == .tooLarge(unzippedBytes: 262_144_001, limit: 262_144_000))
            #expect(error?.errorDescription?.contains("262144001") == true)
            #expect(!FileManager.default.fileExists(atPath: tmp + "/out.zip"))
        }
    }

    @Test func invalidLevel() {
        var options = PackageOptions(directory: "/tmp", output: "/tmp/x.zip")
        options.level = 13
        #expect(throws: PackagingError.invalidLevel(13)) { try Packager.package(options) }
    }

    @Test func largeZipWarnsThatS3IsNeeded() throws {
        try withTemporaryDirectory { tmp in
            var rng = SeededGenerator(state: 3)
            // 51 MB of incompressible data in 1 MB files.
            for i in 0..<51 { try TreeBuilder(root: tmp).file("fn/blob\(i).bin", rng.bytes(1 << 20)) }
            let result = try packageTree(tmp + "/fn", to: tmp + "/out.zip") { $0.level = 1 }
            #expect(result.bytes > Packager.directUploadLimit)
            #expect(result.warnings.count == 1)
            #expect(result.warnings.first?.contains("S3") == true)
        }
    }
}
