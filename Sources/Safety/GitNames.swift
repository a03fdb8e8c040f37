/// Names that reach a `git` command line or a libgit2 call, checked for what they are.
///
/// Everything here is data from outside (a config file anyone with push access can change, CI
/// variables, a server's answer): a value that passes can never be read by git as an option, and
/// a value that fails gets a reason a user can act on. Callers still put `--end-of-options`
/// before such values where git accepts it; validation is the first wall, not the only one.
public enum GitNames {
    /// Why `name` is not a full ref name by git's `check-ref-format` rules, or nil when it is.
    ///
    /// The rules (git-check-ref-format(1)): at least one `/`; no component starting with `.` or
    /// ending with `.lock`; no `..`; no control characters, space, `~ ^ : ? * [ \`; no leading,
    /// trailing or doubled `/`; not ending with `.`; no `@{`; not `@`. Stricter than git in one
    /// way: a ref must start with `refs/`, so it can never look like an option.
    public static func refProblem(_ name: String) -> String? {
        if name.isEmpty { return "a ref name cannot be empty" }
        if name.utf8.count > 1024 { return "a ref name has at most 1024 bytes" }
        guard name.hasPrefix("refs/") else { return "a ref name must start with refs/ (e.g. refs/notes/deploys)" }
        if name.hasSuffix("/") { return "a ref name cannot end with '/'" }
        if name.hasSuffix(".") { return "a ref name cannot end with '.'" }
        if name.contains("//") { return "a ref name cannot contain '//'" }
        if name.contains("..") { return "a ref name cannot contain '..'" }
        if name.contains("@{") { return "a ref name cannot contain '@{'" }
        for scalar in name.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7f { return "a ref name cannot contain control characters" }
            if " ~^:?*[\\".unicodeScalars.contains(scalar) {
                return "a ref name cannot contain \(scalar == " " ? "a space" : "'\(scalar)'")"
            }
        }
        for component in name.split(separator: "/", omittingEmptySubsequences: false) {
            if component.hasPrefix(".") { return "no part of a ref name can start with '.'" }
            if component.hasSuffix(".lock") { return "no part of a ref name can end with '.lock'" }
        }
        return nil
    }

    /// Why `name` is not a usable remote for fetch and push, or nil when it is.
    ///
    /// A remote is a configured remote name (git's own rule: `refs/remotes/NAME/x` must be a
    /// valid ref) or a repository URL (`https://`, `http://`, `ssh://`, `git://`, `file://`, or
    /// scp-like `user@host:path`). Never anything starting with `-`: git would read that as an
    /// option (`--upload-pack=...` runs a command).
    public static func remoteProblem(_ name: String) -> String? {
        if name.isEmpty { return "a remote cannot be empty" }
        if name.hasPrefix("-") { return "a remote cannot start with '-' (git would read it as an option)" }
        if name.utf8.count > 2048 { return "a remote has at most 2048 bytes" }
        if name.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7f }) {
            return "a remote cannot contain spaces or control characters"
        }
        if let scheme = name.range(of: "://") {
            let prefix = name[..<scheme.lowerBound].lowercased()
            guard ["https", "http", "ssh", "git", "file"].contains(prefix) else {
                return "a remote URL must use https, http, ssh, git or file"
            }
            return name[scheme.upperBound...].isEmpty ? "a remote URL needs a host or path" : nil
        }
        if isScpLike(name) { return nil }
        if refProblem("refs/remotes/" + name + "/x") != nil {
            return "a remote name is a git remote (e.g. origin) or a repository URL"
        }
        return nil
    }

    /// `git@github.com:org/repo.git`: user@host:path, host without '/'.
    private static func isScpLike(_ name: String) -> Bool {
        guard let colon = name.firstIndex(of: ":") else { return false }
        let head = name[..<colon]
        guard let at = head.firstIndex(of: "@") else { return false }
        let user = head[..<at], host = head[head.index(after: at)...]
        let hostOK = !host.isEmpty && host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }
        let userOK = !user.isEmpty && user.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
        return hostOK && userOK && name.index(after: colon) != name.endIndex
    }

    /// A full object id: 40 hexadecimal digits (SHA-1) or 64 (SHA-256), lower case.
    public static func isObjectID(_ text: String) -> Bool {
        (text.utf8.count == 40 || text.utf8.count == 64)
            && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// Why `name` is not a branch name git would accept (`refs/heads/NAME` valid, no leading `-`).
    public static func branchProblem(_ name: String) -> String? {
        if name.hasPrefix("-") { return "a branch name cannot start with '-'" }
        if name == "HEAD" { return "HEAD is not a branch name" }
        return refProblem("refs/heads/" + name).map { $0.replacingOccurrences(of: "a ref name", with: "a branch name") }
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

extension Substring {
    fileprivate func range(of target: String) -> Range<Index>? {
        guard let first = target.first else { return nil }
        var index = startIndex
        while index < endIndex {
            if self[index] == first, self[index...].hasPrefix(target) {
                return index..<self.index(index, offsetBy: target.count)
            }
            index = self.index(after: index)
        }
        return nil
    }
}

extension String {
    fileprivate func range(of target: String) -> Range<Index>? {
        Substring(self).range(of: target)
    }
}
