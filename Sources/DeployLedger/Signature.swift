/// The identity written on notes commits.
///
/// CI machines usually have no `user.name`, so the ledger never asks git for one: callers pass the
/// CI actor, the git user, or ``Signature/lambdaDeploy``. Whatever they pass, the signature
/// written is ``sanitized``: names and e-mails come from outside (`user.name`, `GITHUB_ACTOR`,
/// Azure's `BUILD_REQUESTEDFOR`) and a newline or an angle bracket in them would write a commit
/// `git fsck` rejects.
public struct Signature: Sendable, Equatable {
    public var name: String
    public var email: String

    public init(name: String, email: String) {
        self.name = name
        self.email = email
    }

    /// The fixed identity used when no actor is known: `lambda-deploy <lambda-deploy@localhost>`.
    public static let lambdaDeploy = Signature(name: "lambda-deploy", email: "lambda-deploy@localhost")

    /// The longest name or e-mail kept (git has no limit; a line of megabytes helps nobody).
    static let maximumLength = 256

    /// The identity as git itself would write it, so the commit always passes `git fsck`.
    ///
    /// Git's rule (ident.c, `strbuf_addstr_without_crud`): drop "crud" from both ends (every
    /// byte up to and including the space, and `. , : ; < > " \ '`), then drop `<`, `>` and
    /// newlines inside. Stricter than git in one way: every other control character inside is
    /// dropped too, so no identity can carry an escape sequence into `git log`. A part left
    /// empty falls back to ``lambdaDeploy``'s.
    public var sanitized: Signature {
        let cleanName = Self.withoutCrud(name)
        let cleanEmail = Self.withoutCrud(email)
        return Signature(
            name: cleanName.isEmpty ? Self.lambdaDeploy.name : cleanName,
            email: cleanEmail.isEmpty ? Self.lambdaDeploy.email : cleanEmail)
    }

    private static func isCrud(_ byte: UInt8) -> Bool {
        byte <= 0x20 || byte == 0x2E || byte == 0x2C || byte == 0x3A || byte == 0x3B || byte == 0x3C
            || byte == 0x3E || byte == 0x22 || byte == 0x5C || byte == 0x27
    }

    static func withoutCrud(_ text: String) -> String {
        let bytes = Array(text.utf8.prefix(maximumLength * 4))
        guard let first = bytes.firstIndex(where: { !isCrud($0) }), let last = bytes.lastIndex(where: { !isCrud($0) }) else {
            return ""
        }
        let kept = bytes[first...last].filter { $0 >= 0x20 && $0 != 0x7F && $0 != 0x3C && $0 != 0x3E }
        // Cut at a character boundary, never inside a UTF-8 sequence.
        var result = String(decoding: kept, as: UTF8.self)
        if result.utf8.count > maximumLength {
            var cut = ""
            for character in result {
                if cut.utf8.count + character.utf8.count > maximumLength { break }
                cut.append(character)
            }
            result = cut
        }
        return result
    }
}
