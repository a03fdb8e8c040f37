import Safety

/// One entry of a package as lint sees it: what Lambda will find under /var/task.
public struct PackageEntry: Sendable, Equatable {
    /// The zip entry name: a path relative to the zip root, `/`-separated.
    public var name: String
    /// The Unix mode the zip records (0o100644, 0o100755 or 0o120777).
    public var mode: UInt32
    /// Uncompressed size in bytes.
    public var size: Int64
    /// The link text, for a symlink.
    public var linkTarget: String?
    /// The first bytes of the few files lint reads (``PackageLint/inspects(_:)``); nil for others.
    public var inspected: [UInt8]?

    public init(name: String, mode: UInt32, size: Int64, linkTarget: String? = nil, inspected: [UInt8]? = nil) {
        self.name = name
        self.mode = mode
        self.size = size
        self.linkTarget = linkTarget
        self.inspected = inspected
    }

    public var isSymlink: Bool { mode & 0o170000 == 0o120000 }
    public var isExecutable: Bool { !isSymlink && mode & 0o111 != 0 }
}

/// What lint needs to know besides the entries. The function's configuration supplies the
/// handler and runtime; config `lint: {allow, disable}` and `--no-lint NAME` the two sets.
public struct LintOptions: Sendable, Equatable {
    /// The function's `Handler` (e.g. `app.handler`); nil skips the handler check for scripted runtimes.
    public var handler: String?
    /// The function's `Runtime` (e.g. `python3.12`, `nodejs20.x`, `provided.al2023`); nil skips the handler check.
    public var runtime: String?
    /// Whether the function has a build step (then a top-level `tests/` is worth a warning).
    public var hasBuildStep: Bool
    /// Lint names not to run (``PackageLint/Name``).
    public var disabled: Set<String>
    /// Entry paths that may ship even though a lint flags them (a folder path covers what is under it).
    public var allowed: Set<String>
    /// Above this one entry is worth a warning.
    public var largeEntryBytes: Int64

    public init(
        handler: String? = nil, runtime: String? = nil, hasBuildStep: Bool = false,
        disabled: Set<String> = [], allowed: Set<String> = [], largeEntryBytes: Int64 = 50 << 20
    ) {
        self.handler = handler
        self.runtime = runtime
        self.hasBuildStep = hasBuildStep
        self.disabled = disabled
        self.allowed = allowed
        self.largeEntryBytes = largeEntryBytes
    }
}

/// One problem lint found: printed as one line naming the file and the fix.
public struct LintFinding: Sendable, Codable, Equatable {
    public enum Severity: String, Sendable, Codable {
        /// The package is refused (nothing is uploaded).
        case error
        case warning
    }

    /// The lint's stable name, for `--no-lint NAME` and config `lint.disable`.
    public var lint: String
    public var severity: Severity
    /// The entry (or folder) the finding is about; empty when it is about something missing.
    public var path: String
    /// What is wrong and what to do, one line, outside values escaped.
    public var message: String

    public init(lint: PackageLint.Name, severity: Severity, path: String, message: String) {
        self.lint = lint.rawValue
        self.severity = severity
        self.path = path
        self.message = message
    }

    /// The finding as printed: the message and how to turn the lint off.
    public var line: String { "\(message) [lint \(lint)]" }
}

/// Checks a package before it is uploaded: pure functions over its entries.
public enum PackageLint {
    /// Stable names: they appear in config files and command lines, so never rename one.
    public enum Name: String, Sendable, CaseIterable {
        /// The handler's file (or `bootstrap`) is where Lambda will look for it.
        case handler
        /// No file that looks like a key, token or credentials ships.
        case secretFiles = "secret-files"
        /// Warn about entries big enough to matter.
        case largeEntries = "large-entries"
        /// Warn about caches and test folders that only matter on a developer's machine.
        case devFiles = "dev-files"
    }

    /// How much of an inspected file lint keeps (a token is near the start of an .npmrc; a
    /// private key's header starts a PEM block).
    public static let inspectedBytes = 1 << 20

    /// The names in `names` that are not lints, for a config or command-line check.
    public static func unknownNames<S: Sequence<String>>(_ names: S) -> [String] {
        names.filter { Name(rawValue: $0) == nil }
    }

    /// Whether lint reads the content of the file named `name` (`.npmrc` for tokens, `*.pem` for
    /// private keys): the packager keeps its first ``inspectedBytes`` bytes.
    static func inspects(_ name: [UInt8]) -> Bool {
        let base = name.lastIndex(of: 47).map { name[($0 + 1)...] } ?? name[...]
        return base.elementsEqual(".npmrc".utf8) || base.count > 4 && base.suffix(4).elementsEqual(".pem".utf8)
    }

    /// Every finding for the package, errors first, each once.
    public static func check(_ entries: [PackageEntry], _ settings: LintOptions) -> [LintFinding] {
        var findings: [LintFinding] = []
        func enabled(_ name: Name) -> Bool { !settings.disabled.contains(name.rawValue) }
        func allowed(_ path: String) -> Bool {
            settings.allowed.contains(path) || settings.allowed.contains { path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
        }
        if enabled(.handler), let finding = handlerFinding(entries, settings) { findings.append(finding) }
        if enabled(.secretFiles) {
            for entry in entries where !allowed(entry.name) {
                if let reason = secretReason(entry) {
                    findings.append(LintFinding(
                        lint: .secretFiles, severity: .error, path: entry.name,
                        message: "\(shown(entry.name)) looks like a secret (\(reason)); remove it or add it to .lambdaignore, or list it in lint.allow if it must ship"))
                }
            }
        }
        if enabled(.largeEntries) {
            for entry in entries where entry.size > settings.largeEntryBytes && !allowed(entry.name) {
                findings.append(LintFinding(
                    lint: .largeEntries, severity: .warning, path: entry.name,
                    message: "\(shown(entry.name)) is \(megabytes(entry.size)) MB unzipped, a large share of Lambda's 250 MB; check it belongs in the function or add it to .lambdaignore"))
            }
        }
        if enabled(.devFiles) { findings += devFolderFindings(entries, settings, allowed: allowed) }
        return findings
    }

    // MARK: handler

    private enum Language {
        case python, node, ruby
    }

    private static func handlerFinding(_ entries: [PackageEntry], _ settings: LintOptions) -> LintFinding? {
        guard let runtime = settings.runtime?.lowercased() else { return nil }
        let byName = Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        if runtime.hasPrefix("provided") { return bootstrapFinding(byName, runtime: runtime) }
        let language: Language
        if runtime.hasPrefix("python") {
            language = .python
        } else if runtime.hasPrefix("nodejs") {
            language = .node
        } else if runtime.hasPrefix("ruby") {
            language = .ruby
        } else {
            return nil  // java, dotnet: the handler names a class in a jar or assembly.
        }
        guard let handler = settings.handler, !handler.isEmpty else { return nil }
        guard let candidates = moduleFiles(handler: handler, language: language) else {
            return LintFinding(
                lint: .handler, severity: .error, path: "",
                message: "handler \(shown(handler)) is not of the form FILE.FUNCTION the \(shown(runtime)) runtime expects; fix the function's Handler setting")
        }
        if candidates.contains(where: { byName[$0] != nil }) { return nil }
        if language == .python, let module = candidates.first?.dropLast(3),
            entries.contains(where: { $0.name.hasPrefix(module + ".") && $0.name.hasSuffix(".so") && !$0.name.dropFirst(module.count + 1).contains("/") })
        {
            return nil  // A compiled extension module (app.cpython-312-x86_64-linux-gnu.so).
        }
        let expected = candidates[0]
        // The classic mistake: the folder above the code was packaged, so app.py sits under src/.
        // The shallowest such file is the likely one; dependencies' files are not candidates.
        let misplaced = entries.compactMap { entry -> (found: String, folder: String)? in
            guard !entry.name.split(separator: "/").contains(where: { $0 == "node_modules" || $0 == "site-packages" }) else { return nil }
            for candidate in candidates where entry.name.hasSuffix("/" + candidate) {
                return (entry.name, String(entry.name.dropLast(candidate.count)))
            }
            return nil
        }.min { a, b in
            let depthA = a.folder.split(separator: "/").count, depthB = b.folder.split(separator: "/").count
            return depthA != depthB ? depthA < depthB : a.found < b.found
        }
        if let (found, folder) = misplaced {
            return LintFinding(
                lint: .handler, severity: .error, path: found,
                message: "handler \(shown(handler)) makes Lambda load \(shown(expected)) from the zip root, but the package has it at \(shown(found)) (was the folder above packaged?); package \(shown(folder)) instead, or set the handler to \(shown(folder + handler))")
        }
        return LintFinding(
            lint: .handler, severity: .error, path: expected,
            message: "handler \(shown(handler)) makes Lambda load \(shown(expected)) from the zip root, and the package has no such file; add it or fix the function's Handler setting")
    }

    /// The files Lambda's runtime may load for `handler`, the usual one first; nil when malformed.
    private static func moduleFiles(handler: String, language: Language) -> [String]? {
        switch language {
        case .python:
            // awslambdaric: module, function = handler.rsplit(".", 1); "/" and "." both separate packages.
            guard let dot = handler.lastIndex(of: "."), dot != handler.startIndex, handler.index(after: dot) != handler.endIndex else { return nil }
            let module = String(handler[..<dot].map { $0 == "." ? "/" : $0 })
            guard !module.hasPrefix("/"), !module.hasSuffix("/") else { return nil }
            return [module + ".py", module + "/__init__.py", module + ".pyc"]
        case .node:
            // The runtime interface client: the module is the last path segment up to its first dot,
            // tried with .js, .mjs and .cjs, then as Node would require it (a file or a folder).
            let slash = handler.lastIndex(of: "/").map { handler.index(after: $0) } ?? handler.startIndex
            let folder = handler[..<slash]
            let base = handler[slash...]
            guard let dot = base.firstIndex(of: "."), dot != base.startIndex, base.index(after: dot) != base.endIndex else { return nil }
            let module = String(folder + base[..<dot])
            return [module + ".js", module + ".mjs", module + ".cjs", module, module + "/index.js", module + "/package.json"]
        case .ruby:
            // aws_lambda_ric: FILE.METHOD or FILE.CLASS.METHOD; it requires FILE.rb.
            guard let dot = handler.firstIndex(of: "."), dot != handler.startIndex, handler.index(after: dot) != handler.endIndex else { return nil }
            return [String(handler[..<dot]) + ".rb"]
        }
    }

    private static func bootstrapFinding(_ byName: [String: PackageEntry], runtime: String) -> LintFinding? {
        // Follow a bootstrap symlink inside the package (the walker made sure it resolves).
        var name = "bootstrap"
        var entry = byName[name]
        var hops = 0
        while let link = entry, link.isSymlink, let target = link.linkTarget, hops < 40 {
            name = normalized(parentOf(name) + target)
            entry = byName[name]
            hops += 1
        }
        guard let entry else {
            if let elsewhere = byName.keys.sorted().first(where: { $0.hasSuffix("/bootstrap") }) {
                let folder = String(elsewhere.dropLast("bootstrap".count))
                return LintFinding(
                    lint: .handler, severity: .error, path: elsewhere,
                    message: "the \(shown(runtime)) runtime runs bootstrap at the zip root, but the package has it at \(shown(elsewhere)); package \(shown(folder)) instead")
            }
            return LintFinding(
                lint: .handler, severity: .error, path: "bootstrap",
                message: "the \(shown(runtime)) runtime runs an executable named bootstrap at the zip root, and the package has none; build it into the function directory as bootstrap")
        }
        guard entry.isExecutable else {
            return LintFinding(
                lint: .handler, severity: .error, path: "bootstrap",
                message: "bootstrap is not executable (mode \(String(entry.mode & 0o777, radix: 8))), so the \(shown(runtime)) runtime cannot start it; run chmod +x on it before packaging")
        }
        return nil
    }

    private static func parentOf(_ name: String) -> String {
        guard let slash = name.lastIndex(of: "/") else { return "" }
        return String(name[...slash])
    }

    /// `a/./b/../c` as `a/c`.
    private static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                _ = parts.popLast()
            } else {
                parts.append(part)
            }
        }
        return parts.joined(separator: "/")
    }

    // MARK: secrets

    private static func secretReason(_ entry: PackageEntry) -> String? {
        let name = entry.name
        let base = name.lastIndex(of: "/").map { name[name.index(after: $0)...] } ?? name[...]
        if base == ".env" { return "an environment file, which usually holds keys" }
        if base.hasPrefix(".env."), ![".example", ".sample", ".template"].contains(where: { base.hasSuffix($0) }) {
            return "an environment file, which usually holds keys"
        }
        if ["id_rsa", "id_ed25519", "id_ecdsa", "id_dsa"].contains(where: { base.hasPrefix($0) }), !base.hasSuffix(".pub") {
            return "an SSH private key"
        }
        if name == ".aws/credentials" || name.hasSuffix("/.aws/credentials") { return "AWS credentials" }
        if base.hasSuffix(".tfstate") || base.hasSuffix(".tfstate.backup") {
            return "Terraform state, which records the secrets of its resources"
        }
        // A .pem is often a public CA bundle (certifi's cacert.pem ships with requests); only a
        // private key is a secret.
        if base.hasSuffix(".pem"), let bytes = entry.inspected, contains(bytes, "PRIVATE KEY-----".utf8) {
            return "a PEM private key"
        }
        if base == ".npmrc", let bytes = entry.inspected, contains(bytes, "_authToken".utf8) {
            return "an npm registry token (_authToken)"
        }
        return nil
    }

    // MARK: dev-only folders

    private static func devFolderFindings(
        _ entries: [PackageEntry], _ settings: LintOptions, allowed: (String) -> Bool
    ) -> [LintFinding] {
        // What each kind is, the line that excludes it, and the folder it makes dev-only given an
        // entry's path components (as byte slices: this runs over every entry of every package).
        typealias Parts = [Substring.UTF8View]
        func index(_ parts: Parts, of name: String) -> Int? { parts.dropLast().firstIndex { $0.elementsEqual(name.utf8) } }
        let kinds: [(label: String, ignoreLine: String, marker: String, folder: (Parts) -> Int?)] = [
            ("__pycache__/ folders (Python bytecode caches)", "__pycache__/", "__pycache__", { index($0, of: "__pycache__").map { $0 + 1 } }),
            (".pytest_cache/ folders", ".pytest_cache/", ".pytest_cache", { index($0, of: ".pytest_cache").map { $0 + 1 } }),
            ("node_modules/.cache/ folders (build tool caches)", "node_modules/.cache/", "/.cache/", { parts in
                guard parts.count > 2 else { return nil }
                return (0..<(parts.count - 2)).first { parts[$0].elementsEqual("node_modules".utf8) && parts[$0 + 1].elementsEqual(".cache".utf8) }.map { $0 + 2 }
            }),
            ("a top-level tests/ folder next to a build step's output", "/tests/", "tests/", { parts in
                settings.hasBuildStep && parts.count > 1 && parts[0].elementsEqual("tests".utf8) ? 1 : nil
            }),
        ]
        var findings: [LintFinding] = []
        for kind in kinds {
            var folders: [String] = []
            var files = 0
            for entry in entries where contains(entry.name.utf8, kind.marker.utf8) {
                let parts = entry.name[...].utf8.split(separator: 47, omittingEmptySubsequences: false)
                guard let depth = kind.folder(parts) else { continue }
                let folder = String(decoding: Array(parts.prefix(depth).joined(separator: [47])), as: UTF8.self)
                if allowed(folder) || allowed(entry.name) { continue }
                files += 1
                if folders.last != folder && !folders.contains(folder) { folders.append(folder) }
            }
            guard let first = folders.first else { continue }
            let where_ = folders.count == 1 ? "\(shown(first))/ holds \(files) file\(files == 1 ? "" : "s")" : "\(folders.count) folders hold \(files) files, e.g. \(shown(first))/"
            findings.append(LintFinding(
                lint: .devFiles, severity: .warning, path: first,
                message: "\(kind.label) only matter on a developer's machine: \(where_); add \(kind.ignoreLine) to .lambdaignore"))
        }
        return findings
    }

    /// Whether `needle` occurs in `haystack` (bytes).
    private static func contains<H: Collection<UInt8>, N: Collection<UInt8>>(_ haystack: H, _ needle: N) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return needle.isEmpty }
        var index = haystack.startIndex
        while let start = haystack[index...].firstIndex(of: first) {
            if haystack[start...].starts(with: needle) { return true }
            index = haystack.index(after: start)
        }
        return false
    }

    private static func shown(_ text: String) -> String { DisplayText.excerpt(text, limit: 300) }

    private static func megabytes(_ bytes: Int64) -> String {
        String(bytes / 1_000_000) + "." + String((bytes % 1_000_000) / 100_000)
    }
}
