internal import CLibgit2
public import Foundation

/// Which records `Ledger.history` returns.
public struct HistoryQuery: Sendable, Equatable {
    public var alias: String?
    public var function: String?
    /// Only records at or after this time.
    public var since: Date?
    /// At most this many entries (newest first); nil for all.
    public var limit: Int?

    public init(alias: String? = nil, function: String? = nil, since: Date? = nil, limit: Int? = nil) {
        self.alias = alias
        self.function = function
        self.since = since
        self.limit = limit
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
/// history keeps every version, and `git notes`/`git log --notes` read the result.
public struct Ledger {
    public let repository: GitRepository
    /// The full notes ref name (`deploys` is expanded to `refs/notes/deploys`, as git does).
    public let notesRef: String

    public init(repository: GitRepository, notesRef: String = "refs/notes/deploys") {
        self.repository = repository
        self.notesRef = notesRef.hasPrefix("refs/") ? notesRef : "refs/notes/" + notesRef
    }

    // MARK: Writing

    /// Appends `record` as a new line to the note on `commit` (a revision; tags are peeled).
    ///
    /// Existing lines are never dropped. The new notes commit is built on the notes commit that
    /// was read and the ref moves only if nobody moved it meanwhile (compare-and-swap), retried a
    /// few times, so two writers in one repository cannot lose each other's lines.
    public func append(_ record: DeployRecord, to commit: String, author: Signature) throws {
        let target = try repository.commitObject(commit).id
        let line = try record.jsonLine()
        let signature = try GitSignature(author)
        for _ in 0..<8 {
            let tip = try repository.referenceTarget(notesRef)
            let tipCommit = try tip.map { try repository.lookupCommit($0) }
            var existing = ""
            if let tipCommit {
                existing = try readNote(in: tipCommit, on: target) ?? ""
            }
            if !existing.isEmpty && !existing.hasSuffix("\n") { existing += "\n" }
            let message = existing + line + "\n"

            var newCommit = git_oid()
            var blob = git_oid()
            var annotated = target.raw
            let code = git_note_commit_create(
                &newCommit, &blob, repository.pointer, tipCommit?.pointer,
                signature.pointer, signature.pointer, &annotated, message, 1)
            if code < 0 {
                throw LedgerError.cannotWriteNote(
                    commit: target.hex, notesRef: notesRef,
                    reason: "git_note_commit_create: \(lastLibgit2Message())")
            }
            let moved = try repository.updateReference(
                notesRef, to: ObjectID(newCommit), expected: tip,
                message: "notes: deploy record added by lambda-deploy")
            if moved { return }
        }
        throw LedgerError.cannotWriteNote(
            commit: target.hex, notesRef: notesRef,
            reason: "the notes ref kept changing while writing; retry")
    }

    /// The note on `annotated` in the notes commit, nil when there is none.
    private func readNote(in notesCommit: GitObject, on annotated: ObjectID) throws -> String? {
        var note: OpaquePointer?
        var raw = annotated.raw
        let code = git_note_commit_read(&note, repository.pointer, notesCommit.pointer, &raw)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "git_note_commit_read")
        guard let note else { return nil }
        return GitNote(note, repository: repository).message
    }

    // MARK: Reading

    /// The records on one commit (a revision; tags are peeled) and the lines that are not records.
    public func records(on commit: String) throws -> (records: [DeployRecord], problems: [String]) {
        let target = try repository.commitObject(commit).id
        guard let tip = try repository.referenceTarget(notesRef) else { return ([], []) }
        let text = try readNote(in: try repository.lookupCommit(tip), on: target) ?? ""
        return DeployRecord.parseNote(text)
    }

    /// Every record in the ledger, newest first by record time.
    ///
    /// Lines that are not records are skipped here; use ``records(on:)`` to see them.
    public func allEntries() throws -> [LedgerEntry] {
        try scan().entries
    }

    /// Every record plus the problems found, newest first.
    public func scan() throws -> (entries: [LedgerEntry], problems: [String]) {
        try scan(parallelFrom: 2048)
    }

    /// ``scan()`` using several threads once there are at least `parallelFrom` notes.
    func scan(parallelFrom threshold: Int) throws -> (entries: [LedgerEntry], problems: [String]) {
        var iterator: OpaquePointer?
        let code = git_note_iterator_new(&iterator, repository.pointer, notesRef)
        if code == GIT_ENOTFOUND.rawValue { return ([], []) }
        try check(code, "git_note_iterator_new")
        guard let iterator else { return ([], []) }
        let notes = GitNoteIterator(iterator, repository: repository)

        var notesList: [NotePair] = []
        while let (blob, annotated) = try notes.next() {
            notesList.append(NotePair(blob: blob, annotated: annotated))
        }
        var chunks = try readChunks(notesList, parallelFrom: threshold)
        var entries = chunks[0].entries
        var keys = chunks[0].keys
        var problems = chunks[0].problems
        for index in chunks.indices.dropFirst() {
            entries.append(contentsOf: chunks[index].entries)
            keys.append(contentsOf: chunks[index].keys)
            problems.append(contentsOf: chunks[index].problems)
        }
        chunks.removeAll()
        // Sort small (key, index) pairs, not the entries: moving large structs costs retains.
        var order = Array(0..<entries.count)
        order.sort { lhs, rhs in
            if keys[lhs] != keys[rhs] { return keys[lhs] > keys[rhs] }
            if entries[lhs].commit != entries[rhs].commit { return entries[lhs].commit < entries[rhs].commit }
            return lhs < rhs
        }
        applyPermutation(order, to: &entries)
        return (entries, problems)
    }

    /// Reads and parses the note blobs, split over a few threads when there are many: `history`
    /// over 10,000 records must keep up with `git log --notes`, and inflating and parsing is the
    /// bulk of the work. Each thread opens its own repository handle (libgit2 handles are not
    /// shared between threads).
    private func readChunks(_ notesList: [NotePair], parallelFrom threshold: Int) throws -> [ParsedChunk] {
        let workers = readerThreads(for: notesList.count, parallelFrom: threshold)
        if workers == 1 {
            return [try Self.parseChunk(notesList[...], repository: repository)]
        }
        let gitDir = repository.gitDir
        let slots = ChunkSlots(count: workers)
        let size = (notesList.count + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let range = (worker * size)..<min(notesList.count, (worker + 1) * size)
            do {
                let repo = try GitRepository.open(gitDir: gitDir)
                slots.set(worker, .success(try Self.parseChunk(notesList[range], repository: repo)))
            } catch {
                slots.set(worker, .failure(error))
            }
        }
        return try slots.results()
    }

    private static func parseChunk(_ notes: ArraySlice<NotePair>, repository: GitRepository) throws -> ParsedChunk {
        var parser = RecordLineParser()
        var chunk = ParsedChunk()
        chunk.entries.reserveCapacity(notes.count)
        chunk.keys.reserveCapacity(notes.count)
        for note in notes {
            let blob = try repository.lookupBlob(note.blob)
            let commit = note.annotated.hex
            blob.withBytes { bytes in
                parser.parseLines(bytes) { lineNumber, result in
                    switch result {
                    case let .success(record):
                        chunk.keys.append(RecordTime.secondsSince1970(record.time) ?? -Double.infinity)
                        chunk.entries.append(LedgerEntry(commit: commit, record: record))
                    case let .failure(problem):
                        chunk.problems.append("note on \(commit) line \(lineNumber): \(problem.text)")
                    }
                }
            }
        }
        return chunk
    }

    /// `history --json`: the records matching `query` as one JSON array, newest first, each
    /// record's keys plus `commit`, sorted (byte for byte ``LedgerEntry/jsonArray(_:)`` of
    /// ``history(_:)``), and the lines that are not records.
    ///
    /// Reads lines lambda-deploy wrote without decoding them (see ``HistoryTable``). With
    /// `cache`, an unfiltered query (no alias, function, since or limit) is answered from
    /// ``HistoryCache`` when the notes ref has not moved since the last such query, and stores
    /// its answer otherwise: repeated `history --json` then reads one file instead of every note.
    public func historyJSON(_ query: HistoryQuery, cache useCache: Bool = true) throws -> HistoryOutput {
        try historyJSON(query, cache: useCache, parallelFrom: 2048)
    }

    /// ``historyJSON(_:cache:)`` reading on several threads from `parallelFrom` notes on.
    func historyJSON(_ query: HistoryQuery, cache useCache: Bool, parallelFrom: Int) throws -> HistoryOutput {
        guard let tip = try repository.referenceTarget(notesRef) else {
            let empty = ByteArena()
            Array("[]".utf8).withUnsafeBytes { empty.append($0) }
            return HistoryOutput(json: empty, problems: [])
        }
        let unfiltered = query.alias == nil && query.function == nil && query.since == nil && query.limit == nil
        let cache = useCache && unfiltered ? HistoryCache(repository: repository) : nil
        if let cache, let cached = cache.load(tip) { return cached }
        let table = try HistoryTable.read(notesCommit: try repository.lookupCommit(tip), parallelFrom: parallelFrom)
        let json = table.json(query, parallelFrom: parallelFrom)
        if json.exhausted {
            throw LedgerError.libgit2(call: "history", code: -1, message: "out of memory while printing the notes")
        }
        let output = HistoryOutput(json: json, problems: table.problems)
        cache?.store(output, for: tip)
        return output
    }

    /// Records matching the query, newest first.
    public func history(_ query: HistoryQuery) throws -> [LedgerEntry] {
        let since = query.since?.timeIntervalSince1970
        let all = try allEntries()
        if query.alias == nil && query.function == nil && since == nil && (query.limit ?? .max) >= all.count {
            return all
        }
        var result: [LedgerEntry] = []
        for entry in all {
            if let alias = query.alias, entry.record.alias != alias { continue }
            if let function = query.function, entry.record.function != function { continue }
            if let since {
                guard let seconds = RecordTime.secondsSince1970(entry.record.time), seconds >= since else { continue }
            }
            result.append(entry)
            if let limit = query.limit, result.count >= limit { break }
        }
        return result
    }

    /// The newest record for an alias (optionally of one function and one outcome).
    public func latest(alias: String, function: String? = nil, result: DeployRecord.Outcome? = nil) throws -> LedgerEntry? {
        try allEntries().first { entry in
            entry.record.alias == alias
                && (function == nil || entry.record.function == function)
                && (result == nil || entry.record.result == result)
        }
    }
}

/// Reorders `entries` so that `entries[i]` becomes the old `entries[order[i]]`, moving elements
/// instead of copying them (copying a record retains each of its strings).
func applyPermutation<T>(_ order: [Int], to entries: inout [T]) {
    precondition(order.count == entries.count)
    var done = [Bool](repeating: false, count: order.count)
    entries.withUnsafeMutableBufferPointer { buffer in
        guard let base = buffer.baseAddress else { return }
        for start in 0..<order.count where !done[start] {
            done[start] = true
            if order[start] == start { continue }
            let saved = (base + start).move()
            var hole = start
            while true {
                let source = order[hole]
                if source == start {
                    (base + hole).initialize(to: saved)
                    break
                }
                (base + hole).moveInitialize(from: base + source, count: 1)
                done[source] = true
                hole = source
            }
        }
    }
}

/// A note: its blob and the object it annotates.
struct NotePair: Sendable {
    var blob: ObjectID
    var annotated: ObjectID
}

/// What one thread parsed.
struct ParsedChunk: Sendable {
    var entries: [LedgerEntry] = []
    var keys: [Double] = []
    var problems: [String] = []
}

/// One result slot per worker thread; each worker writes only its own slot.
private final class ChunkSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<ParsedChunk, any Error>?]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ result: Result<ParsedChunk, any Error>) {
        lock.lock()
        slots[index] = result
        lock.unlock()
    }

    func results() throws -> [ParsedChunk] {
        lock.lock()
        defer { lock.unlock() }
        return try slots.map { slot in
            guard let slot else { throw LedgerError.libgit2(call: "history", code: -1, message: "a reader thread did not finish") }
            return try slot.get()
        }
    }
}
