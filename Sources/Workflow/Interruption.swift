import Foundation
import Synchronization

/// A request to stop a command that changes AWS: a signal, or a time limit (hook.timeout).
///
/// The executable's signal handler and deadline call ``request(_:)``; the workflow calls
/// ``check()`` between steps (before an upload, a publish, an alias move), so the AWS call in
/// flight finishes within its own time bounds, its result is known, and the record written says
/// what AWS holds. Killing the process mid-call instead would leave an alias moved (or a version
/// published) with no record explaining it. The executable exits on its own after a short grace
/// period if the command does not reach a step boundary (e.g. while packaging a huge tree).
public enum Interruption {
    public enum Reason: Sendable, Equatable {
        case signal(Int32)
        /// A time limit of this many seconds, named by its setting (`hook.timeout`).
        case deadline(seconds: Int, setting: String)
    }

    private static let reason = Mutex<Reason?>(nil)

    /// Asks the running command to stop at its next step boundary (the first request wins).
    public static func request(_ new: Reason) {
        reason.withLock { current in if current == nil { current = new } }
    }

    /// Why the command was asked to stop, or nil.
    public static var requested: Reason? { reason.withLock { $0 } }

    /// Throws `WorkflowError.interrupted` once a stop was requested.
    public static func check() throws(WorkflowError) {
        if let reason = requested { throw .interrupted(reason) }
    }
}

/// Files a command creates and must not leave behind, even when a signal ends it early.
public final class TemporaryFiles: Sendable {
    public static let shared = TemporaryFiles()
    private let paths = Mutex<Set<String>>([])

    public func register(_ path: String) { _ = paths.withLock { $0.insert(path) } }
    public func forget(_ path: String) { _ = paths.withLock { $0.remove(path) } }

    /// Removes every registered file (the signal handler's last step before exiting).
    public func removeAll() {
        for path in paths.withLock({ $0 }) { unlink(path) }
    }
}
