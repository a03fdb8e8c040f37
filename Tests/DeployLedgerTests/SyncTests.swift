import Foundation
import Testing
@testable import DeployLedger

/// Sharing through a bare local remote, read back with the git CLI.
@Suite struct SyncTests {
    /// A remote and a working repository with `commits` commits, cloned as `clone` from it.
    struct Setup {
        let box: Sandbox
        let remote: String
        let seed: String

        init(commits: Int = 3) throws {
            box = try Sandbox()
            seed = try box.makeRepository("seed", commits: commits)
            remote = try box.makeBareRemote(from: seed)
        }

        func clone(_ name: String, depth: Int? = nil) throws -> String {
            let dir = box.path + "/" + name
            var args = ["clone", "-q"]
            if let depth { args += ["--depth", String(depth)] }
            try box.git(args + ["file://" + remote, dir], in: box.path)
            return dir
        }

        func sync(_ dir: String) throws -> NotesSync {
            try NotesSync(repository: try open(dir), git: box.gitPath, environment: box.environment, retryDelay: 0.05)
        }

        func remoteNote(_ revision: String) throws -> [String] {
            try box.git(["notes", "--ref=deploys", "show", revision], in: remote)
                .split(separator: "\n").map(String.init)
        }
    }

    @Test func concurrentNotesFromTwoClonesAreUnited() throws {
        let s = try Setup()
        let a = try s.clone("a")
        let b = try s.clone("b")
        let syncA = try s.sync(a)
        let syncB = try s.sync(b)

        // Both annotate HEAD and each a different commit, without seeing each other.
        try syncA.ledger.append(sampleRecord(alias: "dev", version: "1"), to: "HEAD", author: .lambdaDeploy)
        try syncA.ledger.append(sampleRecord(alias: "dev", version: "0"), to: "HEAD~2", author: .lambdaDeploy)
        try syncB.ledger.append(sampleRecord(alias: "prod", version: "1"), to: "HEAD", author: .lambdaDeploy)
        try syncB.ledger.append(sampleRecord(alias: "prod", version: "5"), to: "HEAD~1", author: .lambdaDeploy)

        #expect(try syncA.share().push == .pushed)
        #expect(try syncB.push() == .lostRace)  // B is behind: never forced
        let shared = try syncB.share()
        #expect(shared.push == .pushed)

        #expect(try s.remoteNote("HEAD").count == 2)
        #expect(try s.remoteNote("HEAD~1").count == 1)
        #expect(try s.remoteNote("HEAD~2").count == 1)
        let log = try s.box.git(["log", "--notes=deploys", "--format=%H %N"], in: s.remote)
        for version in ["\"version\":\"0\"", "\"version\":\"1\"", "\"version\":\"5\""] {
            #expect(log.contains(version))
        }
        // The merge commit has both notes commits as parents (so the push was a fast-forward).
        let parents = try s.box.git(["log", "-1", "--format=%P", "refs/notes/deploys"], in: s.remote)
        #expect(parents.split(separator: " ").count == 2)
        try s.box.git(["fsck", "--no-progress"], in: s.remote)

        // A fetches: it gets B's records and keeps its own.
        #expect(try syncA.fetchAndMerge() == .fastForward)
        #expect(try syncA.ledger.count() == 4)
    }

    @Test func mergeMatchesGitCatSortUniq() throws {
        let s = try Setup()
        let a = try s.clone("a")
        let syncA = try s.sync(a)
        try syncA.ledger.append(sampleRecord(alias: "dev", version: "2"), to: "HEAD", author: .lambdaDeploy)
        _ = try syncA.share()
        // Another writer (plain git) appends to the same note and pushes.
        let b = try s.clone("b")
        try s.box.git(["fetch", "-q", "origin", "refs/notes/deploys:refs/notes/deploys"], in: b)
        try s.box.git(["notes", "--ref=deploys", "append", "-m", sampleRecord(alias: "prod", version: "2").jsonLine(), "HEAD"], in: b)
        try s.box.git(["push", "-q", "origin", "refs/notes/deploys"], in: b)
        try syncA.ledger.append(sampleRecord(alias: "dev", version: "3"), to: "HEAD", author: .lambdaDeploy)

        // Reference: git's own cat_sort_uniq merge, in a copy of A.
        let reference = s.box.path + "/reference"
        try s.box.git(["clone", "-q", a, reference], in: s.box.path)
        try s.box.git(["fetch", "-q", a, "refs/notes/deploys:refs/notes/deploys"], in: reference)
        try s.box.git(["fetch", "-q", "file://" + s.remote, "refs/notes/deploys:refs/notes/theirs"], in: reference)
        try s.box.git(["notes", "--ref=deploys", "merge", "-q", "-s", "cat_sort_uniq", "refs/notes/theirs"], in: reference)
        let expected = try s.box.git(["notes", "--ref=deploys", "show", "HEAD"], in: reference)

        try syncA.fetch()
        guard case .merged(_, let combined) = try syncA.ledger.mergeNotes(from: syncA.privateRef) else {
            Issue.record("expected a merge commit")
            return
        }
        #expect(combined == 1)
        let ours = try s.box.git(["notes", "--ref=deploys", "show", "HEAD"], in: a)
        #expect(ours == expected)
        #expect(ours.split(separator: "\n").count == 4 - 1)  // dev 2 was on both sides once
    }

    @Test func fetchNeverOverwritesUnpushedLocalRecords() throws {
        let s = try Setup()
        let a = try s.clone("a")
        let b = try s.clone("b")
        let syncA = try s.sync(a)
        let syncB = try s.sync(b)
        try syncB.ledger.append(sampleRecord(alias: "prod"), to: "HEAD", author: .lambdaDeploy)
        _ = try syncB.share()
        try syncA.ledger.append(sampleRecord(alias: "dev"), to: "HEAD", author: .lambdaDeploy)  // not pushed

        #expect(try syncA.fetch() == .fetched)
        #expect(try syncA.ledger.records(on: "HEAD").records.map(\.alias) == ["dev"])  // live ref untouched
        #expect(try syncA.fetchAndMerge() != .nothingToMerge)
        #expect(Set(try syncA.ledger.records(on: "HEAD").records.map(\.alias)) == ["dev", "prod"])
    }

    @Test func remoteWithoutNotesIsFine() throws {
        let s = try Setup()
        let sync = try s.sync(try s.clone("a"))
        #expect(try sync.fetch() == .remoteHasNoNotes)
        #expect(try sync.push() == .nothingToPush)
        try sync.ledger.append(sampleRecord(), to: "HEAD", author: .lambdaDeploy)
        #expect(try sync.share() == ShareOutcome(attempts: 1, push: .pushed))
        #expect(try s.remoteNote("HEAD").count == 1)
        #expect(try sync.push() == .upToDate)
    }

    struct CloneDepth: Sendable, CustomStringConvertible {
        var depth: Int
        var description: String { "depth \(depth)" }
    }

    /// CI checkouts are shallow (GitHub Actions depth 1, Travis depth 50).
    @Test(arguments: [CloneDepth(depth: 1), CloneDepth(depth: 50)])
    func shallowClonesAppendAndShare(_ c: CloneDepth) throws {
        let s = try Setup(commits: 60)
        let first = try s.clone("first", depth: c.depth)
        let second = try s.clone("second", depth: c.depth)
        #expect(try open(first).isShallow)
        try s.sync(first).ledger.append(sampleRecord(alias: "dev"), to: "HEAD", author: .lambdaDeploy)
        try s.sync(first).share()
        try s.sync(second).ledger.append(sampleRecord(alias: "prod"), to: "HEAD", author: .lambdaDeploy)
        try s.sync(second).share()
        #expect(try s.remoteNote("HEAD").count == 2)
        #expect(try s.sync(first).fetchAndMerge() == .fastForward)
        #expect(try s.sync(first).ledger.records(on: "HEAD").records.count == 2)
    }

    @Test func sharesInDetachedHEADWithoutAnyIdentity() throws {
        let s = try Setup()
        let dir = try s.clone("ci")
        try s.box.git(["checkout", "-q", "--detach", "HEAD~1"], in: dir, identity: false)
        let sync = try s.sync(dir)  // HOME is empty and GIT_CONFIG_NOSYSTEM=1: git has no identity
        try sync.ledger.append(sampleRecord(), to: "HEAD", author: .lambdaDeploy)
        try sync.share()
        #expect(try s.remoteNote("HEAD~1").count == 1)
    }

    @Test func pushRaceKeepsEveryRecord() throws {
        let s = try Setup()
        let racers = 4
        let perRacer = 2
        let clones = try (0..<racers).map { try s.clone("racer\($0)") }
        let failures = FailureList()
        let group = DispatchGroup()
        for (index, dir) in clones.enumerated() {
            group.enter()
            let box = s.box
            let git = box.gitPath
            let environment = box.environment
            Thread {
                defer { group.leave() }
                do {
                    guard let repo = try GitRepository.discover(from: dir) else { throw LedgerError.noRepository(path: dir) }
                    let sync = try NotesSync(repository: repo, git: git, environment: environment, retryDelay: 0.05)
                    for n in 0..<perRacer {
                        let record = sampleRecord(alias: "racer\(index)", version: String(n))
                        try sync.ledger.append(record, to: n == 0 ? "HEAD" : "HEAD~1", author: .lambdaDeploy)
                        try sync.share(maxAttempts: 12)
                    }
                } catch {
                    failures.add("racer \(index): \(error)")
                }
            }.start()
        }
        group.wait()
        #expect(failures.items.isEmpty)
        let head = try s.remoteNote("HEAD")
        let parent = try s.remoteNote("HEAD~1")
        #expect(head.count == racers)
        #expect(parent.count == racers)
        try s.box.git(["fsck", "--no-progress"], in: s.remote)
    }

    struct PorcelainCase: Sendable, CustomStringConvertible {
        var name: String
        var status: Int32
        var stdout: String
        var stderr: String
        var expected: PushOutcome?
        var description: String { name }
    }

    @Test(arguments: [
        PorcelainCase(name: "pushed", status: 0, stdout: "To /r.git\n \trefs/notes/deploys:refs/notes/deploys\t1a..2b\nDone\n", stderr: "", expected: .pushed),
        PorcelainCase(name: "created", status: 0, stdout: "To /r.git\n*\trefs/notes/deploys:refs/notes/deploys\t[new reference]\nDone\n", stderr: "", expected: .pushed),
        PorcelainCase(name: "up to date", status: 0, stdout: "To /r.git\n=\trefs/notes/deploys:refs/notes/deploys\t[up to date]\nDone\n", stderr: "", expected: .upToDate),
        PorcelainCase(name: "non-fast-forward", status: 1, stdout: "To /r.git\n!\trefs/notes/deploys:refs/notes/deploys\t[rejected] (non-fast-forward)\nDone\n", stderr: "error: failed to push", expected: .lostRace),
        PorcelainCase(name: "fetch first", status: 1, stdout: "To /r.git\n!\trefs/notes/deploys:refs/notes/deploys\t[rejected] (fetch first)\nDone\n", stderr: "", expected: .lostRace),
        PorcelainCase(name: "lost lock race", status: 1, stdout: "To /r.git\n!\trefs/notes/deploys:refs/notes/deploys\t[remote rejected] (failed to update ref)\nDone\n", stderr: "", expected: .lostRace),
        PorcelainCase(name: "lost lock race, no porcelain line", status: 1, stdout: "", stderr: "error: cannot lock ref 'refs/notes/deploys': is at 1a but expected 2b\nerror: failed to push some refs\n", expected: .lostRace),
        PorcelainCase(name: "incorrect old value", status: 1, stdout: "To /r.git\n!\trefs/notes/deploys:refs/notes/deploys\t[remote rejected] (incorrect old value provided)\nDone\n", stderr: "", expected: .lostRace),
        PorcelainCase(name: "hook declined", status: 1, stdout: "To /r.git\n!\trefs/notes/deploys:refs/notes/deploys\t[remote rejected] (pre-receive hook declined)\nDone\n", stderr: "", expected: nil),
        PorcelainCase(name: "auth failure", status: 128, stdout: "", stderr: "remote: denied\nfatal: unable to access 'https://user:secret@example.com/r.git/': 403\n", expected: nil),
    ])
    func interpretsPushPorcelain(_ c: PorcelainCase) throws {
        let output = GitCommand.Output(status: c.status, stdout: c.stdout, stderr: c.stderr)
        if let expected = c.expected {
            #expect(try NotesSync.interpretPush(output, notesRef: "refs/notes/deploys", remote: "origin") == expected)
        } else {
            do {
                _ = try NotesSync.interpretPush(output, notesRef: "refs/notes/deploys", remote: "origin")
                Issue.record("expected a push failure")
            } catch let error as LedgerError {
                let message = error.errorDescription ?? ""
                #expect(message.contains("push"))
                #expect(!message.contains("secret"))
            }
        }
    }

    /// One retry loop: a remote whose ref stays locked loses every round; sharing gives up
    /// after exactly `maxAttempts` pushes (not rounds of rounds), naming the race.
    @Test func aRaceThatNeverEndsIsRetriedByOneBoundedLoop() throws {
        let s = try Setup()
        let dir = try s.clone("a")
        let log = s.box.path + "/pushes.log"
        try s.box.installExecutable("#!/bin/sh\necho push >> \(log)\nexit 0\n", at: s.remote + "/hooks/pre-receive")
        try FileManager.default.createDirectory(atPath: s.remote + "/refs/notes", withIntermediateDirectories: true)
        try "".write(toFile: s.remote + "/refs/notes/deploys.lock", atomically: true, encoding: .utf8)
        let sync = try s.sync(dir)
        try sync.ledger.append(sampleRecord(), to: "HEAD", author: .lambdaDeploy)
        let error = try #require(failure { try sync.share(maxAttempts: 3) } as? LedgerError)
        #expect(error == .pushKeptLosingRace(remote: "origin", notesRef: "refs/notes/deploys", attempts: 3))
        #expect(error.errorDescription?.contains("lambda-deploy notes push") == true)
        let pushes = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(pushes.count == 3)
        // The pause doubles (with jitter, times 0.5 to 1.5) up to its cap.
        var timing = sync
        timing.retryDelay = 0.1
        timing.maximumDelay = 1
        for _ in 0..<50 {
            #expect((0.05...0.15).contains(timing.delay(afterRound: 1)))
            #expect((0.2...0.6).contains(timing.delay(afterRound: 3)))
            #expect((0.5...1.5).contains(timing.delay(afterRound: 30)))
        }
    }

    @Test func unreachableRemoteKeepsTheRecordAndFailsInOneRound() throws {
        let s = try Setup()
        let dir = try s.clone("a")
        try s.box.git(["remote", "set-url", "origin", "file://" + s.box.path + "/gone.git"], in: dir)
        let sync = try s.sync(dir)
        try sync.ledger.append(sampleRecord(), to: "HEAD", author: .lambdaDeploy)
        let started = Date()
        #expect {
            try sync.share()
        } throws: { error in
            guard case .fetchFailed = error as? LedgerError else { return false }
            return true
        }
        // Not a race: no further rounds, no backoff.
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(try sync.ledger.records(on: "HEAD").records.count == 1)
    }
}

/// Collects failures from racing threads.
final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []

    func add(_ item: String) {
        lock.lock()
        list.append(item)
        lock.unlock()
    }

    var items: [String] {
        lock.lock()
        defer { lock.unlock() }
        return list
    }
}
