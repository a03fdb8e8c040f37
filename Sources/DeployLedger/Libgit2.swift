internal import CLibgit2
import Foundation

// One-owner wrappers around libgit2 handles: one final class, `Libgit2Handle`, frees
// each handle in deinit; children hold their repository so it outlives them; nothing here is Sendable.

/// Initialises libgit2 exactly once per process; a global `let` is lazily and atomically set up.
///
/// Strict hash verification (re-hashing every object read) is turned off: git does not verify on
/// read either, and for `history` over 10,000 notes it costs about a third of the run time. The
/// object cache is turned off too: every note blob is read once (BENCHMARKS.md, history).
private let libgit2InitCount: Int32 = {
    let count = git_libgit2_init()
    _ = clibgit2_set_strict_hash_verification(0)
    _ = clibgit2_set_caching(0)
    return count
}()

/// Makes sure `git_libgit2_init()` ran before any other libgit2 call.
func ensureLibgit2() {
    _ = libgit2InitCount
}

/// The message libgit2 left for this thread, read right after the failing call.
func lastLibgit2Message() -> String {
    guard let error = git_error_last(), let message = error.pointee.message else {
        return "no details from libgit2"
    }
    return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Throws `LedgerError.libgit2` naming `call` when `code` is negative.
@discardableResult
func check(_ code: Int32, _ call: String) throws -> Int32 {
    if code < 0 {
        throw LedgerError.libgit2(call: call, code: code, message: lastLibgit2Message())
    }
    return code
}

// MARK: Object ids

/// A git object id (SHA-1) as a value.
struct ObjectID: Hashable, Sendable {
    var raw: git_oid

    init(_ raw: git_oid) { self.raw = raw }

    /// Parses 40 hex digits; nil for anything else.
    init?(hex: String) {
        guard hex.utf8.count == 40, hex.utf8.allSatisfy({ isHexDigit($0) }) else { return nil }
        var oid = git_oid()
        guard git_oid_fromstrn(&oid, hex, 40) == 0 else { return nil }
        raw = oid
    }

    var hex: String {
        var copy = raw
        return withUnsafeBytes(of: &copy.id) { bytes in
            hexString(bytes)
        }
    }

    static func == (lhs: ObjectID, rhs: ObjectID) -> Bool {
        var l = lhs.raw, r = rhs.raw
        return git_oid_cmp(&l, &r) == 0
    }

    func hash(into hasher: inout Hasher) {
        var copy = raw
        withUnsafeBytes(of: &copy.id) { hasher.combine(bytes: $0) }
    }
}

private let hexDigits = Array("0123456789abcdef".utf8)

func hexString(_ bytes: UnsafeRawBufferPointer) -> String {
    String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
        var i = 0
        for byte in bytes {
            buffer[i] = hexDigits[Int(byte >> 4)]
            buffer[i + 1] = hexDigits[Int(byte & 0x0f)]
            i += 2
        }
        return i
    }
}

func isHexDigit(_ c: UInt8) -> Bool {
    (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
}

// MARK: Handles

/// A kind of libgit2 handle: what frees it.
protocol Libgit2HandleKind {
    static func free(_ pointer: OpaquePointer)
}

/// Owns one libgit2 handle of `Kind`, frees it in deinit, and keeps its repository alive (so the
/// repository outlives every handle read from it).
final class Libgit2Handle<Kind: Libgit2HandleKind> {
    let pointer: OpaquePointer
    let repository: GitRepository

    init(_ pointer: OpaquePointer, repository: GitRepository) {
        self.pointer = pointer
        self.repository = repository
    }

    deinit { Kind.free(pointer) }
}

/// Owns a `git_object` (commits, trees, tags).
typealias GitObject = Libgit2Handle<GitObjectKind>
enum GitObjectKind: Libgit2HandleKind {
    static func free(_ pointer: OpaquePointer) { git_object_free(pointer) }
}

extension GitObject {
    var id: ObjectID { ObjectID(git_object_id(pointer).pointee) }
}

/// Owns a `git_reference`.
typealias GitReference = Libgit2Handle<GitReferenceKind>
enum GitReferenceKind: Libgit2HandleKind {
    static func free(_ pointer: OpaquePointer) { git_reference_free(pointer) }
}

/// Owns a `git_note`.
typealias GitNote = Libgit2Handle<GitNoteKind>
enum GitNoteKind: Libgit2HandleKind {
    static func free(_ pointer: OpaquePointer) { git_note_free(pointer) }
}

extension GitNote {
    /// The note's text (libgit2 keeps it NUL-terminated; a NUL inside a note ends it, as in git).
    var message: String {
        guard let text = git_note_message(pointer) else { return "" }
        return String(cString: text)
    }
}

/// Owns a `git_treebuilder`.
typealias GitTreeBuilder = Libgit2Handle<GitTreeBuilderKind>
enum GitTreeBuilderKind: Libgit2HandleKind {
    static func free(_ pointer: OpaquePointer) { git_treebuilder_free(pointer) }
}

/// Owns a `git_status_list`.
typealias GitStatusList = Libgit2Handle<GitStatusListKind>
enum GitStatusListKind: Libgit2HandleKind {
    static func free(_ pointer: OpaquePointer) { git_status_list_free(pointer) }
}

extension GitStatusList {
    var count: Int { git_status_list_entrycount(pointer) }
}

/// Owns a `git_config` (a snapshot, so string values stay valid while it lives).
typealias GitConfig = Libgit2Handle<GitConfigKind>
enum GitConfigKind: Libgit2HandleKind {
    static func free(_ pointer: OpaquePointer) { git_config_free(pointer) }
}

/// Owns a `git_signature` built from an explicit identity (never from user.name), always
/// ``Signature/sanitized``: the one place a signature is made.
final class GitSignature {
    let pointer: UnsafeMutablePointer<git_signature>

    init(_ signature: Signature) throws {
        ensureLibgit2()
        var out: UnsafeMutablePointer<git_signature>?
        let clean = signature.sanitized
        var code = git_signature_now(&out, clean.name, clean.email)
        if code < 0 {
            // Not expected after sanitizing; the fixed identity always works.
            code = git_signature_now(&out, Signature.lambdaDeploy.name, Signature.lambdaDeploy.email)
        }
        try check(code, "git_signature_now")
        guard let out else {
            throw LedgerError.libgit2(call: "git_signature_now", code: -1, message: "no signature returned")
        }
        pointer = out
    }

    deinit { git_signature_free(pointer) }
}

/// libgit2's one-time set-up, run on a background thread so it overlaps the executable's own start.
///
/// Debian's libgit2 (built with mbedTLS) parses the whole system CA bundle in
/// `git_libgit2_init`, 2 to 3 ms that nothing here needs (fetch and push go through the git CLI)
/// but every command pays. Started first thing, it runs while arguments are parsed and the config
/// is read; the first libgit2 call waits for it (the initializer runs once, atomically), so
/// nothing can see libgit2 half set up.
///
/// ``finish()`` must run before the process exits: `exit` tearing down OpenSSL (which libgit2's
/// libssh2 initialises) while the thread is still inside `git_libgit2_init` crashes the process.
/// The thread is joinable and `finish` joins it, so no exit can overlap it.
public final class GitLibraryStart: @unchecked Sendable {
    // Created and finished on the same (main) thread.
    private var thread: pthread_t?

    private init(thread: pthread_t?) {
        self.thread = thread
    }

    /// Starts the set-up on a new thread (or, if no thread can be made, leaves it to the first
    /// libgit2 call).
    public static func begin() -> GitLibraryStart {
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { _ in
            ensureLibgit2()
            return nil
        }, nil)
        return GitLibraryStart(thread: created == 0 ? thread : nil)
    }

    /// Waits until the background set-up is over and its thread has ended. Idempotent.
    public func finish() {
        guard let thread else { return }
        pthread_join(thread, nil)
        self.thread = nil
    }
}
