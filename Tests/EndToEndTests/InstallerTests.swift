import Foundation
import Testing

/// `install.sh` as a CI job runs it: it downloads a release from a loopback HTTP server that
/// serves the GitHub release layout (`vVERSION/NAME.tar.gz`, `vVERSION/SHA256SUMS`), checks the
/// tarball, and installs, or refuses and installs nothing.
///
/// The release here is a stand-in made by the test (a tarball of the release's layout whose
/// `lambda-deploy` is a script printing its version), so these tests check the installer, fast
/// and without a release build. ci/test-release.sh installs the real dist/ the same way.
///
/// The installer runs under `dash` with a PATH holding only the tools it documents (curl or
/// wget, tar, gzip, sha256sum and POSIX utilities): a bashism or an undeclared tool fails here.
@Suite struct InstallerTests {
    enum Sums: Sendable { case right, wrong, noLineForTheTarball }
    enum Pin: Sendable { case none, right, wrong, notAChecksum }

    struct Case: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var argument: String
        var served: String = "1.2.3"
        var sums: Sums = .right
        var pin: Pin = .none
        var downloader = "curl"
        var userinfo = false
        /// Serve the GitHub layout (`releases/download/vX/...`, `releases/latest` -> `releases/tag/vX`).
        var github = false
        var status: Int32
        var says: String
        var installs: Bool
    }

    static let cases: [Case] = [
        Case(testDescription: "good checksum installs (curl)", argument: "1.2.3", status: 0,
             says: "installed lambda-deploy 1.2.3 to", installs: true),
        Case(testDescription: "good checksum installs (wget, v-prefixed)", argument: "v1.2.3", downloader: "wget", status: 0,
             says: "installed lambda-deploy 1.2.3 to", installs: true),
        Case(testDescription: "no version: the latest release, as GitHub's latest link names it (curl)", argument: "", github: true, status: 0,
             says: "installed lambda-deploy 1.2.3 to", installs: true),
        Case(testDescription: "no version: the latest release, as GitHub's latest link names it (wget)", argument: "", downloader: "wget", github: true, status: 0,
             says: "installed lambda-deploy 1.2.3 to", installs: true),
        Case(testDescription: "no version and a mirror that is not GitHub's layout asks for one", argument: "", status: 1,
             says: "give a version (sh install.sh 0.1.0)", installs: false),
        Case(testDescription: "pinned checksum that matches installs", argument: "1.2.3", pin: .right, status: 0,
             says: "installed lambda-deploy 1.2.3 to", installs: true),
        Case(testDescription: "bad checksum refuses", argument: "1.2.3", sums: .wrong, status: 1,
             says: "checksum mismatch for lambda-deploy-1.2.3-linux-x86_64.tar.gz", installs: false),
        Case(testDescription: "bad checksum refuses (wget)", argument: "1.2.3", sums: .wrong, downloader: "wget", status: 1,
             says: "checksum mismatch", installs: false),
        Case(testDescription: "pinned checksum that differs refuses", argument: "1.2.3", pin: .wrong, status: 1,
             says: "LAMBDA_DEPLOY_SHA256 is", installs: false),
        Case(testDescription: "SHA256SUMS without the tarball refuses", argument: "1.2.3", sums: .noLineForTheTarball, status: 1,
             says: "SHA256SUMS has no line for lambda-deploy-1.2.3-linux-x86_64.tar.gz", installs: false),
        Case(testDescription: "missing version says so", argument: "9.9.9", status: 1,
             says: "lambda-deploy 9.9.9 not found", installs: false),
        Case(testDescription: "missing version says so (wget)", argument: "9.9.9", downloader: "wget", status: 1,
             says: "lambda-deploy 9.9.9 not found", installs: false),
        Case(testDescription: "a password in the release URL is never printed", argument: "9.9.9", userinfo: true, status: 1,
             says: "http://***@127.0.0.1:", installs: false),
        Case(testDescription: "a version that is not one is refused", argument: "1.2.3/../../x", status: 1,
             says: "'1.2.3/../../x' is not a version", installs: false),
        Case(testDescription: "an option-like version is usage", argument: "-rf", status: 64,
             says: "usage: sh install.sh [VERSION]", installs: false),
        Case(testDescription: "a terminal escape in the version is refused, and never printed", argument: "1.2.3\u{1b}[2J", status: 1,
             says: "'1.2.3?[2J' is not a version", installs: false),
        Case(testDescription: "a pinned checksum that is not one is refused before any download", argument: "1.2.3", pin: .notAChecksum, status: 1,
             says: "LAMBDA_DEPLOY_SHA256 must be the tarball's SHA-256: 64 hex digits", installs: false),
    ]

    @Test(arguments: cases) func installer(_ c: Case) throws {
        let work = try TemporaryDirectory("installer")
        let root = work.path + "/served"
        let served = c.github ? root + "/releases/download" : root
        try makeRelease(version: c.served, sums: c.sums, into: served)
        let server = try FileServer(directory: root, latest: c.github ? "v" + c.served : nil)

        // A lambda-deploy already installed: a refused install must leave it as it was.
        let prefix = work.path + "/prefix"
        let old = "#!/bin/sh\necho 0.0.1\n"
        try work.write("prefix/bin/lambda-deploy", old, mode: 0o755)

        var env = baseEnvironment(home: work.path + "/home")
        env["PATH"] = try toolsDirectory(in: work, downloader: c.downloader)
        env["PREFIX"] = prefix
        env["LAMBDA_DEPLOY_RELEASE_URL"] = c.userinfo
            ? "http://ci-user:s3cret-token@127.0.0.1:\(server.port)/"
            : "http://127.0.0.1:\(server.port)" + (c.github ? "/releases/download" : "")
        switch c.pin {
        case .none: break
        case .right: env["LAMBDA_DEPLOY_SHA256"] = try sha256(served + "/v1.2.3/lambda-deploy-1.2.3-linux-x86_64.tar.gz").uppercased()
        case .wrong: env["LAMBDA_DEPLOY_SHA256"] = String(repeating: "0", count: 64)
        case .notAChecksum: env["LAMBDA_DEPLOY_SHA256"] = "sha256:abc\u{1b}]0;x"
        }

        let result = try run("/bin/dash", [packageRoot + "/install.sh"] + (c.argument.isEmpty ? [] : [c.argument]), cwd: work.path, env: env, timeout: 60)

        #expect(result.status == c.status, "\(result.output)")
        #expect(result.output.contains(c.says), "\(result.output)")
        #expect(!result.output.contains("s3cret"), "\(result.output)")
        #expect(!result.output.contains("\u{1b}"), "a terminal escape reached the output")
        let installed = try String(contentsOfFile: prefix + "/bin/lambda-deploy", encoding: .utf8)
        if c.installs {
            #expect(installed.contains("echo 1.2.3"))
            let mode = try FileManager.default.attributesOfItem(atPath: prefix + "/bin/lambda-deploy")[.posixPermissions] as? Int
            #expect(mode == 0o755)
        } else {
            #expect(installed == old, "a refused install changed the installed binary")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: prefix + "/bin").filter { $0 != "lambda-deploy" }
        #expect(leftovers.isEmpty, "left behind: \(leftovers)")
    }

    /// Without PREFIX, an unwritable /usr/local/bin falls back to ~/.local/bin. Root can write
    /// anywhere, so this runs only as another user.
    @Test(.enabled(if: getuid() != 0)) func fallsBackToHomeLocalWhenUsrLocalIsNotWritable() throws {
        let work = try TemporaryDirectory("installer")
        try makeRelease(version: "1.2.3", sums: .right, into: work.path + "/served")
        let server = try FileServer(directory: work.path + "/served")
        var env = baseEnvironment(home: work.path + "/home")
        env["PATH"] = try toolsDirectory(in: work, downloader: "curl")
        env["LAMBDA_DEPLOY_RELEASE_URL"] = "http://127.0.0.1:\(server.port)"
        let result = try run("/bin/dash", [packageRoot + "/install.sh", "1.2.3"], cwd: work.path, env: env, timeout: 60)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("installing to \(work.path)/home/.local/bin instead"))
        #expect(FileManager.default.isExecutableFile(atPath: work.path + "/home/.local/bin/lambda-deploy"))
    }

    /// Writes `vVERSION/lambda-deploy-VERSION-linux-x86_64.tar.gz` and `vVERSION/SHA256SUMS`.
    private func makeRelease(version: String, sums: Sums, into directory: String) throws {
        let name = "lambda-deploy-\(version)-linux-x86_64"
        let stage = directory + "/stage"
        let release = directory + "/v\(version)"
        try FileManager.default.createDirectory(atPath: stage + "/" + name + "/hooks", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: release, withIntermediateDirectories: true)
        try Data("#!/bin/sh\necho \(version)\n".utf8).write(to: URL(fileURLWithPath: stage + "/" + name + "/lambda-deploy"))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: stage + "/" + name + "/lambda-deploy")
        try Data("MIT\n".utf8).write(to: URL(fileURLWithPath: stage + "/" + name + "/LICENSE"))
        let tarball = "\(name).tar.gz"
        let tar = try run("/bin/tar", ["-czf", release + "/" + tarball, "-C", stage, name], cwd: directory, env: ProcessInfo.processInfo.environment)
        guard tar.status == 0 else { throw RunError(message: "tar: \(tar.output)") }
        let digest = try sha256(release + "/" + tarball)
        let lines: String
        switch sums {
        case .right: lines = "\(digest)  \(tarball)\n"
        case .wrong: lines = "\(String(digest.reversed()))  \(tarball)\n"
        case .noLineForTheTarball: lines = "\(digest)  lambda-deploy_\(version)_amd64.deb\n"
        }
        try Data(lines.utf8).write(to: URL(fileURLWithPath: release + "/SHA256SUMS"))
        try FileManager.default.removeItem(atPath: stage)
    }

    private func sha256(_ path: String) throws -> String {
        let result = try run("/usr/bin/sha256sum", [path], cwd: "/", env: [:])
        guard result.status == 0, let digest = result.stdout.split(separator: " ").first else { throw RunError(message: "sha256sum: \(result.output)") }
        return String(digest)
    }

    /// A directory of links to the tools install.sh documents, with one downloader.
    private func toolsDirectory(in work: TemporaryDirectory, downloader: String) throws -> String {
        let tools = work.path + "/tools"
        try FileManager.default.createDirectory(atPath: tools, withIntermediateDirectories: true)
        let names = [downloader, "sh", "dash", "tar", "gzip", "sha256sum", "awk", "sed", "head", "tail", "tr", "cut",
                     "uname", "mktemp", "rm", "mkdir", "cp", "mv", "chmod", "cat"]
        for name in names {
            guard let found = ["/usr/bin/", "/bin/", "/usr/local/bin/"].map({ $0 + name }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw RunError(message: "\(name) is not installed; the installer tests need it")
            }
            try FileManager.default.createSymbolicLink(atPath: tools + "/" + name, withDestinationPath: found)
        }
        return tools
    }
}

/// ci/support/serve_dir.py on a free loopback port, for one test; it exits with the test process
/// at the latest, and when this value goes away.
private final class FileServer: @unchecked Sendable {
    let port: Int
    private let process: Process

    init(directory: String, latest: String? = nil) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", packageRoot + "/ci/support/serve_dir.py", directory] + (latest.map { ["--latest", $0] } ?? [])
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = out.fileHandleForReading.availableDataLine(timeout: 30) ?? ""
        let words = line.split(separator: " ")
        guard words.count == 2, words[0] == "ready", let port = Int(words[1]) else {
            process.terminate()
            throw RunError(message: "serve_dir.py did not start: '\(line)'")
        }
        self.port = port
    }

    deinit { process.terminate() }
}
