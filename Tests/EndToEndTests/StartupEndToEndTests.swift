import Foundation
import Testing

/// The binary starts libgit2 on a background thread while it parses its arguments. A command
/// that fails at once must still exit cleanly: exiting while that thread was inside
/// `git_libgit2_init` (which initialises OpenSSL through libssh2) crashed with SIGSEGV about once
/// in 10 to 300 runs before the entry point learned to wait for it.
///
/// A race, so the test is probabilistic: against the release binary without the wait it failed
/// in about one run of three (400 quick exits per run).
@Suite struct StartupEndToEndTests {
    /// Commands that end within a few milliseconds of starting, with the status they must end with.
    /// The first is the fastest way out (so the likeliest to overlap the set-up) and runs most.
    static let quickExits: [(arguments: [String], status: Int32)] = [
        (["package", "no-such-directory"], 1),  // fails before any libgit2 call
        (["package", "no-such-directory"], 1),
        (["package", "no-such-directory"], 1),
        (["plan"], 0),  // local: the decision without AWS
        (["history", "--limit", "0"], 64),  // refused by validation
    ]

    @Test func quickExitsNeverCrash() throws {
        let work = try TemporaryDirectory("startup")
        let env = baseEnvironment(home: work.path)
        let rounds = 100
        let statuses = LockedStatuses()
        // Four at a time: load makes the exit and the background set-up overlap more often.
        DispatchQueue.concurrentPerform(iterations: 4) { lane in
            for round in 0..<rounds {
                let (arguments, expected) = Self.quickExits[(round + lane) % Self.quickExits.count]
                let status = (try? run(toolPath, arguments, cwd: work.path, env: env).status) ?? -1
                statuses.record(arguments.joined(separator: " "), expected: expected, got: status)
            }
        }
        #expect(statuses.runs == 4 * rounds)
        #expect(statuses.unexpected.isEmpty, "\(statuses.unexpected.prefix(5))")
    }
}

private final class LockedStatuses: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var wrong: [String] = []

    func record(_ command: String, expected: Int32, got: Int32) {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        if got != expected { wrong.append("\(command): status \(got), expected \(expected)") }
    }

    var runs: Int { lock.lock(); defer { lock.unlock() }; return count }
    var unexpected: [String] { lock.lock(); defer { lock.unlock() }; return wrong }
}
