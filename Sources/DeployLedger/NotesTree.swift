internal import CLibgit2
import Safety

// The shape of a notes ref, checked before anything is read from it or written on it.
//
// libgit2 1.5's note functions trust the ref: on a ref that points at a blob, a tree or a tag,
// `git_note_iterator_new` fails and later calls crash in about half the runs, and a notes tree
// whose entries are not notes sends its iterator to objects of the wrong type. So the ledger
// never uses libgit2's note iterator: it checks what the ref points at (``GitRepository/notesCommit(_:)``)
// and walks the notes tree itself (``NotesTree/walk(_:entries:ref:_:)``), refusing anything that
// is not git's notes layout, with one line that names the ref and the repair.

extension GitRepository {
    /// The notes commit `ref` points at; nil when the ref does not exist.
    ///
    /// Throws ``LedgerError/notesRefNotACommit(ref:kind:)`` when the ref points at a blob, a tree
    /// or a tag, and ``LedgerError/notesRefUnreadable(ref:detail:)`` when the ref or its commit
    /// cannot be read (a malformed commit, a missing object, a corrupt ref file).
    func notesCommit(_ ref: String) throws -> GitObject? {
        let id: ObjectID?
        do {
            id = try referenceTarget(ref)
        } catch LedgerError.libgit2(_, _, let message) {
            throw LedgerError.notesRefUnreadable(ref: ref, detail: message)
        }
        guard let id else { return nil }
        var raw = id.raw
        var object: OpaquePointer?
        let code = git_object_lookup(&object, pointer, &raw, GIT_OBJECT_ANY)
        guard code == 0, let object else {
            throw LedgerError.notesRefUnreadable(ref: ref, detail: "\(id.hex): \(lastLibgit2Message())")
        }
        let owned = GitObject(object, repository: self)
        let type = git_object_type(object)
        guard type == GIT_OBJECT_COMMIT else {
            throw LedgerError.notesRefNotACommit(ref: ref, kind: Self.describe(type))
        }
        return owned
    }

    private static func describe(_ type: git_object_t) -> String {
        switch type {
        case GIT_OBJECT_BLOB: return "a blob"
        case GIT_OBJECT_TREE: return "a tree"
        case GIT_OBJECT_TAG: return "an annotated tag"
        default: return "an object of unknown type"
        }
    }
}

/// Git's notes layout: a note is a blob whose path, without the slashes, is the 40 hex digits of
/// the annotated object (`abcd...`, fanned out as `ab/cd...` or `ab/cd/ef...` once there are
/// many); fan-out directories have two hex digits.
enum NotesTree {
    /// The tree of a notes commit.
    static func tree(of notesCommit: GitObject, ref: String) throws -> GitObject {
        var tree: OpaquePointer?
        let code = git_commit_tree(&tree, notesCommit.pointer)
        guard code == 0, let tree else {
            throw LedgerError.notesRefUnreadable(ref: ref, detail: "its tree: \(lastLibgit2Message())")
        }
        return GitObject(tree, repository: notesCommit.repository)
    }

    /// Calls `body(annotated object, note blob)` for every note under the top-level entries
    /// `entries` of `tree`, in tree order, after checking each entry is a note or a fan-out
    /// directory; the first entry that is neither throws
    /// ``LedgerError/notesTreeHasForeignEntry(ref:path:kind:)``.
    static func walk(_ tree: GitObject, entries: Range<Int>, ref: String, _ body: (ObjectID, ObjectID) throws -> Void) throws {
        // The hex digits of the path so far; a plain buffer, not an array, because an array
        // written through `inout` checks its uniqueness on every byte.
        let path = UnsafeMutablePointer<UInt8>.allocate(capacity: 40)
        defer { path.deallocate() }
        try walk(tree, entries: entries, path: path, depth: 0, ref: ref, body)
    }

    /// Checks the whole tree of `notesCommit` without reading any note (before a write).
    static func check(_ notesCommit: GitObject, ref: String) throws {
        let tree = try tree(of: notesCommit, ref: ref)
        try walk(tree, entries: 0..<git_tree_entrycount(tree.pointer), ref: ref) { _, _ in }
    }

    /// Annotated object -> note blob, for every note of `notesCommit`.
    static func map(_ notesCommit: GitObject, ref: String) throws -> [ObjectID: ObjectID] {
        let tree = try tree(of: notesCommit, ref: ref)
        var map: [ObjectID: ObjectID] = [:]
        try walk(tree, entries: 0..<git_tree_entrycount(tree.pointer), ref: ref) { annotated, blob in
            map[annotated] = blob
        }
        return map
    }

    private static func walk(
        _ tree: GitObject, entries: Range<Int>, path: UnsafeMutablePointer<UInt8>, depth: Int, ref: String,
        _ body: (ObjectID, ObjectID) throws -> Void
    ) throws {
        let repository = tree.repository
        for index in entries {
            guard let entry = git_tree_entry_byindex(tree.pointer, index), let name = git_tree_entry_name(entry) else { continue }
            var length = 0
            var hex = true
            while name[length] != 0 {
                let c = UInt8(bitPattern: name[length])
                if depth + length >= 40 || !isHexDigit(c) {
                    hex = false
                    break
                }
                path[depth + length] = c
                length += 1
            }
            let type = git_tree_entry_type(entry)
            if hex && type == GIT_OBJECT_BLOB && depth + length == 40 {
                var annotated = git_oid()
                let parsed = path.withMemoryRebound(to: CChar.self, capacity: 40) { git_oid_fromstrn(&annotated, $0, 40) }
                if parsed == 0 {
                    try body(ObjectID(annotated), ObjectID(git_tree_entry_id(entry).pointee))
                    continue
                }
            } else if hex && type == GIT_OBJECT_TREE && length == 2 && depth + 2 < 40 {
                let subtree = try repository.lookupTree(ObjectID(git_tree_entry_id(entry).pointee))
                try walk(subtree, entries: 0..<git_tree_entrycount(subtree.pointer), path: path, depth: depth + 2, ref: ref, body)
                continue
            }
            throw LedgerError.notesTreeHasForeignEntry(
                ref: ref, path: foreignPath(path, depth: depth, name: String(cString: name)), kind: describe(type))
        }
    }

    /// The path of an entry for a message: the fan-out directories, then the name (escaped).
    private static func foreignPath(_ path: UnsafeMutablePointer<UInt8>, depth: Int, name: String) -> String {
        var text = ""
        var at = 0
        while at + 2 <= depth {
            text += String(decoding: UnsafeBufferPointer(start: path + at, count: 2), as: UTF8.self) + "/"
            at += 2
        }
        return text + DisplayText.excerpt(name, limit: 80)
    }

    private static func describe(_ type: git_object_t) -> String {
        switch type {
        case GIT_OBJECT_BLOB: return "a file"
        case GIT_OBJECT_TREE: return "a directory"
        case GIT_OBJECT_COMMIT: return "a submodule link"
        default: return "an entry"
        }
    }
}
