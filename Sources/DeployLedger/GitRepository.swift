internal import CLibgit2
import Foundation

/// An open git repository (libgit2), used for everything local: resolving commits, status, notes.
///
/// Not `Sendable`: libgit2 repository handles must not be shared between threads without locking,
/// so each thread or task opens its own.
public final class GitRepository {
    let pointer: OpaquePointer

    private init(pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit { git_repository_free(pointer) }

    /// Opens the repository that contains `path`, searching upwards like `git` does.
    ///
    /// Returns nil when `path` is not inside a repository: a deploy outside a repository is
    /// allowed and simply writes no record. Stops at filesystem boundaries, like git without
    /// `GIT_DISCOVERY_ACROSS_FILESYSTEM`.
    public static func discover(from path: String) throws -> GitRepository? {
        ensureLibgit2()
        var repo: OpaquePointer?
        let code = git_repository_open_ext(&repo, path, 0, nil)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "git_repository_open_ext")
        guard let repo else { return nil }
        return GitRepository(pointer: repo)
    }

    /// The working directory without a trailing slash; nil for a bare repository.
    public var workdir: String? {
        guard let path = git_repository_workdir(pointer) else { return nil }
        return Self.trimmingSlash(String(cString: path))
    }

    /// The `.git` directory (for a linked worktree, its private git directory).
    public var gitDir: String {
        Self.trimmingSlash(String(cString: git_repository_path(pointer)))
    }

    /// Whether this is a shallow clone (depth-limited history, as CI checkouts usually are).
    public var isShallow: Bool { git_repository_is_shallow(pointer) == 1 }

    private static func trimmingSlash(_ path: String) -> String {
        path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    // MARK: Commits

    /// Resolves a revision (sha, branch, tag, `HEAD`, `HEAD~1`) to a full commit id.
    ///
    /// Annotated tags are peeled to the commit they point at, so a record is always attached to
    /// the commit itself. `HEAD` works with a detached HEAD.
    public func resolveCommit(_ revision: String) throws -> String {
        try commitObject(revision).id.hex
    }

    func commitObject(_ revision: String) throws -> GitObject {
        var object: OpaquePointer?
        let code = git_revparse_single(&object, pointer, revision)
        if code == GIT_ENOTFOUND.rawValue || code == GIT_EAMBIGUOUS.rawValue
            || code == GIT_EINVALIDSPEC.rawValue || code == GIT_EUNBORNBRANCH.rawValue {
            throw LedgerError.commitNotFound(revision: revision)
        }
        try check(code, "git_revparse_single")
        guard let object else { throw LedgerError.commitNotFound(revision: revision) }
        let owned = GitObject(object, repository: self)
        var peeled: OpaquePointer?
        if git_object_peel(&peeled, owned.pointer, GIT_OBJECT_COMMIT) < 0 {
            throw LedgerError.commitNotFound(revision: revision)
        }
        guard let peeled else { throw LedgerError.commitNotFound(revision: revision) }
        return GitObject(peeled, repository: self)
    }

    func lookupCommit(_ id: ObjectID) throws -> GitObject {
        var raw = id.raw
        var object: OpaquePointer?
        try check(git_object_lookup(&object, pointer, &raw, GIT_OBJECT_COMMIT), "git_object_lookup")
        guard let object else { throw LedgerError.commitNotFound(revision: id.hex) }
        return GitObject(object, repository: self)
    }

    /// The commit HEAD points at; nil on an unborn branch (a repository without commits).
    public func headCommit() throws -> String? {
        var oid = git_oid()
        let code = git_reference_name_to_id(&oid, pointer, "HEAD")
        if code == GIT_ENOTFOUND.rawValue || code == GIT_EUNBORNBRANCH.rawValue { return nil }
        try check(code, "git_reference_name_to_id")
        return ObjectID(oid).hex
    }

    /// The checked-out branch's short name (also on an unborn branch); nil with a detached HEAD.
    public func currentBranch() -> String? {
        var ref: OpaquePointer?
        guard git_reference_lookup(&ref, pointer, "HEAD") == 0, let ref else { return nil }
        let head = GitReference(ref, repository: self)
        guard git_reference_type(head.pointer) == GIT_REFERENCE_SYMBOLIC,
              let target = git_reference_symbolic_target(head.pointer) else { return nil }
        let name = String(cString: target)
        let prefix = "refs/heads/"
        return name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : nil
    }

    /// Whether the commit is present in this repository's object database.
    public func contains(commit: String) -> Bool {
        (try? commitObject(commit)) != nil
    }

    /// Whether `ancestor` is reachable from `descendant` (a commit counts as its own ancestor,
    /// as with `git merge-base --is-ancestor`).
    ///
    /// In a shallow clone the walk can hit a missing parent; that is reported as
    /// ``LedgerError/shallowHistory(revision:)`` rather than a wrong answer.
    public func isAncestor(_ ancestor: String, of descendant: String) throws -> Bool {
        try isAncestor(try commitObject(ancestor).id, of: try commitObject(descendant).id, naming: descendant)
    }

    /// ``isAncestor(_:of:)`` on object ids: the one ancestry check (the notes merge uses it on
    /// notes commits).
    func isAncestor(_ ancestor: ObjectID, of descendant: ObjectID, naming revision: String? = nil) throws -> Bool {
        if ancestor == descendant { return true }
        var a = ancestor.raw, d = descendant.raw
        let code = git_graph_descendant_of(pointer, &d, &a)
        if code < 0 {
            let message = lastLibgit2Message()
            if isShallow { throw LedgerError.shallowHistory(revision: revision ?? descendant.hex) }
            throw LedgerError.libgit2(call: "git_graph_descendant_of", code: code, message: message)
        }
        return code == 1
    }

    // MARK: Working tree

    /// Whether the function directory has uncommitted or untracked (not ignored) changes.
    ///
    /// `relativePath` is relative to the working directory root; "" or "." means the whole tree.
    /// The path is taken literally (no glob), as a directory prefix.
    public func isDirty(under relativePath: String) throws -> Bool {
        var path = relativePath
        while path.hasPrefix("./") { path.removeFirst(2) }
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        if path == "." { path = "" }

        var options = git_status_options()
        try check(git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION)), "git_status_options_init")
        options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
        options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue
            | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
            | GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH.rawValue
        var list: OpaquePointer?
        let code: Int32
        if path.isEmpty {
            code = git_status_list_new(&list, pointer, &options)
        } else {
            code = path.withCString { cPath in
                var entries: [UnsafeMutablePointer<CChar>?] = [UnsafeMutablePointer(mutating: cPath)]
                return entries.withUnsafeMutableBufferPointer { buffer in
                    options.pathspec = git_strarray(strings: buffer.baseAddress, count: 1)
                    return git_status_list_new(&list, pointer, &options)
                }
            }
        }
        try check(code, "git_status_list_new")
        guard let list else { return false }
        return GitStatusList(list, repository: self).count > 0
    }

    // MARK: Config

    /// A string from the repository's effective config (`user.name`, `notes.ref`, ...); nil if unset.
    public func configString(_ key: String) -> String? {
        var config: OpaquePointer?
        guard git_repository_config_snapshot(&config, pointer) == 0, let config else { return nil }
        let owned = GitConfig(config, repository: self)
        var value: UnsafePointer<CChar>?
        guard git_config_get_string(&value, owned.pointer, key) == 0, let value else { return nil }
        return String(cString: value)
    }

    // MARK: References

    /// The id a direct reference points at; nil when the reference does not exist.
    func referenceTarget(_ name: String) throws -> ObjectID? {
        var oid = git_oid()
        let code = git_reference_name_to_id(&oid, pointer, name)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "git_reference_name_to_id")
        return ObjectID(oid)
    }

    /// Moves `name` to `target` only if it still points at `expected` (nil: must not exist yet).
    ///
    /// Returns false when someone else moved the ref first, so the caller can redo its work.
    func updateReference(_ name: String, to target: ObjectID, expected: ObjectID?, message: String) throws -> Bool {
        var newID = target.raw
        var ref: OpaquePointer?
        let code: Int32
        if var old = expected?.raw {
            code = git_reference_create_matching(&ref, pointer, name, &newID, 1, &old, message)
        } else {
            code = git_reference_create(&ref, pointer, name, &newID, 0, message)
        }
        if let ref { git_reference_free(ref) }
        if code == GIT_EMODIFIED.rawValue || code == GIT_EEXISTS.rawValue { return false }
        try check(code, expected == nil ? "git_reference_create" : "git_reference_create_matching")
        return true
    }

    func lookupTree(_ id: ObjectID) throws -> GitObject {
        var raw = id.raw
        var tree: OpaquePointer?
        try check(git_tree_lookup(&tree, pointer, &raw), "git_tree_lookup")
        guard let tree else {
            throw LedgerError.libgit2(call: "git_tree_lookup", code: -1, message: "no tree returned")
        }
        return GitObject(tree, repository: self)
    }

    /// Calls `body` with a blob's bytes, freeing the blob right after (no handle object per
    /// note: the reader reads 10,000 of them).
    func withBlob<R>(_ id: ObjectID, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        var raw = id.raw
        var blob: OpaquePointer?
        try check(git_blob_lookup(&blob, pointer, &raw), "git_blob_lookup")
        guard let blob else {
            throw LedgerError.libgit2(call: "git_blob_lookup", code: -1, message: "no blob returned")
        }
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        guard size > 0, let base = git_blob_rawcontent(blob) else {
            return try body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        return try body(UnsafeRawBufferPointer(start: base, count: size))
    }

    func createBlob(_ bytes: [UInt8]) throws -> ObjectID {
        var oid = git_oid()
        let code = bytes.withUnsafeBytes { buffer in
            git_blob_create_from_buffer(&oid, pointer, buffer.baseAddress, buffer.count)
        }
        try check(code, "git_blob_create_from_buffer")
        return ObjectID(oid)
    }
}
