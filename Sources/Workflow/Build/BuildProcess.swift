import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a build command ended.
enum BuildExit: Equatable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    var succeeded: Bool { self == .exited(0) }

    var description: String {
        switch self {
        case .exited(let code): return "exit status \(code)"
        case .signalled(let number):
            let names: [Int32: String] = [SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGINT: "SIGINT", SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGPIPE: "SIGPIPE", SIGHUP: "SIGHUP"]
            return "killed by signal \(number)" + (names[number].map { " (\($0))" } ?? "")
        }
    }
}

/// A build command run with `/bin/sh -c` in its own process group, its output (stdout and
/// stderr merged) handed over line by line as it comes.
///
/// The command text reaches the shell as one argument (`sh -c 'cd -- "$1" && umask 022 && exec
/// /bin/sh -c "$2"' sh DIR COMMAND`), so it is never quoted again, and the directory is data, not
/// code. The child starts with default signal handling and nothing blocked (this process ignores
/// SIGINT and SIGTERM and would pass that on), stdin from /dev/null (a hook's stdin is git's ref
/// list), and every other descriptor closed on exec.
///
/// Memory stays bounded whatever the command prints: a 64 KiB read buffer, one pending line of
/// at most ``maxLineBytes`` (longer lines come in pieces) and the last ``tailLines`` lines.
struct BuildProcess {
    var function: String
    var command: String
    /// Absolute; the command's working directory.
    var directory: String
    /// The command's whole environment.
    var environment: [String: String]
    /// Asked between reads: a reason stops the build (its process group is killed).
    var interrupted: () -> Interruption.Reason? = { Interruption.requested }

    static let maxLineBytes = 4096
    static let tailLines = 20
    /// How long the build's process group has after SIGTERM before SIGKILL.
    static let terminateGrace: Duration = .seconds(2)
    /// How long output is still read after the command exited, when something it started in the
    /// background (outside its process group) keeps the pipe open.
    static let drainAfterExit: Duration = .seconds(2)
    private static let pollMilliseconds: Int32 = 100

    struct Outcome: Equatable {
        var exit: BuildExit
        /// The last lines of output, oldest first.
        var tail: [String]
    }

    /// Runs the command to its end, calling `line` with each line of output. Throws
    /// `WorkflowError.interrupted` when a stop was requested (after killing the process group),
    /// `WorkflowError.buildNotRun` when it could not start.
    func run(line: (String) -> Void) throws(WorkflowError) -> Outcome {
        let (pid, readEnd) = try spawn()
        defer { close(readEnd) }
        var lines = LineSplitter(limit: Self.maxLineBytes)
        var tail: [String] = []
        func emit(_ text: String) {
            line(text)
            tail.append(text)
            if tail.count > Self.tailLines { tail.removeFirst(tail.count - Self.tailLines) }
        }

        let clock = ContinuousClock()
        var endOfOutput = false
        var exited = false
        var drainUntil: ContinuousClock.Instant?
        var stopping: (reason: Interruption.Reason, killAt: ContinuousClock.Instant)?
        var killed = false
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            if stopping == nil, let reason = interrupted() {
                kill(-pid, SIGTERM)
                stopping = (reason, clock.now + Self.terminateGrace)
            }
            if let stop = stopping, !killed, clock.now >= stop.killAt {
                kill(-pid, SIGKILL)
                killed = true
            }
            if !endOfOutput {
                var descriptor = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&descriptor, 1, Self.pollMilliseconds)
                if ready > 0 {
                    let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                    if count > 0 {
                        buffer.withUnsafeBytes { lines.feed(UnsafeRawBufferPointer(rebasing: $0[..<count]), emit: emit) }
                    } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                        endOfOutput = true
                    }
                } else if ready < 0, errno != EINTR {
                    endOfOutput = true
                }
            } else {
                usleep(20_000)
            }
            if !exited, Self.hasExited(pid) {
                exited = true
                // Anything the command left running in its group would go on writing into the
                // output while it is packaged: it ends with the command.
                kill(-pid, SIGKILL)
                drainUntil = clock.now + Self.drainAfterExit
            }
            if exited, endOfOutput || clock.now >= (drainUntil ?? clock.now) { break }
            // A process stuck in the kernel may outlive even SIGKILL for a while: stop waiting.
            if let stop = stopping, clock.now >= stop.killAt + Self.terminateGrace { break }
        }
        lines.finish(emit: emit)

        var status: Int32 = 0
        if let stop = stopping {
            while waitpid(pid, &status, exited ? 0 : WNOHANG) < 0, errno == EINTR {}
            throw .interrupted(stop.reason)
        }
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return Outcome(exit: Self.exit(from: status), tail: tail)
    }

    /// Whether the child has ended, without reaping it: its process group (and so its id) stays
    /// taken until it is reaped, so killing the group afterwards cannot reach a stranger.
    private static func hasExited(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        // With WNOHANG and nothing to report, Linux leaves si_signo 0.
        return waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_signo == SIGCHLD
    }

    private static func exit(from status: Int32) -> BuildExit {
        let signal = status & 0x7f
        if signal == 0 { return .exited((status >> 8) & 0xff) }
        return .signalled(signal)
    }

    /// Starts `/bin/sh` as described above; returns its pid and the read end of its output.
    private func spawn() throws(WorkflowError) -> (pid_t, Int32) {
        var ends: [Int32] = [-1, -1]
        // Close-on-exec at once (pipe2 is not visible from Swift here): only the child's
        // stdout and stderr, made by dup2, may stay open in it. Nothing else in this process
        // starts programs while a build runs, so the moment between the two calls is harmless.
        let piped = pipe(&ends)
        if piped == 0 { _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC); _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC) }
        guard piped == 0 else { throw .buildNotRun(function: function, reason: "no pipe for its output (\(String(cString: strerror(errno))))") }
        defer { close(ends[1]) }

        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t? = nil
        var attributes: posix_spawnattr_t? = nil
        #else
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
        posix_spawn_file_actions_adddup2(&actions, ends[1], 2)

        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in Int32(1)..<32 where number != SIGKILL && number != SIGSTOP { sigaddset(&defaults, number) }
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let script = #"cd -- "$1" && umask 022 && exec /bin/sh -c "$2""#
        let arguments = ["sh", "-c", script, "sh", directory, command]
        let variables = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = variables.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid = pid_t()
        let code = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp)
        guard code == 0 else {
            close(ends[0])
            throw .buildNotRun(function: function, reason: "/bin/sh did not start (\(String(cString: strerror(code))))")
        }
        return (pid, ends[0])
    }
}

/// Cuts a byte stream into lines: `\n` ends one (a `\r` before it is dropped), and a line longer
/// than `limit` bytes is handed over in pieces, cut at a character boundary.
struct LineSplitter {
    let limit: Int
    private var pending: [UInt8] = []

    init(limit: Int) {
        self.limit = limit
        pending.reserveCapacity(limit)
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer, emit: (String) -> Void) {
        for byte in bytes {
            if byte == 10 {
                flush(emit)
                continue
            }
            pending.append(byte)
            if pending.count >= limit {
                // Cut before a character whose UTF-8 bytes are not all here yet.
                var start = pending.count - 1
                while start > 0, pending.count - start < 4, pending[start] & 0xC0 == 0x80 { start -= 1 }
                let lead = pending[start]
                let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
                let cut = start > 0 && start + length > pending.count ? start : pending.count
                let rest = Array(pending[cut...])
                pending.removeSubrange(cut...)
                flush(emit)
                pending = rest
            }
        }
    }

    /// Hands over a last line that had no newline.
    mutating func finish(emit: (String) -> Void) {
        if !pending.isEmpty { flush(emit) }
    }

    private mutating func flush(_ emit: (String) -> Void) {
        if pending.last == 13 { pending.removeLast() }
        emit(String(decoding: pending, as: UTF8.self).replacingOccurrences(of: "\t", with: "    "))
        pending.removeAll(keepingCapacity: true)
    }
}
