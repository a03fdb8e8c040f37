internal import CLibgit2
import Foundation
import Safety

/// A record to write and the commit (a revision; tags are peeled) whose note receives it.
public struct RecordOnCommit: Sendable, Equatable {
    public var record: DeployRecord
    public var commit: String

    public init(_ record: DeployRecord, on commit: String) {
        self.record = record
        self.commit = commit
    }
}

/// What `Ledger.mergeNotes(from:author:)` did.
public enum MergeOutcome: Sendable, Equatable {
    /// The other ref does not exist (nothing fetched yet, or the remote has no records).
    case nothingToMerge
    /// The live ref already contains everything in the other ref.
    case upToDate
    /// The live ref was moved forward to the other ref (no local-only records).
    case fastForward
    /// A merge commit with both notes commits as parents; `combinedNotes` commits had notes on
    /// both sides that differed and were combined line-wise.
    case merged(commit: String, combinedNotes: Int)
}

/// The deployment records of a repository, kept as JSON Lines notes on `refs/notes/deploys`.
///
/// Written and read with libgit2; every write adds a notes commit on the same ref, so the notes
/// history keeps every version, and `git notes`/`git log --notes` read the result. Before any
/// read or write the ref is checked: a valid ref name, pointing at a notes commit whose tree is
/// git's notes layout (see ``NotesTree``); anything else is a one-line error naming the repair.
public struct Ledger {
    public let repository: GitRepository
    /// The full notes ref name (`deploys` is expanded to `refs/notes/deploys`, as git does).
    public let notesRef: String

    public init(repository: GitRepository, notesRef: String = "refs/notes/deploys") {
        self.repository = repository
        self.notesRef = notesRef.hasPrefix("refs/") ? notesRef : "refs/notes/" + notesRef
    }

    /// ``notesRef``, checked by git's rules before libgit2 or git sees it.
    func checkedRef() throws -> String {
        if let problem = GitNames.refProblem(notesRef) { throw LedgerError.invalidRef(ref: notesRef, problem: problem) }
        return notesRef
    }

    /// The notes commit the ref points at (checked), nil when there are no records yet.
    func tip() throws -> GitObject? {
        try repository.notesCommit(try checkedRef())
    }

    // MARK: Writing

    /// Checks what can be checked before anything changes in AWS, so a deploy never happens
    /// without the record it needs: the notes ref is a valid ref name and, if it exists, a notes
    /// commit in git's layout, and the repository's objects and refs can be written.
    public func checkWritable() throws {
        let ref = try checkedRef()
        if let tip = try repository.notesCommit(ref) { try NotesTree.check(tip, ref: ref) }
        var common = String(cString: git_repository_commondir(repository.pointer))
        while common.count > 1 && common.hasSuffix("/") { common.removeLast() }
        for directory in [common + "/objects", common + "/refs"] where access(directory, W_OK) != 0 {
            throw LedgerError.repositoryNotWritable(path: directory)
        }
    }

    /// Appends `record` as a new line to the note on `commit` (a revision; tags are peeled).
    public func append(_ record: DeployRecord, to commit: String, author: Signature) throws {
        try append([RecordOnCommit(record, on: commit)], author: author)
    }

    /// Appends each record as a new line to the note on its commit, in one move of the ref (one
    /// notes commit per record, chained), so a run that records several functions shares them
    /// with one push.
    ///
    /// Existing lines are never dropped, and their bytes are kept as they are. The new notes
    /// commits are built on the notes commit that was read, and the ref moves only if nobody
    /// moved it meanwhile (compare-and-swap), retried a few times, so two writers in one
    /// repository cannot lose each other's lines.
    public func append(_ records: [RecordOnCommit], author: Signature) throws {
        guard !records.isEmpty else { return }
        let ref = try checkedRef()
        let lines: [(target: ObjectID, line: [UInt8])] = try records.map { item in
            let target = try repository.commitObject(item.commit).id
            var writer = RecordWriter()
            writer.object(item.record, commit: nil)
            // The writer escapes every control character; a line that could span two lines
            // (or end the C string libgit2 takes) must never reach a note.
            guard !writer.bytes.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0x00 }) else {
                throw LedgerError.cannotWriteNote(commit: target.hex, notesRef: ref, reason: "the record would not be one line")
            }
            return (target, writer.bytes)
        }
        let signature = try GitSignature(author)
        for _ in 0..<8 {
            let tip = try repository.notesCommit(ref)
            if let tip { try NotesTree.check(tip, ref: ref) }
            var parent = tip
            for (target, line) in lines {
                parent = try writeNote(adding: line, on: target, parent: parent, signature: signature, ref: ref)
            }
            guard let parent else { return }
            let moved = try repository.updateReference(
                ref, to: parent.id, expected: tip?.id, message: "notes: deploy record added by lambda-deploy")
            if moved { return }
        }
        throw LedgerError.cannotWriteNote(
            commit: lines.first?.target.hex ?? "", notesRef: ref, reason: "the notes ref kept changing while writing; retry")
    }

    /// A new notes commit on `parent` whose note on `target` ends with `line` (no ref moves).
    private func writeNote(
        adding line: [UInt8], on target: ObjectID, parent: GitObject?, signature: GitSignature, ref: String
    ) throws -> GitObject {
        var message: [UInt8] = []
        if let parent, let existing = try noteBytes(in: parent, on: target) {
            guard !existing.contains(0) else {
                throw LedgerError.cannotWriteNote(
                    commit: target.hex, notesRef: ref,
                    reason: "its note holds a NUL byte, and rewriting it would drop what follows; look at it with `git notes --ref=\(ref) show \(target.hex)`")
            }
            message = existing
            if !message.isEmpty && message.last != 0x0A { message.append(0x0A) }
        }
        message.append(contentsOf: line)
        message.append(0x0A)
        message.append(0)
        var newCommit = git_oid()
        var blob = git_oid()
        var annotated = target.raw
        let code = message.withUnsafeBufferPointer { text in
            text.withMemoryRebound(to: CChar.self) { chars in
                git_note_commit_create(
                    &newCommit, &blob, repository.pointer, parent?.pointer,
                    signature.pointer, signature.pointer, &annotated, chars.baseAddress, 1)
            }
        }
        if code < 0 {
            throw LedgerError.cannotWriteNote(
                commit: target.hex, notesRef: ref, reason: "git_note_commit_create: \(lastLibgit2Message())")
        }
        return try repository.lookupCommit(ObjectID(newCommit))
    }

    /// The bytes of the note on `annotated` in a notes commit (checked), nil when there is none.
    private func noteBytes(in notesCommit: GitObject, on annotated: ObjectID) throws -> [UInt8]? {
        var note: OpaquePointer?
        var raw = annotated.raw
        let code = git_note_commit_read(&note, repository.pointer, notesCommit.pointer, &raw)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "git_note_commit_read")
        guard let note else { return nil }
        let owned = GitNote(note, repository: repository)
        guard let id = git_note_id(owned.pointer) else { return nil }
        return try repository.withBlob(ObjectID(id.pointee)) { Array($0) }
    }

    // MARK: Reading

    /// The records on one commit (a revision; tags are peeled) and the lines that are not
    /// records, in note order; URL credentials in the records are masked.
    public func records(on commit: String) throws -> (records: [DeployRecord], problems: [String]) {
        let target = try repository.commitObject(commit).id
        guard let tip = try tip() else { return ([], []) }
        let ref = notesRef
        try NotesTree.check(tip, ref: ref)
        guard let bytes = try noteBytes(in: tip, on: target) else { return ([], []) }
        let (records, problems) = bytes.withUnsafeBytes { DeployRecord.parseNote($0) }
        return (records.map { $0.maskingUserinfo() }, problems)
    }

    /// `history`: the records matching `query`, newest first, as text lines or one JSON array
    /// (each record's keys plus `commit`, sorted), and the lines that are not records.
    ///
    /// With `cache`, a query without filters is answered from ``HistoryCache`` when the notes ref
    /// has not moved since the last such query, and stores its answer otherwise: repeated
    /// `history` then reads one file instead of every note.
    public func history(_ query: HistoryQuery, format: HistoryFormat, cache useCache: Bool = true) throws -> HistoryOutput {
        try history(query, format: format, cache: useCache, packOrderFrom: LedgerRows.packOrderFrom)
    }

    /// ``history(_:format:cache:)`` reading in pack order from `packOrderFrom` bytes of notes on.
    func history(_ query: HistoryQuery, format: HistoryFormat, cache useCache: Bool, packOrderFrom: Int) throws -> HistoryOutput {
        let ref = try checkedRef()
        guard let tip = try repository.notesCommit(ref) else {
            let empty = ByteArena()
            if format == .json { empty.append(static: "[]") }
            return HistoryOutput(empty, problems: [], isEmpty: true)
        }
        let tipID = tip.id
        let cache = useCache && query.selectsEverything ? HistoryCache(repository: repository) : nil
        if let cache, let cached = cache.load(tipID, format: format) { return cached }
        let rows = try LedgerRows.read(notesCommit: tip, ref: ref, text: format == .text, packOrderFrom: packOrderFrom)
        let keys = rows.select(query)
        let bytes = format == .json ? rows.json(keys) : rows.text(keys)
        if bytes.exhausted { throw LedgerError.outOfMemory(reading: ref) }
        let output = HistoryOutput(bytes, problems: rows.problems, isEmpty: keys.isEmpty)
        cache?.store(output, for: tipID, format: format)
        return output
    }
}
