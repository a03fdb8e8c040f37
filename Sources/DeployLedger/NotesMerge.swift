internal import CLibgit2
import Foundation
import Safety

extension Ledger {
    /// Merges another notes ref (e.g. `refs/notes/remotes/origin/deploys`) into the live ref,
    /// keeping every line of both sides.
    ///
    /// For commits annotated on both sides with different notes the lines are concatenated,
    /// sorted and de-duplicated: the result `git notes merge -s cat_sort_uniq` produces (see
    /// git-notes(1), NOTES MERGE STRATEGIES). Unlike git's three-way merge, a note removed on one
    /// side comes back: an audit trail only grows. The merge commit has the live tip and the
    /// other tip as parents, so pushing it is a fast-forward of the remote ref. The merged tree
    /// is written flat (one entry per annotated commit); fanned-out input trees (`ab/cdef...`)
    /// are read by ``NotesTree``, which checks both sides are notes commits in git's layout
    /// before anything is merged.
    @discardableResult
    public func mergeNotes(from otherRef: String, author: Signature = .lambdaDeploy) throws -> MergeOutcome {
        let ref = try checkedRef()
        if let problem = GitNames.refProblem(otherRef) { throw LedgerError.invalidRef(ref: otherRef, problem: problem) }
        for _ in 0..<8 {
            guard let otherCommit = try repository.notesCommit(otherRef) else { return .nothingToMerge }
            try NotesTree.check(otherCommit, ref: otherRef)
            let other = otherCommit.id
            let localCommit = try repository.notesCommit(ref)
            if let localCommit { try NotesTree.check(localCommit, ref: ref) }
            guard let local = localCommit?.id else {
                if try repository.updateReference(ref, to: other, expected: nil, message: "notes: fast-forward from \(otherRef)") {
                    return .fastForward
                }
                continue
            }
            if local == other { return .upToDate }
            if try repository.isAncestor(other, of: local) { return .upToDate }
            if try repository.isAncestor(local, of: other) {
                if try repository.updateReference(ref, to: other, expected: local, message: "notes: fast-forward from \(otherRef)") {
                    return .fastForward
                }
                continue
            }
            let (commit, combined) = try writeMergeCommit(local: local, other: other, otherRef: otherRef, author: author)
            if try repository.updateReference(ref, to: commit, expected: local, message: "notes: merged \(otherRef)") {
                return .merged(commit: commit.hex, combinedNotes: combined)
            }
        }
        throw LedgerError.cannotWriteNote(
            commit: "(merge)", notesRef: ref, reason: "the notes ref kept changing while merging \(otherRef); retry")
    }

    /// Builds the union tree and the two-parent merge commit (no ref is moved here).
    private func writeMergeCommit(local: ObjectID, other: ObjectID, otherRef: String, author: Signature) throws -> (ObjectID, Int) {
        let localCommit = try repository.lookupCommit(local)
        let otherCommit = try repository.lookupCommit(other)
        var merged = try NotesTree.map(localCommit, ref: notesRef)
        var combined = 0
        for (annotated, otherBlob) in try NotesTree.map(otherCommit, ref: otherRef) {
            guard let localBlob = merged[annotated] else {
                merged[annotated] = otherBlob
                continue
            }
            if localBlob == otherBlob { continue }
            let text = catSortUniq(try blobText(localBlob), try blobText(otherBlob))
            merged[annotated] = try repository.createBlob(text)
            combined += 1
        }

        var builder: OpaquePointer?
        try check(git_treebuilder_new(&builder, repository.pointer, nil), "git_treebuilder_new")
        guard let builder else {
            throw LedgerError.libgit2(call: "git_treebuilder_new", code: -1, message: "no tree builder returned")
        }
        let treeBuilder = GitTreeBuilder(builder, repository: repository)
        for (annotated, blob) in merged {
            var raw = blob.raw
            try check(git_treebuilder_insert(nil, treeBuilder.pointer, annotated.hex, &raw, GIT_FILEMODE_BLOB), "git_treebuilder_insert")
        }
        var treeID = git_oid()
        try check(git_treebuilder_write(&treeID, treeBuilder.pointer), "git_treebuilder_write")
        var tree: OpaquePointer?
        try check(git_object_lookup(&tree, repository.pointer, &treeID, GIT_OBJECT_TREE), "git_object_lookup")
        guard let tree else {
            throw LedgerError.libgit2(call: "git_object_lookup", code: -1, message: "no tree returned")
        }
        let ownedTree = GitObject(tree, repository: repository)

        let signature = try GitSignature(author)
        var commitID = git_oid()
        let message = "Notes merged by 'lambda-deploy' from \(otherRef)\n"
        var parents: [OpaquePointer?] = [localCommit.pointer, otherCommit.pointer]
        let code = parents.withUnsafeMutableBufferPointer { buffer in
            git_commit_create(
                &commitID, repository.pointer, nil, signature.pointer, signature.pointer, nil, message,
                ownedTree.pointer, 2, buffer.baseAddress)
        }
        try check(code, "git_commit_create")
        return (ObjectID(commitID), combined)
    }

    private func blobText(_ id: ObjectID) throws -> [UInt8] {
        try repository.withBlob(id) { Array($0) }
    }
}

/// Concatenates two notes, sorts the lines bytewise, drops empty and duplicate lines, as git's
/// `cat_sort_uniq` notes merge strategy does.
func catSortUniq(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
    var lines: [ArraySlice<UInt8>] = []
    for text in [a, b] {
        for line in text.split(separator: 0x0A, omittingEmptySubsequences: true) {
            lines.append(line)
        }
    }
    lines.sort { $0.lexicographicallyPrecedes($1) }
    var out: [UInt8] = []
    var previous: ArraySlice<UInt8>?
    for line in lines where line != previous {
        out.append(contentsOf: line)
        out.append(0x0A)
        previous = line
    }
    return out
}
