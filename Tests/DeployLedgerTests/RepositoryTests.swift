import Foundation
import Testing
@testable import DeployLedger

@Suite struct RepositoryTests {
    @Test func discoverOutsideARepositoryReturnsNil() throws {
        let box = try Sandbox()
        #expect(try GitRepository.discover(from: box.path) == nil)
    }

    @Test func discoverFromASubdirectoryFindsTheRoot() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        try box.write("x\n", to: "functions/orders/handler.py", in: dir)
        let repo = try open(dir + "/functions/orders")
        #expect(repo.workdir == dir)
        #expect(repo.gitDir == dir + "/.git")
        #expect(repo.currentBranch() == "main")
    }

    @Test func resolvesHEADInDetachedHEAD() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository(commits: 3)
        let first = try box.git(["rev-parse", "HEAD~2"], in: dir).trimmingCharacters(in: .whitespacesAndNewlines)
        try box.git(["checkout", "-q", "--detach", first], in: dir)
        let repo = try open(dir)
        #expect(try repo.resolveCommit("HEAD") == first)
        #expect(try repo.headCommit() == first)
        #expect(repo.currentBranch() == nil)
    }

    @Test func peelsAnAnnotatedTagToItsCommit() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository(commits: 2)
        try box.git(["tag", "-a", "v1.0", "-m", "release", "HEAD~1"], in: dir)
        try box.git(["checkout", "-q", "v1.0"], in: dir)
        let tagObject = try box.git(["rev-parse", "v1.0"], in: dir).trimmingCharacters(in: .whitespacesAndNewlines)
        let commit = try box.git(["rev-parse", "v1.0^{commit}"], in: dir).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(tagObject != commit)
        let repo = try open(dir)
        #expect(try repo.resolveCommit("v1.0") == commit)
        #expect(try repo.resolveCommit(tagObject) == commit)
        #expect(try repo.resolveCommit("HEAD") == commit)
    }

    @Test func unbornBranchHasNoHeadCommit() throws {
        let box = try Sandbox()
        let dir = box.path + "/empty"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try box.git(["init", "-q", "-b", "trunk"], in: dir)
        let repo = try open(dir)
        #expect(try repo.headCommit() == nil)
        #expect(repo.currentBranch() == "trunk")
        #expect(throws: LedgerError.commitNotFound(revision: "HEAD")) { try repo.resolveCommit("HEAD") }
    }

    @Test func unknownRevisionIsCommitNotFound() throws {
        let box = try Sandbox()
        let repo = try open(try box.makeRepository())
        let missing = String(repeating: "1", count: 40)
        #expect(throws: LedgerError.commitNotFound(revision: missing)) { try repo.resolveCommit(missing) }
        #expect(!repo.contains(commit: missing))
        #expect(repo.contains(commit: "HEAD"))
    }

    @Test func dirtyOnlyCountsChangesUnderTheFunctionDirectory() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        try box.write("print(1)\n", to: "fn/handler.py", in: dir)
        try box.write("*.log\n", to: ".gitignore", in: dir)
        try box.git(["add", "."], in: dir)
        try box.git(["commit", "-q", "-m", "fn"], in: dir)
        let repo = try open(dir)
        #expect(try !repo.isDirty(under: "fn"))

        try box.write("ignored\n", to: "fn/debug.log", in: dir)
        #expect(try !repo.isDirty(under: "fn"))  // ignored files do not count

        try box.write("elsewhere\n", to: "other/x.txt", in: dir)
        #expect(try !repo.isDirty(under: "fn/"))
        #expect(try repo.isDirty(under: "."))

        try box.write("new\n", to: "fn/sub/new.py", in: dir)  // untracked, not ignored
        #expect(try repo.isDirty(under: "./fn"))
        try FileManager.default.removeItem(atPath: dir + "/fn/sub")

        try box.write("print(2)\n", to: "fn/handler.py", in: dir)  // modified
        #expect(try repo.isDirty(under: "fn"))
        #expect(try !repo.isDirty(under: "f"))  // a prefix of the name is another directory
    }

    @Test func ancestryFollowsTheGraph() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository(commits: 3)
        try box.git(["checkout", "-q", "-b", "feature", "HEAD~1"], in: dir)
        try box.write("f\n", to: "feature.txt", in: dir)
        try box.git(["add", "."], in: dir)
        try box.git(["commit", "-q", "-m", "feature"], in: dir)
        let repo = try open(dir)
        #expect(try repo.isAncestor("main~2", of: "main"))
        #expect(try repo.isAncestor("main", of: "main"))
        #expect(try !repo.isAncestor("main", of: "main~1"))
        #expect(try !repo.isAncestor("feature", of: "main"))
        #expect(try repo.isAncestor("main~1", of: "feature"))
    }

    @Test func readsConfigValues() throws {
        let box = try Sandbox()
        let dir = try box.makeRepository()
        try box.git(["config", "notes.ref", "refs/notes/audit"], in: dir)
        let repo = try open(dir)
        #expect(repo.configString("notes.ref") == "refs/notes/audit")
        #expect(repo.configString("lambda-deploy.nothing") == nil)
    }
}
