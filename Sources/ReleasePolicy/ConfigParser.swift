internal import Yams

extension DeployConfig {
    /// Parses the text of `lambda-deploy.yml` (the caller reads the file; this stays pure).
    ///
    /// Strict on purpose: an unknown key at any level is an error naming it (with the closest
    /// known key), so a typo like `brances:` cannot silently fall back to the defaults and deploy
    /// prod from the wrong branch. `file` is only used in messages.
    public static func parse(yaml: String, file: String) throws(PolicyError) -> DeployConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw Self.syntaxError(error, file: file)
        } catch {
            throw .configSyntax(file: file, line: nil, problem: String(describing: error))
        }
        guard let root, !root.isNull else { return .default }
        return try ConfigReader(file: file).config(root)
    }

    private static func syntaxError(_ error: YamlError, file: String) -> PolicyError {
        switch error {
        case let .scanner(context, problem, mark, _),
             let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let detail = context.map { "\(problem) \($0.text)" } ?? problem
            return .configSyntax(file: file, line: mark.line, problem: detail)
        case let .reader(problem, _, _, _):
            return .configSyntax(file: file, line: nil, problem: problem)
        default:
            return .configSyntax(file: file, line: nil, problem: String(describing: error))
        }
    }
}

/// Walks the YAML node tree with the file name and key path at hand for every message.
struct ConfigReader {
    let file: String

    static let topLevelKeys = [
        "function", "directory", "region", "s3", "branches", "protected", "tags", "events", "matrix",
        "hook", "notes", "gateway", "exclude", "functions",
    ]
    static let s3Keys = ["bucket", "prefix"]
    static let hookKeys = ["alias", "branches", "remote", "allowDirty", "timeout", "blockPushOnFailure"]
    static let notesKeys = ["ref", "push", "remote"]
    static let gatewayKeys = ["api", "aliases", "method", "path"]
    static let functionKeys = ["name", "directory", "region", "s3", "branches", "tags", "protected", "exclude"]
    static let httpMethods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"]

    func config(_ root: Node) throws(PolicyError) -> DeployConfig {
        let keys = try entries(root, path: "", known: Self.topLevelKeys)
        var config = DeployConfig.default
        config.function = try string(keys["function"], path: "function")
        config.directory = try string(keys["directory"], path: "directory")
        config.region = try string(keys["region"], path: "region")
        config.s3 = try s3(keys["s3"], path: "s3")
        if let node = keys["branches"], !node.isNull {
            config.branches = try aliasRules(node, path: "branches")
        }
        if let list = try aliasList(keys["protected"], path: "protected") {
            config.protected = list
        }
        if let node = keys["tags"], !node.isNull {
            config.tags = try aliasRules(node, path: "tags")
        }
        if let list = try stringList(keys["events"], path: "events") {
            var events = Set<AllowedEvent>()
            for (index, name) in list.enumerated() {
                guard let event = AllowedEvent(rawValue: name) else {
                    throw .invalidValue(
                        file: file, line: line(keys["events"]?.sequence?[index]), keyPath: "events", value: name,
                        reason: "expected one of \(AllowedEvent.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                events.insert(event)
            }
            config.events = events
        }
        if let text = try string(keys["matrix"], path: "matrix") {
            guard let mode = MatrixMode(rawValue: text) else {
                throw .invalidValue(
                    file: file, line: line(keys["matrix"]), keyPath: "matrix", value: text,
                    reason: "expected first-job or every-job")
            }
            config.matrix = mode
        }
        if let node = keys["hook"], !node.isNull { config.hook = try hook(node) }
        if let node = keys["notes"], !node.isNull { config.notes = try notes(node) }
        if let node = keys["gateway"], !node.isNull { config.gateway = try gateway(node) }
        config.exclude = try stringList(keys["exclude"], path: "exclude") ?? []
        if let node = keys["functions"], !node.isNull {
            config.functions = try functions(node)
            if config.function != nil {
                throw .invalidValue(
                    file: file, line: line(keys["function"]), keyPath: "function", value: config.function ?? "",
                    reason: "use either the `function:` shorthand or a `functions:` list, not both")
            }
        }
        return config
    }

    // MARK: Sections

    private func s3(_ node: Node?, path: String) throws(PolicyError) -> S3Location? {
        guard let node, !node.isNull else { return nil }
        let keys = try entries(node, path: path, known: Self.s3Keys)
        guard let bucket = try string(keys["bucket"], path: "\(path).bucket"), !bucket.isEmpty else {
            throw .invalidValue(
                file: file, line: line(node), keyPath: "\(path).bucket", value: "",
                reason: "an `s3:` section needs a bucket name")
        }
        return S3Location(bucket: bucket, prefix: try string(keys["prefix"], path: "\(path).prefix") ?? "")
    }

    private func hook(_ node: Node) throws(PolicyError) -> HookSettings {
        let keys = try entries(node, path: "hook", known: Self.hookKeys)
        var hook = HookSettings()
        if let alias = try alias(keys["alias"], path: "hook.alias") { hook.alias = alias }
        if let branches = try stringList(keys["branches"], path: "hook.branches") { hook.branches = branches }
        if let remote = try string(keys["remote"], path: "hook.remote") { hook.remote = remote }
        if let value = try bool(keys["allowDirty"], path: "hook.allowDirty") { hook.allowDirty = value }
        if let value = try bool(keys["blockPushOnFailure"], path: "hook.blockPushOnFailure") {
            hook.blockPushOnFailure = value
        }
        if let timeout = try int(keys["timeout"], path: "hook.timeout") {
            guard timeout > 0 else {
                throw .invalidValue(
                    file: file, line: line(keys["timeout"]), keyPath: "hook.timeout", value: String(timeout),
                    reason: "the timeout is a positive number of seconds")
            }
            hook.timeout = timeout
        }
        return hook
    }

    private func notes(_ node: Node) throws(PolicyError) -> NotesSettings {
        let keys = try entries(node, path: "notes", known: Self.notesKeys)
        var notes = NotesSettings()
        if let ref = try string(keys["ref"], path: "notes.ref") {
            guard ref.hasPrefix("refs/notes/"), ref.count > "refs/notes/".count, !ref.contains(" ") else {
                throw .invalidValue(
                    file: file, line: line(keys["ref"]), keyPath: "notes.ref", value: ref,
                    reason: "a notes ref looks like refs/notes/deploys")
            }
            notes.ref = ref
        }
        notes.push = try bool(keys["push"], path: "notes.push")
        if let remote = try string(keys["remote"], path: "notes.remote") { notes.remote = remote }
        return notes
    }

    private func gateway(_ node: Node) throws(PolicyError) -> GatewaySettings {
        let keys = try entries(node, path: "gateway", known: Self.gatewayKeys)
        var gateway = GatewaySettings()
        gateway.api = try string(keys["api"], path: "gateway.api")
        gateway.aliases = try aliasList(keys["aliases"], path: "gateway.aliases")
        if let method = try string(keys["method"], path: "gateway.method") {
            let upper = method.uppercased()
            guard Self.httpMethods.contains(upper) else {
                throw .invalidValue(
                    file: file, line: line(keys["method"]), keyPath: "gateway.method", value: method,
                    reason: "expected one of \(Self.httpMethods.joined(separator: ", "))")
            }
            gateway.method = upper
        }
        if let path = try string(keys["path"], path: "gateway.path") {
            guard path.hasPrefix("/") else {
                throw .invalidValue(
                    file: file, line: line(keys["path"]), keyPath: "gateway.path", value: path,
                    reason: "a resource path starts with /")
            }
            gateway.path = path
        }
        return gateway
    }

    private func functions(_ node: Node) throws(PolicyError) -> [FunctionConfig] {
        guard let sequence = node.sequence else {
            throw .wrongType(file: file, line: line(node), keyPath: "functions", expected: "a list of functions")
        }
        var result: [FunctionConfig] = []
        for (index, item) in sequence.enumerated() {
            let path = "functions[\(index)]"
            let keys = try entries(item, path: path, known: Self.functionKeys)
            guard let name = try string(keys["name"], path: "\(path).name"), !name.isEmpty else {
                throw .invalidValue(
                    file: file, line: line(item), keyPath: "\(path).name", value: "",
                    reason: "every entry of `functions:` needs a name")
            }
            if result.contains(where: { $0.name == name }) {
                throw .invalidValue(
                    file: file, line: line(keys["name"]), keyPath: "\(path).name", value: name,
                    reason: "this function is listed twice")
            }
            var function = FunctionConfig(name: name)
            function.directory = try string(keys["directory"], path: "\(path).directory")
            function.region = try string(keys["region"], path: "\(path).region")
            function.s3 = try s3(keys["s3"], path: "\(path).s3")
            if let node = keys["branches"], !node.isNull {
                function.branches = try aliasRules(node, path: "\(path).branches")
            }
            if let node = keys["tags"], !node.isNull {
                function.tags = try aliasRules(node, path: "\(path).tags")
            }
            function.protected = try aliasList(keys["protected"], path: "\(path).protected")
            function.exclude = try stringList(keys["exclude"], path: "\(path).exclude")
            result.append(function)
        }
        return result
    }

    // MARK: Typed values

    /// The keys of a mapping, refusing unknown and duplicate keys.
    func entries(_ node: Node, path: String, known: [String]) throws(PolicyError) -> [String: Node] {
        guard let mapping = node.mapping else {
            throw .wrongType(file: file, line: line(node), keyPath: path, expected: "a mapping of keys to values")
        }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                throw .wrongType(file: file, line: line(keyNode), keyPath: path, expected: "a mapping with plain keys")
            }
            let keyPath = path.isEmpty ? key : "\(path).\(key)"
            guard known.contains(key) else {
                throw .unknownKey(
                    file: file, line: line(keyNode), keyPath: keyPath,
                    suggestion: Suggest.closest(to: key, in: known), known: known)
            }
            guard result[key] == nil else {
                throw .duplicateKey(file: file, line: line(keyNode), keyPath: keyPath)
            }
            result[key] = value
        }
        return result
    }

    func string(_ node: Node?, path: String) throws(PolicyError) -> String? {
        guard let node, !node.isNull else { return nil }
        guard let scalar = node.scalar else {
            throw .wrongType(file: file, line: line(node), keyPath: path, expected: "a string")
        }
        return scalar.string
    }

    func bool(_ node: Node?, path: String) throws(PolicyError) -> Bool? {
        guard let node, !node.isNull else { return nil }
        guard node.scalar != nil, let value = node.bool else {
            throw .wrongType(file: file, line: line(node), keyPath: path, expected: "true or false")
        }
        return value
    }

    func int(_ node: Node?, path: String) throws(PolicyError) -> Int? {
        guard let node, !node.isNull else { return nil }
        guard node.scalar != nil, let value = node.int else {
            throw .wrongType(file: file, line: line(node), keyPath: path, expected: "a whole number")
        }
        return value
    }

    /// A list of strings; a single string is taken as a one-element list.
    func stringList(_ node: Node?, path: String) throws(PolicyError) -> [String]? {
        guard let node, !node.isNull else { return nil }
        if let scalar = node.scalar { return [scalar.string] }
        guard let sequence = node.sequence else {
            throw .wrongType(file: file, line: line(node), keyPath: path, expected: "a list of strings")
        }
        var result: [String] = []
        for item in sequence {
            guard let scalar = item.scalar, !item.isNull else {
                throw .wrongType(file: file, line: line(item), keyPath: path, expected: "a list of strings")
            }
            result.append(scalar.string)
        }
        return result
    }

    func alias(_ node: Node?, path: String) throws(PolicyError) -> String? {
        guard let name = try string(node, path: path) else { return nil }
        if let problem = AliasName.problem(with: name) {
            throw .invalidValue(file: file, line: line(node), keyPath: path, value: name, reason: problem)
        }
        return name
    }

    func aliasList(_ node: Node?, path: String) throws(PolicyError) -> [String]? {
        guard let list = try stringList(node, path: path) else { return nil }
        for (index, name) in list.enumerated() {
            if let problem = AliasName.problem(with: name) {
                let itemLine = line(node?.sequence?[index]) ?? line(node)
                throw .invalidValue(file: file, line: itemLine, keyPath: path, value: name, reason: problem)
            }
        }
        return list
    }

    /// A `pattern: alias` mapping, in file order.
    func aliasRules(_ node: Node, path: String) throws(PolicyError) -> [AliasRule] {
        guard let mapping = node.mapping else {
            throw .wrongType(
                file: file, line: line(node), keyPath: path,
                expected: "a mapping of branch or tag names (or globs) to aliases, like `main: prod`")
        }
        var rules: [AliasRule] = []
        for (keyNode, value) in mapping {
            guard let pattern = keyNode.scalar?.string, !pattern.isEmpty else {
                throw .wrongType(file: file, line: line(keyNode), keyPath: path, expected: "plain names or globs as keys")
            }
            let keyPath = "\(path).\(pattern)"
            if rules.contains(where: { $0.pattern == pattern }) {
                throw .duplicateKey(file: file, line: line(keyNode), keyPath: keyPath)
            }
            guard let alias = try alias(value, path: keyPath) else {
                throw .wrongType(file: file, line: line(value) ?? line(keyNode), keyPath: keyPath, expected: "an alias name")
            }
            rules.append(AliasRule(pattern: pattern, alias: alias))
        }
        return rules
    }

    func line(_ node: Node?) -> Int? { node?.mark?.line }
}

extension Node {
    /// `~`, `null` or an empty value: treated as "not set", so the default applies.
    var isNull: Bool {
        scalar != nil && null != nil
    }
}

/// "Did you mean" suggestions for unknown keys (and, in the executable, misspelt options).
public enum Suggest {
    /// The known word closest to `word` by edit distance (case-insensitive), when close enough
    /// to be a plausible typo: at most a third of the word's length, and at least 1.
    public static func closest(to word: String, in candidates: [String]) -> String? {
        let lower = Array(word.lowercased())
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(lower, Array(candidate.lowercased()))
            if best == nil || distance < (best?.1 ?? .max) { best = (candidate, distance) }
        }
        guard let (candidate, distance) = best else { return nil }
        let limit = max(2, lower.count / 3)
        return distance <= limit ? candidate : nil
    }

    /// Damerau-Levenshtein (optimal string alignment): a swapped pair counts as one typo.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}
