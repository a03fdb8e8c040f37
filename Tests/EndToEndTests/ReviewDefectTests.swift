import Foundation
import Testing

/// The defects issue 14 found where one rule lived in several places, and the workflow's part of
/// issue 11 (a directory outside the repository, signals mid-deploy): each case failed before its fix.
@Suite(.serialized) struct ReviewDefectTests {
    /// D2: `package` built its own options and ignored the config's `exclude:`; `deploy` applied it.
    @Test func packageAppliesTheConfigsExcludeAsDeployDoes() async throws {
        let space = try await GitWorkspace(config: "exclude: [\"*.md\"]\n")
        try space.write("src/NOTES.md", "internal notes\n")
        try space.git(["add", "-A"])
        try space.git(["commit", "-q", "-m", "notes"])
        let packaged = try space.tool(["package", "src", "--output", space.root.path + "/out.zip", "--json"])
        #expect(packaged.status == 0, "\(packaged.output)")
        let planned = try space.tool(["deploy", "--alias", "dev", "--dry-run", "--json"])
        #expect(planned.status == 0, "\(planned.output)")
        let packageFiles = try packaged.json()["files"] as? Int
        #expect(packageFiles == 1)
        #expect(packageFiles == (try planned.json()["files"] as? Int))
        let listing = try run("unzip", ["-Z1", space.root.path + "/out.zip"], cwd: space.root.path, env: space.env)
        #expect(!listing.stdout.contains("NOTES.md"))
    }

    /// D5: `ci --override-protection` was accepted and ignored (rule 6 could never fire, because
    /// nobody filled the local branch): outside CI, main's prod deploy is refused without it and
    /// runs, recorded, with it.
    @Test func ciOverrideProtectionWorksOutsideCI() async throws {
        let space = try await GitWorkspace()
        let commit = try space.head()
        let refused = try space.tool(["ci", "--json"])
        #expect(refused.status == 0, "\(refused.output)")
        let skip = try refused.json()
        #expect(skip["action"] as? String == "skip")
        #expect((skip["reason"] as? String)?.contains("protected") == true, "\(skip)")
        #expect(try space.alias("prod") == nil)

        let forced = try space.tool(["ci", "--override-protection", "--json"])
        #expect(forced.status == 0, "\(forced.output)")
        #expect(try forced.json()["result"] as? String == "deployed")
        #expect(try space.alias("prod") != nil)
        let record = try #require(try space.noteRecords(commit).first)
        #expect(record["overrideProtection"] as? Bool == true)
        #expect(record["alias"] as? String == "prod")
    }

    /// D3 and issue 11: a CI build URL with credentials never reaches `plan --json` or a record.
    @Test func credentialsInTheBuildURLAreMaskedInPlanAndRecords() async throws {
        let space = try await GitWorkspace()
        let commit = try space.head()
        var travis = space.travis(commit: commit)
        travis["TRAVIS_BUILD_WEB_URL"] = "https://deployer:hunter2secret@travis.example.com/team/pr/builds/9"
        let plan = try space.tool(["plan", "--json"], extraEnv: travis)
        #expect(plan.status == 0, "\(plan.output)")
        #expect(!plan.output.contains("hunter2secret"))
        #expect(plan.stdout.contains("https://***@travis.example.com"))
        let deployed = try space.tool(["--json"], extraEnv: travis)
        #expect(deployed.status == 0 || deployed.status == 3, "\(deployed.output)")
        #expect(!deployed.output.contains("hunter2secret"))
        let notes = try space.git(["notes", "--ref=deploys", "show", commit])
        #expect(!notes.contains("hunter2secret"))
        #expect(notes.contains("https://***@travis.example.com"))
    }

    /// Issue 11: a function directory outside the repository was packaged and recorded as if HEAD
    /// held it. Refused (nothing in AWS) unless allowed, and then recorded as dirty.
    @Test func aDirectoryOutsideTheRepositoryIsRefusedUnlessAllowed() async throws {
        let space = try await GitWorkspace()
        let elsewhere = try TemporaryDirectory("elsewhere")
        try space.write("app.py", GitWorkspace.handler("outside"), in: elsewhere.path)
        let refused = try space.tool(["deploy", "--alias", "dev", "--dir", elsewhere.path])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("--allow-outside-repo"), "\(refused.output)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.output)")
        #expect(try space.versions().isEmpty)

        let allowed = try space.tool(["deploy", "--alias", "dev", "--dir", elsewhere.path, "--allow-outside-repo", "--json"])
        #expect(allowed.status == 0, "\(allowed.output)")
        let record = try #require(try space.noteRecords(try space.head()).first)
        #expect(record["dirty"] as? Bool == true)
    }

    /// Issue 11: SIGINT or SIGTERM while UpdateAlias is in flight left the alias moved and no
    /// record. Now the call finishes, the record says what AWS holds (verify finds no drift), the
    /// temporary package is gone, and the exit status is 130 or 143.
    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalDuringTheAliasMoveLeavesARecordThatMatchesAWS(_ signal: Int32) async throws {
        let space = try await GitWorkspace()
        // The alias move is held 10 s: the signal below must arrive while it is in flight, even on a
        // machine so busy that this test reads "published" seconds late (3 s was not enough there).
        let proxy = try FaultProxy(upstream: space.endpoint, rules: [.delay(10, method: "PUT", path: "/aliases/dev$", times: nil),
                                                                     .delay(10, method: "POST", path: "/aliases$", times: nil)])
        let cache = try TemporaryDirectory("cache")
        var env = space.env
        env["AWS_ENDPOINT_URL"] = proxy.endpoint
        env["LAMBDA_DEPLOY_CACHE_DIR"] = cache.path
        // Started with SIGINT and SIGTERM at their defaults and unblocked, as from a shell (the
        // test runner's children inherit them blocked, which would hide what a signal does).
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import os, signal, sys; s = {signal.SIGINT, signal.SIGTERM}; [signal.signal(n, signal.SIG_DFL) for n in s]; signal.pthread_sigmask(signal.SIG_UNBLOCK, s); os.execv(sys.argv[1], sys.argv[1:])",
            toolPath, "deploy", "--alias", "dev",
        ]
        process.currentDirectoryURL = URL(fileURLWithPath: space.work)
        process.environment = env
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait until the version is published (the alias move is next, and slow), then interrupt.
        var seen = ""
        let deadline = Date().addingTimeInterval(60)
        while !seen.contains("published"), Date() < deadline {
            guard let line = err.fileHandleForReading.availableDataLine(timeout: 60) else { break }
            seen += line + "\n"
        }
        #expect(seen.contains("published"), "\(seen)")
        try await Task.sleep(for: .milliseconds(500))
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 128 + signal)
        let alias = try space.alias("dev")
        let records = try space.noteRecords(try space.head())
        #expect(records.count == 1, "\(records)")
        if let alias {
            #expect(records.first?["result"] as? String == "deployed")
            #expect(records.first?["version"] as? String == alias.version)
        } else {
            #expect(records.first?["result"] as? String == "failed")
        }
        let verify = try space.tool(["verify"])
        #expect(verify.status == 0, "\(verify.output)")
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: cache.path + "/packages")) ?? []
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}
