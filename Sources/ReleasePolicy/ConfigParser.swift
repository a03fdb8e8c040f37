internal import Yams
import Safety

extension DeployConfig {
    /// The largest config file read, in bytes (checked before parsing).
    public static let maxFileBytes = 1 << 20
    /// How deeply the YAML may nest (checked before parsing: Yams recurses once per level).
    public static let maxNesting = 64

    /// Parses the text of `lambda-deploy.yml` (the caller reads the file; this stays pure).
    ///
    /// Strict on purpose: an unknown key at any level is an error naming it (with the closest
    /// known key), so a typo like `brances:` cannot silently fall back to the defaults and deploy
    /// prod from the wrong branch. Every value is checked for what it is when the file is read
    /// (an alias, a function name, a git remote or ref, a path, a range), since anyone who can
    /// push can change the file and its values reach git command lines and AWS. Before the YAML
    /// parser sees the text, its size and nesting are bounded (`maxFileBytes`, `maxNesting`).
    /// `file` is only used in messages.
    public static func parse(yaml: String, file: String) throws(PolicyError) -> DeployConfig {
        let size = yaml.utf8.count
        guard size <= maxFileBytes else {
            throw .configTooLarge(file: file, bytes: size, limit: maxFileBytes)
        }
        switch YAMLShape.check(yaml, limit: maxNesting) {
        case .tooDeep(let line)?:
            throw .configTooDeep(file: file, line: line, limit: maxNesting)
        case .unsupported(let line, let feature)?:
            throw .configUnsupported(file: file, line: line, feature: feature)
        case nil:
            break
        }
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
        "hook", "notes", "gateway", "exclude", "build", "check", "prune", "lint", "parallel", "rateLimit",
        "functions",
    ]
    static let s3Keys = ["bucket", "prefix"]
    static let hookKeys = ["alias", "branches", "remote", "allowDirty", "timeout", "blockPushOnFailure"]
    static let notesKeys = ["ref", "push", "remote"]
    static let gatewayKeys = ["api", "aliases", "method", "path"]
    static let functionKeys = [
        "name", "directory", "region", "s3", "branches", "tags", "protected", "exclude", "hook", "build", "check",
        "prune", "lint",
    ]
    static let buildKeys = ["command", "output", "inputs"]
    static let checkKeys = ["event", "eventFile", "expect"]
    static let pruneKeys = ["keep"]
    static let lintKeys = ["allow", "disable"]
    static let rateLimitKeys = ["requestsPerSecond", "burst"]
    static let httpMethods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"]

    /// The longest value of most keys (names, patterns, paths), in bytes.
    static let maxValueBytes = 4096
    /// The longest `build.command`, in bytes.
    static let maxCommandBytes = 64 << 10
    /// The largest inline `check.event` (as JSON text), in bytes.
    static let maxEventBytes = 256 << 10
    /// The range `parallel:` must fall in.
    static let parallelRange = 1...64

    func config(_ root: Node) throws(PolicyError) -> DeployConfig {
        let keys = try entries(root, path: "", known: Self.topLevelKeys)
        var config = DeployConfig.default
        config.function = try functionName(keys["function"], path: "function")
        config.directory = try directory(keys["directory"], path: "directory")
        config.region = try region(keys["region"], path: "region")
        config.s3 = try s3(keys["s3"], path: "s3")
        if let node = keys["branches"], !node.isNull {
            config.branches = try aliasRules(node, path: "branches", kind: .branch)
        }
        if let list = try aliasList(keys["protected"], path: "protected") {
            config.protected = list
        }
        if let node = keys["tags"], !node.isNull {
            config.tags = try aliasRules(node, path: "tags", kind: .tag)
        }
        if let list = try stringList(keys["events"], path: "events") {
            var events = Set<AllowedEvent>()
            for (index, name) in list.enumerated() {
                guard let event = AllowedEvent(rawValue: name) else {
                    throw .invalidValue(
                        file: file, line: line(keys["events"]?.sequence?[index]) ?? line(keys["events"]), keyPath: "events",
                        value: name, reason: "expected one of \(AllowedEvent.allCases.map(\.rawValue).joined(separator: ", "))")
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
        config.exclude = try patternList(keys["exclude"], path: "exclude") ?? []
        config.build = try build(keys["build"], path: "build")
        config.check = try check(keys["check"], path: "check")
        config.prune = try prune(keys["prune"], path: "prune")
        config.lint = try lint(keys["lint"], path: "lint") ?? LintSettings()
        if let parallel = try int(keys["parallel"], path: "parallel", in: Self.parallelRange, {
            "run between \($0.lowerBound) and \($0.upperBound) deploys at once"
        }) {
            config.parallel = parallel
        }
        if let node = keys["rateLimit"], !node.isNull { config.rateLimit = try rateLimit(node, path: "rateLimit") }
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
        guard let keys = try optionalEntries(node, path: path, known: Self.s3Keys) else { return nil }
        guard let bucket = try string(keys["bucket"], path: "\(path).bucket"), !bucket.isEmpty else {
            throw .invalidValue(
                file: file, line: line(node), keyPath: "\(path).bucket", value: "",
                reason: "an `s3:` section needs a bucket name")
        }
        try validate(keys["bucket"], "\(path).bucket", bucket, Self.bucketProblem)
        return S3Location(bucket: bucket, prefix: try string(keys["prefix"], path: "\(path).prefix") ?? "")
    }

    private func hook(_ node: Node) throws(PolicyError) -> HookSettings {
        let keys = try entries(node, path: "hook", known: Self.hookKeys)
        var hook = HookSettings()
        if let alias = try alias(keys["alias"], path: "hook.alias") { hook.alias = alias }
        if let branches = try branchPatterns(keys["branches"], path: "hook.branches") { hook.branches = branches }
        if let remote = try remote(keys["remote"], path: "hook.remote") { hook.remote = remote }
        if let value = try bool(keys["allowDirty"], path: "hook.allowDirty") { hook.allowDirty = value }
        if let value = try bool(keys["blockPushOnFailure"], path: "hook.blockPushOnFailure") {
            hook.blockPushOnFailure = value
        }
        if let timeout = try int(keys["timeout"], path: "hook.timeout", in: HookSettings.timeoutRange, {
            "the timeout is between \($0.lowerBound) and \($0.upperBound) seconds"
        }) {
            hook.timeout = timeout
        }
        return hook
    }

    /// A `functions:` entry's `hook:`: the keys that are the function's own.
    private func hookOverrides(_ node: Node?, path: String) throws(PolicyError) -> HookOverrides? {
        guard let node, !node.isNull else { return nil }
        for (keyNode, _) in node.mapping ?? [:] {
            if let key = keyNode.scalar?.string, Self.hookKeys.contains(key), !HookOverrides.keys.contains(key) {
                throw .invalidValue(
                    file: file, line: line(keyNode), keyPath: "\(path).\(key)", value: key,
                    reason: "`\(key)` applies to the whole push, not to one function; set it in the top-level `hook:`")
            }
        }
        let keys = try entries(node, path: path, known: HookOverrides.keys)
        return HookOverrides(
            alias: try alias(keys["alias"], path: "\(path).alias"),
            branches: try branchPatterns(keys["branches"], path: "\(path).branches"),
            allowDirty: try bool(keys["allowDirty"], path: "\(path).allowDirty"))
    }

    private func notes(_ node: Node) throws(PolicyError) -> NotesSettings {
        let keys = try entries(node, path: "notes", known: Self.notesKeys)
        var notes = NotesSettings()
        if let ref = try string(keys["ref"], path: "notes.ref") {
            try validate(keys["ref"], "notes.ref", ref, Self.notesRefProblem)
            notes.ref = ref
        }
        notes.push = try bool(keys["push"], path: "notes.push")
        if let remote = try remote(keys["remote"], path: "notes.remote") { notes.remote = remote }
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
            try require(!path.contains(" "), keys["path"], "gateway.path", path, "a resource path has no spaces")
            gateway.path = path
        }
        return gateway
    }

    private func build(_ node: Node?, path: String) throws(PolicyError) -> BuildStep? {
        guard let keys = try optionalEntries(node, path: path, known: Self.buildKeys) else { return nil }
        guard let command = try string(keys["command"], path: "\(path).command", maxBytes: Self.maxCommandBytes, multiline: true),
              !command.trimmingWhitespace().isEmpty
        else {
            throw .invalidValue(
                file: file, line: line(keys["command"]) ?? line(node), keyPath: "\(path).command", value: "",
                reason: "a `build:` section needs the command that builds the function")
        }
        guard let output = try string(keys["output"], path: "\(path).output") else {
            throw .invalidValue(
                file: file, line: line(node), keyPath: "\(path).output", value: "",
                reason: "a `build:` section names the folder its command writes (it is emptied before each build), e.g. `output: build`")
        }
        try validate(keys["output"], "\(path).output", output) { ConfigPath.relativeProblem($0) }
        var inputs: [String] = []
        if let list = try stringList(keys["inputs"], path: "\(path).inputs") {
            for (index, input) in list.enumerated() {
                try validate(keys["inputs"]?.sequence?[index] ?? keys["inputs"], "\(path).inputs", input) {
                    ConfigPath.relativeProblem($0, allowDot: true)
                }
            }
            inputs = list
        }
        return BuildStep(command: command, output: ConfigPath.normalized(output), inputs: inputs)
    }

    private func check(_ node: Node?, path: String) throws(PolicyError) -> InvokeCheck? {
        guard let keys = try optionalEntries(node, path: path, known: Self.checkKeys) else { return nil }
        let inline = keys["event"].flatMap { $0.isNull ? nil : $0 }
        let fileNode = keys["eventFile"].flatMap { $0.isNull ? nil : $0 }
        let event: InvokeCheck.Event
        switch (inline, fileNode) {
        case (nil, nil):
            throw .invalidValue(
                file: file, line: line(node), keyPath: "\(path).event", value: "",
                reason: "a `check:` section needs the event to invoke with: `event:` (inline) or `eventFile:` (a JSON file)")
        case (.some, .some):
            throw .invalidValue(
                file: file, line: line(fileNode), keyPath: "\(path).eventFile", value: fileNode?.scalar?.string ?? "",
                reason: "give either `event:` or `eventFile:`, not both")
        case (let inline?, nil):
            if inline.scalar != nil {
                let text = try string(inline, path: "\(path).event", maxBytes: Self.maxEventBytes, multiline: true) ?? ""
                switch JSONValue.parse(text) {
                case .value(let value):
                    event = .inline(value)
                case .invalid(let reason):
                    throw .invalidValue(
                        file: file, line: line(inline), keyPath: "\(path).event", value: text,
                        reason: "it is not JSON (\(reason)); write the event as a YAML mapping, as a JSON string, or in `eventFile:`")
                }
            } else {
                let value = try json(inline, path: "\(path).event", depth: 1)
                try require(value.text.utf8.count <= Self.maxEventBytes, inline, "\(path).event", "",
                            "an inline event has at most \(Self.maxEventBytes) bytes of JSON; put a larger one in `eventFile:`")
                event = .inline(value)
            }
        case (nil, let fileNode?):
            let eventFile = try string(fileNode, path: "\(path).eventFile") ?? ""
            try validate(fileNode, "\(path).eventFile", eventFile) { ConfigPath.relativeProblem($0) }
            event = .file(ConfigPath.normalized(eventFile))
        }
        var expect: JSONValue?
        if let node = keys["expect"], !node.isNull {
            expect = try json(node, path: "\(path).expect", depth: 1)
        }
        return InvokeCheck(event: event, expect: expect)
    }

    private func prune(_ node: Node?, path: String) throws(PolicyError) -> PruneSettings? {
        guard let keys = try optionalEntries(node, path: path, known: Self.pruneKeys) else { return nil }
        var prune = PruneSettings()
        if let keep = try int(keys["keep"], path: "\(path).keep", in: PruneSettings.keepRange, {
            "keep between \($0.lowerBound) and \($0.upperBound) versions (the newest are never deleted)"
        }) {
            prune.keep = keep
        }
        return prune
    }

    private func lint(_ node: Node?, path: String) throws(PolicyError) -> LintSettings? {
        guard let keys = try optionalEntries(node, path: path, known: Self.lintKeys) else { return nil }
        var lint = LintSettings()
        if let allow = try stringList(keys["allow"], path: "\(path).allow") {
            for (index, pattern) in allow.enumerated() {
                try validate(keys["allow"]?.sequence?[index] ?? keys["allow"], "\(path).allow", pattern) {
                    ConfigPath.relativeProblem($0)
                }
            }
            lint.allow = allow
        }
        if let names = try stringList(keys["disable"], path: "\(path).disable") {
            let known = LintName.allCases.map(\.rawValue)
            for (index, name) in names.enumerated() {
                guard let lintName = LintName(rawValue: name) else {
                    let hint = Suggest.closest(to: name, in: known).map { " (did you mean `\($0)`?)" } ?? ""
                    throw .invalidValue(
                        file: file, line: line(keys["disable"]?.sequence?[index]) ?? line(keys["disable"]),
                        keyPath: "\(path).disable", value: name,
                        reason: "expected one of \(known.joined(separator: ", "))\(hint)")
                }
                lint.disable.insert(lintName)
            }
        }
        return lint
    }

    private func rateLimit(_ node: Node, path: String) throws(PolicyError) -> RateLimit {
        let keys = try entries(node, path: path, known: Self.rateLimitKeys)
        var rate = RateLimit()
        if let perSecond = try number(keys["requestsPerSecond"], path: "\(path).requestsPerSecond") {
            let range = RateLimit.requestsPerSecondRange
            try require(range.contains(perSecond), keys["requestsPerSecond"], "\(path).requestsPerSecond",
                        keys["requestsPerSecond"]?.scalar?.string ?? "",
                        "between \(range.lowerBound) and \(range.upperBound) requests per second")
            rate.requestsPerSecond = perSecond
        }
        if let burst = try int(keys["burst"], path: "\(path).burst", in: RateLimit.burstRange, {
            "a burst of \($0.lowerBound) to \($0.upperBound) requests"
        }) {
            rate.burst = burst
        }
        return rate
    }

    private func functions(_ node: Node) throws(PolicyError) -> [FunctionConfig] {
        guard let sequence = node.sequence else {
            throw .wrongType(file: file, line: line(node), keyPath: "functions", expected: "a list of functions")
        }
        var result: [FunctionConfig] = []
        for (index, item) in sequence.enumerated() {
            let path = "functions[\(index)]"
            let keys = try entries(item, path: path, known: Self.functionKeys)
            guard let name = try functionName(keys["name"], path: "\(path).name"), !name.isEmpty else {
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
            function.directory = try directory(keys["directory"], path: "\(path).directory")
            function.region = try region(keys["region"], path: "\(path).region")
            function.s3 = try s3(keys["s3"], path: "\(path).s3")
            if let node = keys["branches"], !node.isNull {
                function.branches = try aliasRules(node, path: "\(path).branches", kind: .branch)
            }
            if let node = keys["tags"], !node.isNull {
                function.tags = try aliasRules(node, path: "\(path).tags", kind: .tag)
            }
            function.protected = try aliasList(keys["protected"], path: "\(path).protected")
            function.exclude = try patternList(keys["exclude"], path: "\(path).exclude")
            function.hook = try hookOverrides(keys["hook"], path: "\(path).hook")
            function.build = try build(keys["build"], path: "\(path).build")
            function.check = try check(keys["check"], path: "\(path).check")
            function.prune = try prune(keys["prune"], path: "\(path).prune")
            function.lint = try lint(keys["lint"], path: "\(path).lint")
            result.append(function)
        }
        return result
    }

    // MARK: Values checked for what they are

    private func functionName(_ node: Node?, path: String) throws(PolicyError) -> String? {
        try string(node, path: path, checkedBy: LambdaNames.functionProblem)
    }

    private func directory(_ node: Node?, path: String) throws(PolicyError) -> String? {
        try string(node, path: path) { $0.isEmpty ? "name the directory that holds the function's code" : nil }
    }

    private func region(_ node: Node?, path: String) throws(PolicyError) -> String? {
        try string(node, path: path, checkedBy: Self.regionProblem)
    }

    private func remote(_ node: Node?, path: String) throws(PolicyError) -> String? {
        try string(node, path: path, checkedBy: GitNames.remoteProblem)
    }

    /// A list of branch globs (`hook.branches`).
    private func branchPatterns(_ node: Node?, path: String) throws(PolicyError) -> [String]? {
        try stringList(node, path: path) { Self.patternProblem($0, kind: .branch) }
    }

    /// Ignore patterns (`exclude`): any text on one line.
    private func patternList(_ node: Node?, path: String) throws(PolicyError) -> [String]? {
        try stringList(node, path: path)
    }

    /// A YAML value as JSON: mappings become objects, sequences arrays; plain `true`, `false`,
    /// `null` (or `~`, empty) and numbers in JSON's syntax keep their type, every other scalar is
    /// a string. Predictable on purpose: YAML 1.1's `yes` is the string "yes" here.
    private func json(_ node: Node, path: String, depth: Int) throws(PolicyError) -> JSONValue {
        guard depth <= JSONValue.maxDepth else {
            throw .invalidValue(file: file, line: line(node), keyPath: path, value: "",
                                reason: "JSON here nests at most \(JSONValue.maxDepth) levels")
        }
        if let mapping = node.mapping {
            var members: [JSONValue.Member] = []
            for (keyNode, value) in mapping {
                guard let key = keyNode.scalar?.string else {
                    throw .wrongType(file: file, line: line(keyNode), keyPath: path, expected: "a mapping with plain keys")
                }
                let keyPath = "\(path).\(key)"
                try checkText(key, node: keyNode, path: keyPath, maxBytes: Self.maxValueBytes, multiline: false)
                if members.contains(where: { $0.key == key }) {
                    throw .duplicateKey(file: file, line: line(keyNode), keyPath: keyPath)
                }
                members.append(JSONValue.Member(key: key, value: try json(value, path: keyPath, depth: depth + 1)))
            }
            return .object(members)
        }
        if let sequence = node.sequence {
            var items: [JSONValue] = []
            for (index, item) in sequence.enumerated() {
                items.append(try json(item, path: "\(path)[\(index)]", depth: depth + 1))
            }
            return .array(items)
        }
        guard let scalar = node.scalar else { return .null }
        let text = scalar.string
        try checkText(text, node: node, path: path, maxBytes: Self.maxEventBytes, multiline: true)
        guard scalar.style == .plain || scalar.style == .any else { return .string(text) }
        switch text {
        case "", "~", "null": return .null
        case "true": return .bool(true)
        case "false": return .bool(false)
        default:
            if case .value(let number) = JSONValue.parse(text, maxBytes: 64), case .number = number { return number }
            return .string(text)
        }
    }

    // MARK: Typed values

    /// The keys of a section that may be left out: nil when it is absent or null.
    func optionalEntries(_ node: Node?, path: String, known: [String]) throws(PolicyError) -> [String: Node]? {
        guard let node, !node.isNull else { return nil }
        return try entries(node, path: path, known: known)
    }

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

    /// A string value: at most `maxBytes` bytes, and no control character (newlines and tabs
    /// only where `multiline`): a value is data, never a second line or a terminal escape.
    func string(
        _ node: Node?, path: String, maxBytes: Int = ConfigReader.maxValueBytes, multiline: Bool = false
    ) throws(PolicyError) -> String? {
        guard let node, !node.isNull else { return nil }
        guard let scalar = node.scalar else {
            throw .wrongType(file: file, line: line(node), keyPath: path, expected: "a string")
        }
        try checkText(scalar.string, node: node, path: path, maxBytes: maxBytes, multiline: multiline)
        return scalar.string
    }

    private func checkText(_ text: String, node: Node, path: String, maxBytes: Int, multiline: Bool) throws(PolicyError) {
        let size = text.utf8.count
        guard size <= maxBytes else {
            throw .invalidValue(
                file: file, line: line(node), keyPath: path, value: text,
                reason: "it is \(size) bytes; a value here has at most \(maxBytes)")
        }
        if let control = text.unicodeScalars.first(where: {
            DisplayText.needsEscape($0) && !(multiline && ($0 == "\n" || $0 == "\t"))
        }) {
            let code = String(control.value, radix: 16, uppercase: true)
            throw .invalidValue(
                file: file, line: line(node), keyPath: path, value: text,
                reason: "it contains the control character U+\(String(repeating: "0", count: max(0, 4 - code.count)))\(code); a value here is plain text on one line")
        }
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
        guard let scalar = node.scalar, scalar.string.utf8.count <= 20, let value = node.int else {
            throw .wrongType(file: file, line: line(node), keyPath: path, expected: "a whole number")
        }
        return value
    }

    func number(_ node: Node?, path: String) throws(PolicyError) -> Double? {
        guard let node, !node.isNull else { return nil }
        guard let text = node.scalar?.string, text.utf8.count <= 32, let value = Double(text), value.isFinite else {
            throw .wrongType(file: file, line: line(node), keyPath: path, expected: "a number")
        }
        return value
    }

    /// A list of strings; a single string is taken as a one-element list.
    func stringList(_ node: Node?, path: String) throws(PolicyError) -> [String]? {
        guard let node, !node.isNull else { return nil }
        if node.scalar != nil { return [try string(node, path: path) ?? ""] }
        guard let sequence = node.sequence else {
            throw .wrongType(file: file, line: line(node), keyPath: path, expected: "a list of strings")
        }
        var result: [String] = []
        for item in sequence {
            guard item.scalar != nil, !item.isNull, let text = try string(item, path: path) else {
                throw .wrongType(file: file, line: line(item), keyPath: path, expected: "a list of strings")
            }
            result.append(text)
        }
        return result
    }

    func alias(_ node: Node?, path: String) throws(PolicyError) -> String? {
        try string(node, path: path, checkedBy: LambdaNames.aliasProblem)
    }

    func aliasList(_ node: Node?, path: String) throws(PolicyError) -> [String]? {
        try stringList(node, path: path, checkedBy: LambdaNames.aliasProblem)
    }

    /// A `pattern: alias` mapping, in file order.
    func aliasRules(_ node: Node, path: String, kind: RefKind) throws(PolicyError) -> [AliasRule] {
        guard let mapping = node.mapping else {
            throw .wrongType(
                file: file, line: line(node), keyPath: path,
                expected: "a mapping of branch or tag names (or globs) to aliases, like `main: prod`")
        }
        var rules: [AliasRule] = []
        for (keyNode, value) in mapping {
            guard keyNode.scalar != nil, let pattern = try string(keyNode, path: path), !pattern.isEmpty else {
                throw .wrongType(file: file, line: line(keyNode), keyPath: path, expected: "plain names or globs as keys")
            }
            let keyPath = "\(path).\(pattern)"
            try validate(keyNode, keyPath, pattern) { Self.patternProblem($0, kind: kind) }
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

    /// Throws `invalidValue` for `path` when `rule` finds a problem with `value`.
    private func validate(
        _ node: Node?, _ path: String, _ value: String, _ rule: (String) -> String?
    ) throws(PolicyError) {
        if let problem = rule(value) {
            throw .invalidValue(file: file, line: line(node), keyPath: path, value: value, reason: problem)
        }
    }

    /// A string value `rule` finds no problem with (nil when absent).
    private func string(_ node: Node?, path: String, checkedBy rule: (String) -> String?) throws(PolicyError) -> String? {
        guard let value = try string(node, path: path) else { return nil }
        try validate(node, path, value, rule)
        return value
    }

    /// A list of strings `rule` finds no problem with, each reported at its own line (nil when absent).
    private func stringList(_ node: Node?, path: String, checkedBy rule: (String) -> String?) throws(PolicyError) -> [String]? {
        guard let list = try stringList(node, path: path) else { return nil }
        for (index, value) in list.enumerated() {
            try validate(node?.sequence?[index] ?? node, path, value, rule)
        }
        return list
    }

    /// An integer within `range` (nil when absent); `reason` says the range in the error.
    private func int(
        _ node: Node?, path: String, in range: ClosedRange<Int>, _ reason: (ClosedRange<Int>) -> String
    ) throws(PolicyError) -> Int? {
        guard let value = try int(node, path: path) else { return nil }
        try require(range.contains(value), node, path, String(value), reason(range))
        return value
    }

    private func require(_ condition: Bool, _ node: Node?, _ path: String, _ value: String, _ reason: String) throws(PolicyError) {
        if !condition {
            throw .invalidValue(file: file, line: line(node), keyPath: path, value: value, reason: reason)
        }
    }

    func line(_ node: Node?) -> Int? { node?.mark?.line }

    // MARK: Rules for config values

    enum RefKind { case branch, tag }

    /// Why `pattern` can never match a branch (or tag) name, or nil. A literal name (no glob
    /// characters) must be a name git accepts; any pattern is refused when it starts with `-` or
    /// holds a space (no ref can).
    static func patternProblem(_ pattern: String, kind: RefKind) -> String? {
        let noun = kind == .branch ? "branch" : "tag"
        if pattern.isEmpty { return "a \(noun) pattern cannot be empty" }
        if pattern.hasPrefix("-") { return "a \(noun) name cannot start with '-'" }
        if pattern.utf8.count > 255 { return "a \(noun) pattern has at most 255 bytes" }
        if pattern.contains(" ") { return "a \(noun) name cannot contain a space" }
        let globCharacters: Set<Character> = ["*", "?", "[", "\\"]
        guard !pattern.contains(where: { globCharacters.contains($0) }) else { return nil }
        switch kind {
        case .branch:
            return GitNames.branchProblem(pattern)
        case .tag:
            return GitNames.refProblem("refs/tags/" + pattern).map { $0.replacingFirst("a ref name", with: "a tag name") }
        }
    }

    /// Why `ref` cannot hold deployment records, or nil: a valid ref under `refs/notes/`.
    static func notesRefProblem(_ ref: String) -> String? {
        if let problem = GitNames.refProblem(ref) { return problem }
        guard ref.hasPrefix("refs/notes/") else { return "a notes ref lives under refs/notes/ (e.g. refs/notes/deploys)" }
        return nil
    }

    /// Why `region` is not an AWS region name (like `us-east-1`, `us-gov-west-1`), or nil. The
    /// region becomes part of every endpoint's host name, so nothing else may pass.
    static func regionProblem(_ region: String) -> String? {
        let bytes = Array(region.utf8)
        let allowed = bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
        guard (4...32).contains(bytes.count), allowed, let first = bytes.first, first >= 0x61, first <= 0x7A,
              bytes.last != 0x2D, !region.contains("--"), region.contains("-")
        else { return "a region is written like us-east-1 (lower-case letters, digits and '-')" }
        return nil
    }

    /// Why `bucket` is not an S3 bucket name, or nil (3-63 of `a-z0-9.-`, starting and ending
    /// with a letter or digit).
    static func bucketProblem(_ bucket: String) -> String? {
        let bytes = Array(bucket.utf8)
        func alphanumeric(_ byte: UInt8) -> Bool { (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) }
        guard (3...63).contains(bytes.count), bytes.allSatisfy({ alphanumeric($0) || $0 == 0x2E || $0 == 0x2D }),
              let first = bytes.first, let last = bytes.last, alphanumeric(first), alphanumeric(last), !bucket.contains("..")
        else { return "an S3 bucket name has 3 to 63 lower-case letters, digits, '.' and '-'" }
        return nil
    }
}

extension String {
    fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
        guard hasPrefix(target) else { return self }
        return replacement + dropFirst(target.count)
    }
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
        // A key longer than any known one by far is no typo; and the distance table grows with
        // the product of the lengths, so a 1 MB key must not reach it.
        guard word.utf8.count <= 64 else { return nil }
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
