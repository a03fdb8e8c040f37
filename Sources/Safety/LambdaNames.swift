/// Lambda's own naming rules, checked before any AWS call so a bad name fails at load time with
/// a message, not halfway through a deploy with an AWS error.
public enum LambdaNames {
    /// Why `name` is not a valid alias name, or nil when it is.
    ///
    /// Lambda's rule (CreateAlias `Name`): `(?!^[0-9]+$)([a-zA-Z0-9-_]+)`, 1 to 128 characters.
    public static func aliasProblem(_ name: String) -> String? {
        if name.isEmpty { return "an alias name cannot be empty" }
        if name.utf8.count > 128 { return "an alias name has at most 128 characters" }
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F
        }
        if !allowed { return "Lambda allows only letters, digits, '-' and '_' in alias names" }
        if name.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            return "an alias name cannot be all digits (Lambda would read it as a version)"
        }
        return nil
    }

    /// Why `name` is not a function name lambda-deploy accepts (a name, a partial or a full ARN,
    /// up to 170 characters of `[a-zA-Z0-9-_:]` as Lambda allows), or nil when it is.
    public static func functionProblem(_ name: String) -> String? {
        if name.isEmpty { return "a function name cannot be empty" }
        if name.utf8.count > 170 { return "a function name has at most 170 characters" }
        if name.hasPrefix("-") { return "a function name cannot start with '-'" }
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || byte == 0x3A
        }
        return allowed ? nil : "Lambda allows only letters, digits, '-', '_' and ':' (in an ARN) in function names"
    }

    /// A published version number: digits only, no leading zero (`$LATEST` is not a version).
    public static func isVersion(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 20 && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
            && !(text.utf8.count > 1 && text.utf8.first == 0x30)
    }
}
