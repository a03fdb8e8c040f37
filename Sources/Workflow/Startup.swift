import DeployLedger
import Synchronization

/// Work the executable starts before it knows which command will run.
public enum Startup {
    private static let started = Mutex<GitLibraryStart?>(nil)

    /// Starts libgit2's one-time set-up on a background thread (see ``GitLibraryStart``), so it
    /// overlaps argument parsing instead of following it. ``finishForExit()`` must run before the
    /// process exits.
    public static func begin() {
        let start = GitLibraryStart.begin()
        started.withLock { $0 = start }
    }

    /// Waits for the set-up to end (joins its thread once, whichever thread asks first: the
    /// main thread at the end of a command, or the signal guard before it exits).
    public static func finishForExit() {
        started.withLock { start in
            start?.finish()
            start = nil
        }
    }
}
