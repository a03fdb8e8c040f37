import Foundation
import Testing
@testable import DeployLedger

/// Values from outside aimed at the ledger: git options in remotes and refs, identities that
/// would corrupt a commit, notes refs that are not notes commits, notes that try to forge what
/// `history` prints. Each must end in a one-line error or a safe result, never a command run, a
/// corrupt object or a crash.
@Suite struct HostileLedgerTests {
    // MARK: Option injection into git

    struct HostileRemote: Sendable, CustomStringConvertible {
        var remote: String
        var description: String { remote }
    }

    static let hostileRemotes: [HostileRemote] = [
        HostileRemote(remote: "--upload-pack=TRIPWIRE"),
        HostileRemote(remote: "--receive-pack=TRIPWIRE"),
        HostileRemote(remote: "-uTRIPWIRE"),
        HostileRemote(remote: "ext::sh -c TRIPWIRE"),
        HostileRemote(remote: "origin --upload-pack=TRIPWIRE"),
        HostileRemote(remote: "ssh://-oProxyCommand=TRIPWIRE/x"),
    ]

    /// `notes fetch --remote=...` and a config `notes.remote: ...` both become the remote of a
    /// `NotesSync`: a value git would read as an option (or a transport that runs commands) is
    /// refused before git runs, so the command is never executed.
    @Test(arguments: hostileRemotes)
    func aRemoteThatIsAnOptionRunsNothing(_ hostile: HostileRemote) throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        let (command, marker) = try box.tripwire()
        let remote = hostile.remote.replacingOccurrences(of: "TRIPWIRE", with: command)
        let error = failure {
            _ = try NotesSync(repository: try open(dir), remote: remote, git: box.gitPath, environment: box.environment)
        }
        let ledgerError = try #require(error as? LedgerError)
        guard case .invalidRemote = ledgerError else {
            Issue.record("expected invalidRemote, got \(ledgerError)")
            return
        }
        let message = try #require(ledgerError.errorDescription)
        #expect(!message.contains("\n"))
        #expect(message.contains("notes.remote"))
        #expect(!FileManager.default.fileExists(atPath: marker))
        // The other git commands that take a remote refuse it the same way.
        let repo = try open(dir)
        #expect(repo.remoteHasRef("refs/notes/deploys", remote: remote, environment: box.environment) == nil)
        #expect(failure { _ = try repo.branchTip("main", remote: remote, environment: box.environment) } is LedgerError)
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    /// A branch or ref that is an option is refused too.
    @Test func aBranchOrRefThatIsAnOptionRunsNothing() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        let repo = try open(dir)
        let (command, marker) = try box.tripwire()
        #expect(failure { _ = try repo.branchTip("--upload-pack=\(command)", remote: "origin", environment: box.environment) } is LedgerError)
        #expect(repo.remoteHasRef("--upload-pack=\(command)", remote: "origin", environment: box.environment) == nil)
        // A short name is expanded under refs/notes/ as git does: it can no longer be an option.
        #expect(Ledger(repository: repo, notesRef: "--output=\(marker)").notesRef == "refs/notes/--output=\(marker)")
        for ref in ["refs/notes/a..b", "refs/notes/x y", "refs/notes/x.lock", "refs/notes/", "refs/notes/a\nb", "refs/notes/@{1}"] {
            let error = failure { _ = try NotesSync(repository: repo, notesRef: ref, git: box.gitPath, environment: box.environment) }
            guard case .invalidRef? = error as? LedgerError else {
                Issue.record("\(ref): expected invalidRef, got \(String(describing: error))")
                continue
            }
            let ledger = Ledger(repository: repo, notesRef: ref)
            #expect(failure { try ledger.append(sampleRecord(), to: "HEAD", author: .lambdaDeploy) } is LedgerError, "\(ref)")
            #expect(failure { _ = try ledger.history(HistoryQuery(), format: .text) } is LedgerError, "\(ref)")
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    /// Even a valid remote reaches git only after `--end-of-options`: a stand-in `git` records
    /// its arguments.
    @Test func valuesReachGitOnlyAfterEndOfOptions() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        let bin = box.path + "/fake-bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let log = box.path + "/argv.log"
        try box.installExecutable("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done >> \(log)\necho '--' >> \(log)\nexit 1\n", at: bin + "/git")
        var environment = box.environment
        environment["PATH"] = bin
        let sync = try NotesSync(repository: try open(dir), remote: "origin", git: bin + "/git", environment: environment)
        _ = failure { try sync.fetch() }
        try sync.ledger.append(sampleRecord(), to: "HEAD", author: .lambdaDeploy)
        _ = failure { _ = try sync.push() }
        _ = try open(dir).remoteHasRef("refs/notes/deploys", remote: "origin", environment: environment)
        let calls = try String(contentsOfFile: log, encoding: .utf8).components(separatedBy: "--\n").filter { !$0.isEmpty }
        #expect(calls.count == 3)
        for call in calls {
            let argv = call.split(separator: "\n").map(String.init)
            let end = try #require(argv.firstIndex(of: "--end-of-options"), "no --end-of-options in \(argv)")
            let origin = try #require(argv.firstIndex(of: "origin"))
            #expect(origin > end, "\(argv)")
        }
    }

    /// Credentials in a remote URL never show in errors or in the private ref's name.
    @Test func aRemoteURLWithCredentialsIsMaskedEverywhere() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        let remote = "https://user:s3cr3t-token@127.0.0.1:9/nothing.git"
        let sync = try NotesSync(repository: try open(dir), remote: remote, git: box.gitPath, environment: box.environment)
        #expect(!sync.privateRef.contains("s3cr3t"))
        #expect(GitNames_refIsValid(sync.privateRef))
        let error = try #require(failure { try sync.fetch() } as? LedgerError)
        let message = try #require(error.errorDescription)
        #expect(!message.contains("s3cr3t"))
        #expect(message.contains("***@"))
    }

    // MARK: Identities

    struct Identity: Sendable, CustomStringConvertible {
        var name: String
        var email: String
        var expected: Signature
        var description: String { name.debugDescription + " " + email.debugDescription }
    }

    static let identities: [Identity] = [
        Identity(name: "Jane\nDoe", email: "jane@example.com", expected: Signature(name: "JaneDoe", email: "jane@example.com")),
        Identity(name: "octocat\n", email: "octocat@users.noreply.github.com", expected: Signature(name: "octocat", email: "octocat@users.noreply.github.com")),
        Identity(name: "Jane <jane@evil> Doe", email: "j@x", expected: Signature(name: "Jane jane@evil Doe", email: "j@x")),
        Identity(name: "  \"Jane Doe\".  ", email: " <jane@example.com>. ", expected: Signature(name: "Jane Doe", email: "jane@example.com")),
        Identity(name: "<>.,;:", email: "x@y", expected: Signature(name: "lambda-deploy", email: "x@y")),
        Identity(name: "evil\u{1B}]0;pwned\u{07}name", email: "a\nb@c", expected: Signature(name: "evil]0;pwnedname", email: "ab@c")),
        Identity(name: "Zoë O'Brien", email: "", expected: Signature(name: "Zoë O'Brien", email: "lambda-deploy@localhost")),
        Identity(name: "", email: "\n", expected: .lambdaDeploy),
        Identity(name: "a\u{0}b", email: "c\r@d", expected: Signature(name: "ab", email: "c@d")),
    ]

    /// A newline or angle brackets in `user.name`, `GITHUB_ACTOR` or Azure's
    /// `BUILD_REQUESTEDFOR` become a signature `git fsck` accepts, and later reads work.
    @Test(arguments: identities)
    func hostileIdentitiesWriteCommitsGitAccepts(_ identity: Identity) throws {
        let author = Signature(name: identity.name, email: identity.email)
        #expect(author.sanitized == identity.expected)
        let box = try Sandbox()
        let dir = try box.makeRepository()
        let ledger = Ledger(repository: try open(dir))
        try ledger.append(sampleRecord(), to: "HEAD", author: author)
        try ledger.append(sampleRecord(alias: "prod"), to: "HEAD", author: author)
        try box.git(["fsck", "--strict", "--no-progress", "--no-dangling"], in: dir)
        let written = try box.git(["log", "-1", "--format=%an%n%ae", "refs/notes/deploys"], in: dir, identity: false)
        #expect(written == identity.expected.name + "\n" + identity.expected.email + "\n")
        #expect(try ledger.entries().entries.count == 2)
    }

    /// For names git accepts in its own environment, the sanitized name is the one git writes.
    @Test(arguments: ["  Jane Doe  ", "Jane. ", "'quoted'", "\"Doe, Jane\"", "a<b>c", ".,;:x", "Zoë", "x\ny"])
    func sanitizingAgreesWithGit(_ name: String) throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        var environment = box.environment
        environment["GIT_AUTHOR_NAME"] = name
        environment["GIT_AUTHOR_EMAIL"] = "a@b"
        environment["GIT_COMMITTER_NAME"] = "c"
        environment["GIT_COMMITTER_EMAIL"] = "c@d"
        let command = GitCommand(executable: box.gitPath, directory: dir, environment: environment)
        let committed = try command.run(["commit", "-q", "--allow-empty", "-m", "m"])
        #expect(committed.status == 0, "\(committed.stderr)")
        let gitName = try command.run(["log", "-1", "--format=%an"]).stdout.dropLast()
        #expect(Signature(name: name, email: "a@b").sanitized.name == String(gitName))
    }

    // MARK: Notes refs that are not notes commits

    enum Operation: String, Sendable, CaseIterable, CustomStringConvertible {
        case historyText, historyJSON, show, append, merge, queries
        var description: String { rawValue }
    }

    struct ImpostorCase: Sendable, CustomStringConvertible {
        var impostor: Sandbox.Impostor
        var operation: Operation
        var description: String { "\(impostor) / \(operation)" }
    }

    static let impostorCases: [ImpostorCase] = Sandbox.Impostor.allCases.flatMap { impostor in
        Operation.allCases.map { ImpostorCase(impostor: impostor, operation: $0) }
    }

    /// Runs `operation` against a ledger whose `ref` is broken; returns the error.
    static func run(_ operation: Operation, _ ledger: Ledger, other: String = "refs/notes/other") -> (any Error)? {
        failure {
            switch operation {
            case .historyText: _ = try ledger.history(HistoryQuery(), format: .text, cache: false)
            case .historyJSON: _ = try ledger.history(HistoryQuery(), format: .json)
            case .show: _ = try ledger.records(on: "HEAD")
            case .append: try ledger.append(sampleRecord(), to: "HEAD", author: .lambdaDeploy)
            case .merge: _ = try ledger.mergeNotes(from: other)
            case .queries: _ = try ledger.newestPerAlias(function: "orders", region: "eu-west-1")
            }
        }
    }

    /// libgit2 1.5 crashes in about half the runs on such refs: each operation, run several
    /// times, fails with one line naming the ref and the repair, and changes nothing.
    @Test(arguments: impostorCases)
    func aNotesRefThatIsNotACommitFailsCleanly(_ c: ImpostorCase) throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        let ledger = Ledger(repository: try open(dir))
        // For merge, the live ref is good and the other side is the impostor.
        let broken = c.operation == .merge ? "refs/notes/other" : "refs/notes/deploys"
        if c.operation == .merge { try ledger.append(sampleRecord(), to: "HEAD", author: .lambdaDeploy) }
        let before = c.operation == .merge ? try box.git(["rev-parse", "refs/notes/deploys"], in: dir) : ""
        let impostor = try box.pointRef(broken, at: c.impostor, in: dir)
        for _ in 0..<4 {
            let error = try #require(Self.run(c.operation, ledger) as? LedgerError)
            let message = try #require(error.errorDescription)
            #expect(message.contains(broken))
            #expect(message.contains("git update-ref -d \(broken)"))
            #expect(!message.contains("\n"))
        }
        let after = try String(contentsOfFile: dir + "/.git/" + broken, encoding: .utf8)
        #expect(after == impostor + "\n", "the broken ref must be left for the user to inspect")
        if c.operation == .merge { #expect(try box.git(["rev-parse", "refs/notes/deploys"], in: dir) == before) }
    }

    struct ForeignEntry: Sendable, CustomStringConvertible {
        var name: String
        /// An `ls-tree` line; `BLOB`, `TREE`, `HEAD` are replaced by object ids.
        var line: String
        var description: String { name }
    }

    static let foreignEntries: [ForeignEntry] = [
        ForeignEntry(name: "a README file", line: "100644 blob BLOB\tREADME"),
        ForeignEntry(name: "a directory named like a note", line: "040000 tree TREE\tHEAD"),
        ForeignEntry(name: "a submodule link", line: "160000 commit HEAD\tab"),
        ForeignEntry(name: "a short file in a fan-out place", line: "100644 blob BLOB\tab"),
        ForeignEntry(name: "a three-digit directory", line: "040000 tree TREE\tabc"),
    ]

    /// A notes tree with entries that are not notes: libgit2's iterator hands them out as
    /// notes of the wrong type; the ledger refuses them with the path and the repair.
    @Test(arguments: foreignEntries)
    func aNotesTreeWithForeignEntriesFailsCleanly(_ entry: ForeignEntry) throws {
        let box = try Sandbox()
        let dir = try box.makeRepository(commits: 2)
        let ledger = Ledger(repository: try open(dir))
        try ledger.append(sampleRecord(), to: "HEAD~1", author: .lambdaDeploy)
        try box.write("x\n", to: "blob.txt", in: box.path)
        let blob = try box.git(["hash-object", "-w", box.path + "/blob.txt"], in: dir).trimmingCharacters(in: .whitespacesAndNewlines)
        let tree = try box.git(["write-tree"], in: dir).trimmingCharacters(in: .whitespacesAndNewlines)
        let head = try box.git(["rev-parse", "HEAD"], in: dir).trimmingCharacters(in: .whitespacesAndNewlines)
        let line = entry.line.replacingOccurrences(of: "BLOB", with: blob).replacingOccurrences(of: "TREE", with: tree)
            .replacingOccurrences(of: "\tHEAD", with: "\t" + head).replacingOccurrences(of: "commit HEAD", with: "commit " + head)
        try box.addToNotesTree(line, in: dir)
        for operation in [Operation.historyText, .historyJSON, .show, .append, .queries] {
            let error = try #require(Self.run(operation, ledger) as? LedgerError, "\(operation)")
            guard case .notesTreeHasForeignEntry = error else {
                Issue.record("\(operation): expected notesTreeHasForeignEntry, got \(error)")
                continue
            }
            #expect(error.errorDescription?.contains("refs/notes/deploys") == true)
        }
        // Merging such a tree in from elsewhere fails the same way, naming that ref.
        let other = try box.makeRepository("other")
        let otherLedger = Ledger(repository: try open(other))
        let commit = try box.git(["rev-parse", "refs/notes/deploys"], in: dir).trimmingCharacters(in: .whitespacesAndNewlines)
        try box.git(["fetch", "-q", dir, "refs/notes/deploys:refs/notes/theirs"], in: other)
        let error = try #require(failure { _ = try otherLedger.mergeNotes(from: "refs/notes/theirs") } as? LedgerError)
        #expect(error.errorDescription?.contains("refs/notes/theirs") == true)
        #expect(try box.git(["rev-parse", "refs/notes/theirs"], in: other).hasPrefix(commit))
    }

    /// A remote whose notes ref is a blob: `notes fetch` says it is the remote's problem and
    /// leaves the local records alone.
    @Test func aRemoteNotesRefThatIsABlobIsTheRemotesProblem() throws {
        let box = try Sandbox()
        let seed = try box.makeRepository("seed")
        let remote = try box.makeBareRemote(from: seed)
        let clone = box.path + "/clone"
        try box.git(["clone", "-q", "file://" + remote, clone], in: box.path)
        let sync = try NotesSync(repository: try open(clone), git: box.gitPath, environment: box.environment, retryDelay: 0.01)
        try sync.ledger.append(sampleRecord(), to: "HEAD", author: .lambdaDeploy)
        let local = try box.git(["rev-parse", "refs/notes/deploys"], in: clone)
        try box.pointRef("refs/notes/deploys", at: .blob, in: remote)
        for action in ["fetch", "share"] {
            let error = try #require(failure {
                if action == "fetch" { _ = try sync.fetchAndMerge() } else { try sync.share(maxAttempts: 2) }
            } as? LedgerError, "\(action)")
            guard case .remoteNotesUnusable = error else {
                Issue.record("\(action): expected remoteNotesUnusable, got \(error)")
                continue
            }
            #expect(error.errorDescription?.contains("origin's refs/notes/deploys") == true)
            #expect(error.errorDescription?.contains("blob") == true)
        }
        #expect(try box.git(["rev-parse", "refs/notes/deploys"], in: clone) == local)
    }

    // MARK: Forged records and display

    /// Every string field can hold a newline, CR, ESC or NUL: the record still is one line of
    /// its note, and reads back the same.
    @Test func controlCharactersInEveryFieldStayOnOneLine() throws {
        let hostile = "a\nb\rc\u{1B}[2Jd\u{0}e\u{7F}f\u{2028}g\"h\\i"
        var record = sampleRecord()
        for field in RecordSchema.table {
            if case let .optionalString(path) = field.access { record[keyPath: path] = hostile + field.name }
        }
        record.branch = hostile
        let line = record.jsonLine()
        #expect(!line.utf8.contains(0x0A) && !line.utf8.contains(0x0D) && !line.utf8.contains(0x00) && !line.utf8.contains(0x1B))
        let box = try Sandbox()
        let dir = try box.makeRepository()
        let ledger = Ledger(repository: try open(dir))
        try ledger.append(record, to: "HEAD", author: .lambdaDeploy)
        let note = try box.git(["notes", "--ref=deploys", "show", "HEAD"], in: dir)
        #expect(Array(note.utf8).filter { $0 == 0x0A }.count == 1)
        #expect(try ledger.records(on: "HEAD").records == [record])
        #expect(try ledger.entries().entries.map(\.record) == [record])
    }

    /// A note crafted to forge `history`: a newline in a branch name must not print a second
    /// record line, and escape sequences (clear screen, window title, bidi override) must not
    /// reach the terminal raw.
    @Test func aCraftedNoteCannotForgeHistoryLines() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository(commits: 2)
        let ledger = Ledger(repository: try open(dir))
        var forged = sampleRecord(alias: "dev", version: "3")
        forged.branch = "main\n2099-01-01T00:00:00Z  pr:prod  v999  deadbeefdead  main  ci  deployed"
        forged.actor = "mallory\u{1B}]0;owned\u{07}\u{1B}[2J\u{202E}gnp.exe"
        try ledger.append(forged, to: "HEAD~1", author: .lambdaDeploy)
        // A hand-written line with raw escapes in JSON (\u001b) and a CR.
        let raw = #"{"alias":"dev","error":"\u001b[31mred\r\u001b[2K","function":"orders","region":"eu-west-1","result":"failed","schema":1,"time":"2024-05-02T00:00:00Z","tool":"x","trigger":"ci"}"#
        try box.addRawNote(Array((raw + "\n").utf8), on: "HEAD", in: dir)

        let text = try ledger.history(HistoryQuery(), format: .text, cache: false).bytes
        #expect(text.filter { $0 == 0x0A }.count == 2, "one line per record")
        #expect(!text.contains(0x1B) && !text.contains(0x07) && !text.contains(0x0D))
        let shown = String(decoding: text, as: UTF8.self)
        #expect(!shown.contains("\u{202E}"))
        #expect(shown.contains(#"main\n2099-01-01T00:00:00Z  pr:prod  v999"#))
        #expect(shown.contains(#"by mallory\e]0;owned\u{7}\e[2J\u{202E}gnp.exe"#))
        #expect(shown.contains(#"error: \e[31mred\r\e[2K"#))
        for line in shown.split(separator: "\n") { #expect(!line.hasPrefix("2099")) }
        // show prints the same line for a record.
        let records = try ledger.records(on: "HEAD~1").records
        #expect(records.first?.historyLine(commit: "0123456789abcdef0123456789abcdef01234567").contains("\n") == false)
        // JSON escapes by its own rules and stays one array.
        let json = try ledger.history(HistoryQuery(), format: .json, cache: false).bytes
        #expect(!json.contains(0x0A) && !json.contains(0x1B))
        #expect((try JSONSerialization.jsonObject(with: Data(json)) as? [Any])?.count == 2)
    }

    /// A URL with `user:password@` in any field is masked in text, JSON and `show`.
    @Test func credentialsInRecordedURLsAreNeverPrinted() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        let ledger = Ledger(repository: try open(dir))
        var record = sampleRecord()
        record.buildUrl = "https://ci-user:hunter2@ci.example.com/build/7"
        record.error = "push to https://x-access-token:ghs_SECRET@github.com/o/r.git failed"
        record.branch = "https://a:b-pass@host/x"
        try ledger.append(record, to: "HEAD", author: .lambdaDeploy)
        // Also a hand-written line that escapes its slashes (\/), which a byte search misses.
        try box.git(["notes", "--ref=deploys", "append", "-m",
                     #"{"alias":"prod","buildUrl":"https:\/\/u:p4ss@ci\/1","function":"orders","region":"r","result":"deployed","time":"2024-05-01T00:00:00Z","trigger":"ci"}"#, "HEAD"], in: dir)
        for secret in ["hunter2", "ghs_SECRET", "b-pass", "p4ss"] {
            for format in [HistoryFormat.text, .json] {
                let output = String(decoding: try ledger.history(HistoryQuery(), format: format, cache: false).bytes, as: UTF8.self)
                #expect(!output.contains(secret), "\(format) shows \(secret)")
                #expect(output.contains("***@"))
            }
            let shown = try ledger.records(on: "HEAD").records
            #expect(!shown.contains { $0.jsonLine().contains(secret) })
        }
    }

    /// Lines that are not records, however hostile, are reported (escaped, one line each) and
    /// never stop the others from being read.
    @Test func hostileLinesAreReportedNotFatal() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        let good = sampleRecord().jsonLine()
        let huge = "{\"alias\":\"" + String(repeating: "x", count: RecordParser.maximumLineLength) + "\"}"
        let deep = String(repeating: "[", count: 100_000)
        let nested = #"{"alias":"dev","x":"# + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "}"
        let escape = "\u{1B}]0;title\u{07}not json"
        let duplicate = #"{"alias":"dev","alias":"prod","function":"f","result":"deployed","time":"2024-01-01T00:00:00Z","trigger":"ci"}"#
        let badUTF8: [UInt8] = Array(#"{"alias":""#.utf8) + [0xC3, 0x28] + Array(#"","function":"f","result":"deployed","time":"t","trigger":"ci"}"#.utf8)
        var note = Array((good + "\n" + huge + "\n" + deep + "\n" + nested + "\n" + escape + "\n" + duplicate + "\n").utf8)
        note += badUTF8 + [0x0A] + Array("{\"alias\":\"a\u{0}\"}\n".utf8) + Array((good + "\n").utf8)
        try box.addRawNote(note, on: "HEAD", in: dir)
        let ledger = Ledger(repository: try open(dir))
        let started = Date()
        let output = try ledger.history(HistoryQuery(), format: .text, cache: false)
        #expect(Date().timeIntervalSince(started) < 20, "bounded parsing")
        #expect(output.bytes.filter { $0 == 0x0A }.count == 2)
        #expect(output.problems.count == 7)
        for problem in output.problems {
            #expect(!problem.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "\(problem)")
            #expect(problem.count < 400)
        }
        #expect(output.problems.contains { $0.contains("appears twice") })
        #expect(output.problems.contains { $0.contains("longer than") })
    }

    /// A note holding a NUL byte cannot be rewritten by libgit2 without losing what follows:
    /// appending to it is refused with one line, and the note is left as it was.
    @Test func appendingToANoteWithANulByteIsRefused() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        let note = Array((sampleRecord().jsonLine() + "\n").utf8) + [0x00] + Array((sampleRecord(alias: "prod").jsonLine() + "\n").utf8)
        try box.addRawNote(note, on: "HEAD", in: dir)
        let before = try box.git(["rev-parse", "refs/notes/deploys"], in: dir)
        let ledger = Ledger(repository: try open(dir))
        let error = try #require(failure { try ledger.append(sampleRecord(alias: "staging"), to: "HEAD", author: .lambdaDeploy) } as? LedgerError)
        #expect(error.errorDescription?.contains("NUL") == true)
        #expect(try box.git(["rev-parse", "refs/notes/deploys"], in: dir) == before)
        // Reading keeps going: the first record is read, the line with the NUL is a problem.
        let records = try ledger.records(on: "HEAD")
        #expect(records.records.count == 1)
        #expect(records.problems.count == 1)
    }

    /// Existing note bytes that are not UTF-8 are kept byte for byte when a record is appended.
    @Test func appendingKeepsForeignBytesExactly() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        let latin1: [UInt8] = Array("deployed by Jos".utf8) + [0xE9, 0x0A]
        try box.addRawNote(latin1, on: "HEAD", in: dir)
        let ledger = Ledger(repository: try open(dir))
        try ledger.append(sampleRecord(), to: "HEAD", author: .lambdaDeploy)
        let note = try box.gitBytes(["notes", "--ref=deploys", "show", "HEAD"], in: dir)
        #expect(note == latin1 + Array((sampleRecord().jsonLine() + "\n").utf8))
    }
}

/// Whether `name` passes git's own `check-ref-format`.
private func GitNames_refIsValid(_ name: String) -> Bool {
    let box = try? Sandbox()
    guard let box else { return false }
    let command = GitCommand(executable: box.gitPath, directory: box.path, environment: box.environment)
    return (try? command.run(["check-ref-format", name]).status) == 0
}
