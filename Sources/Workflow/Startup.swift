public import DeployLedger

/// Work the executable starts before it knows which command will run.
public enum Startup {
    /// Starts libgit2's one-time set-up on a background thread (see ``GitLibraryStart``), so it
    /// overlaps argument parsing instead of following it. Call `finish()` on the result before the
    /// process exits.
    public static func begin() -> GitLibraryStart {
        GitLibraryStart.begin()
    }
}
