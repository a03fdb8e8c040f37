/// What a YAML text would build, measured before any parser sees it: how deeply it nests, and
/// whether it uses anchors, aliases or tags.
///
/// Yams composes nodes recursively, one stack frame per level, so a 10 KB line of 5,000 `[`
/// overflows the stack and kills the process (every command reads the config; the pre-push hook
/// too). This scan follows libyaml's own tokenizer (scanner.c in Yams' bundled copy: token starts,
/// simple keys, the indentation stack, quoted, plain and block scalars, comments) without building
/// anything, in one pass over the bytes and constant stack, so the nesting libyaml's parser would
/// reach is known first. It counts what the composer recurses on: every block collection (an
/// indentation level, plus an indentless sequence under a mapping key) and every flow
/// collection. Two things it cannot see until after the fact are counted up front, so the
/// measure never falls below what the parser builds: a flow sequence counts two levels (an entry
/// `[a]: b` turns out to be a single-pair mapping only at its `:`), and one level is added for a
/// block mapping whose key is still being read.
///
/// Anchors and aliases are refused rather than measured: an alias repeats a node wherever it is
/// used, so a chain of them nests (and multiplies, "billion laughs") far beyond what the text
/// shows. Tags are refused with them: the config needs neither, and each is one more thing a
/// scanner would have to follow exactly.
///
/// Where libyaml would stop with a syntax error the scan stops too, and Yams reports the error.
struct YAMLShape {
    enum Finding: Equatable {
        /// Nesting passes `limit` at this (1-based) line.
        case tooDeep(line: Int)
        /// An anchor (`&`), alias (`*`) or tag (`!`) at this line.
        case unsupported(line: Int, feature: String)
    }

    /// The deepest nesting seen, for tests.
    private(set) var deepest = 0

    private let bytes: [UInt8]
    private let limit: Int
    private var i = 0
    private var line = 0
    private var column = 0
    /// libyaml's `mark.index`: characters, not bytes (simple keys die 1024 characters on).
    private var index = 0

    private struct Block {
        var column: Int
        var isMapping: Bool
        /// A `- ` at this mapping's own column: a sequence nested without an indentation level.
        var indentless = false
    }
    private struct Flow {
        /// 2 for a sequence (it may hold single-pair mappings), 1 for a mapping.
        var levels: Int
    }
    private struct SimpleKey {
        var possible = false
        var required = false
        var index = 0
        var line = 0
        var column = 0
    }
    private var blocks: [Block] = []
    private var flows: [Flow] = []
    private var simpleKeys = [SimpleKey()]
    private var simpleKeyAllowed = true
    private var depth = 0

    private var indent: Int { blocks.last?.column ?? -1 }
    private var inFlow: Bool { !flows.isEmpty }

    private init(_ text: String, limit: Int) {
        self.bytes = Array(text.utf8)
        self.limit = limit
    }

    /// The first reason `text` must not reach the YAML parser, or nil.
    static func check(_ text: String, limit: Int) -> Finding? {
        var scan = YAMLShape(text, limit: limit)
        return scan.run()
    }

    /// The deepest nesting of `text` as the scan measures it (for tests).
    static func depth(of text: String) -> Int {
        var scan = YAMLShape(text, limit: .max)
        _ = scan.run()
        return scan.deepest
    }

    // MARK: Characters

    private func at(_ offset: Int) -> UInt8 {
        let k = i + offset
        return k < bytes.count ? bytes[k] : 0
    }

    private var atEnd: Bool { i >= bytes.count }

    /// Byte width of the line break at `offset` bytes ahead (CR LF counts as one), or 0.
    private func breakWidth(_ offset: Int = 0) -> Int {
        switch at(offset) {
        case 0x0A: return 1
        case 0x0D: return at(offset + 1) == 0x0A ? 2 : 1
        case 0xC2 where at(offset + 1) == 0x85: return 2  // NEL
        case 0xE2 where at(offset + 1) == 0x80 && (at(offset + 2) == 0xA8 || at(offset + 2) == 0xA9): return 3  // LS, PS
        default: return 0
        }
    }

    private func isBreak(_ offset: Int = 0) -> Bool { breakWidth(offset) > 0 }
    private func isBlank(_ offset: Int = 0) -> Bool { at(offset) == 0x20 || at(offset) == 0x09 }
    /// Blank, break or the end of the text: libyaml's IS_BLANKZ.
    private func isBlankZ(_ offset: Int = 0) -> Bool {
        i + offset >= bytes.count || isBlank(offset) || isBreak(offset)
    }

    /// Byte width of the character starting at `offset`, counting a character libyaml's reader
    /// refuses (a control character, a stray continuation byte) as 0: the scan stops there, as
    /// libyaml does.
    private func characterWidth(_ offset: Int = 0) -> Int {
        let byte = at(offset)
        switch byte {
        case 0x09, 0x0A, 0x0D, 0x20...0x7E: return 1
        case 0xC2 where at(offset + 1) == 0x85: return 2
        case 0xC2 where at(offset + 1) < 0xA0: return 0  // C1 controls
        case 0xC3...0xDF: return 2
        case 0xC2: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF4: return 4
        default: return 0
        }
    }

    /// Moves over one character (not a line break). False where libyaml's reader would fail.
    private mutating func skip() -> Bool {
        let width = characterWidth()
        guard width > 0, i + width <= bytes.count else { return false }
        i += width
        column += 1
        index += 1
        return true
    }

    /// Moves over one line break.
    private mutating func skipLine() {
        let width = breakWidth()
        i += width
        index += width == 2 && bytes[i - 2] == 0x0D ? 2 : 1
        line += 1
        column = 0
    }

    // MARK: The scan

    private mutating func run() -> Finding? {
        if at(0) == 0xEF, at(1) == 0xBB, at(2) == 0xBF { i = 3 }  // the reader drops a leading BOM
        while true {
            guard scanToNextToken() else { return nil }
            guard removeStaleSimpleKeys() else { return nil }
            unrollIndent(to: column)
            if atEnd { return nil }
            let c = at(0)
            if column == 0, c == UInt8(ascii: "%") {
                // A directive: unroll, and the rest of the line is its own.
                unrollIndent(to: -1)
                guard removeSimpleKey() else { return nil }
                simpleKeyAllowed = false
                while !atEnd, !isBreak() { guard skip() else { return nil } }
                continue
            }
            if column == 0, isDocumentMarker() {
                unrollIndent(to: -1)
                guard removeSimpleKey() else { return nil }
                simpleKeyAllowed = false
                i += 3
                column += 3
                index += 3
                continue
            }
            closeIndentlessSequence(unless: c == UInt8(ascii: "-") && isBlankZ(1))
            let finding: Finding?
            switch c {
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                saveSimpleKey()
                let flow = Flow(levels: c == UInt8(ascii: "[") ? 2 : 1)
                flows.append(flow)
                simpleKeys.append(SimpleKey())
                simpleKeyAllowed = true
                _ = skip()
                finding = deeper(by: flow.levels)
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                guard removeSimpleKey() else { return nil }
                if let flow = flows.popLast() {
                    depth -= flow.levels
                    simpleKeys.removeLast()
                }
                simpleKeyAllowed = false
                _ = skip()
                finding = nil
            case UInt8(ascii: ","):
                guard removeSimpleKey() else { return nil }
                simpleKeyAllowed = true
                _ = skip()
                finding = nil
            case UInt8(ascii: "-") where isBlankZ(1):
                if !inFlow {
                    guard simpleKeyAllowed else { return nil }
                    if let found = rollIndent(at: column, mapping: false) { return found }
                    if let found = openIndentlessSequence() { return found }
                }
                guard removeSimpleKey() else { return nil }
                simpleKeyAllowed = true
                _ = skip()
                finding = nil
            case UInt8(ascii: "?") where inFlow || isBlankZ(1):
                if !inFlow {
                    guard simpleKeyAllowed else { return nil }
                    if let found = rollIndent(at: column, mapping: true) { return found }
                }
                guard removeSimpleKey() else { return nil }
                simpleKeyAllowed = !inFlow
                _ = skip()
                finding = nil
            case UInt8(ascii: ":") where inFlow || isBlankZ(1):
                var key = simpleKeys[simpleKeys.count - 1]
                if key.possible {
                    if let found = rollIndent(at: key.column, mapping: true) { return found }
                    key.possible = false
                    simpleKeys[simpleKeys.count - 1] = key
                    simpleKeyAllowed = false
                } else {
                    if !inFlow {
                        guard simpleKeyAllowed else { return nil }
                        if let found = rollIndent(at: column, mapping: true) { return found }
                    }
                    simpleKeyAllowed = !inFlow
                }
                _ = skip()
                finding = nil
            case UInt8(ascii: "*"):
                return .unsupported(line: line + 1, feature: "aliases (*name)")
            case UInt8(ascii: "&"):
                return .unsupported(line: line + 1, feature: "anchors (&name)")
            case UInt8(ascii: "!"):
                return .unsupported(line: line + 1, feature: "tags (!name)")
            case UInt8(ascii: "|"), UInt8(ascii: ">"):
                guard !inFlow else { return nil }  // not a token in flow context: libyaml fails
                guard removeSimpleKey() else { return nil }
                simpleKeyAllowed = true
                guard scanBlockScalar() else { return nil }
                finding = nil
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                saveSimpleKey()
                simpleKeyAllowed = false
                guard scanQuotedScalar(single: c == UInt8(ascii: "'")) else { return nil }
                finding = nil
            default:
                guard startsPlainScalar() else { return nil }
                saveSimpleKey()
                simpleKeyAllowed = false
                guard scanPlainScalar() else { return nil }
                finding = nil
            }
            if let finding { return finding }
        }
    }

    private func isDocumentMarker() -> Bool {
        let c = at(0)
        return (c == UInt8(ascii: "-") || c == UInt8(ascii: "."))
            && at(1) == c && at(2) == c && isBlankZ(3)
    }

    /// libyaml's scan_to_next_token: spaces (tabs where allowed), comments, line breaks.
    private mutating func scanToNextToken() -> Bool {
        while true {
            // A byte-order mark may start any line; libyaml steps over it (and counts a column).
            if column == 0, at(0) == 0xEF, at(1) == 0xBB, at(2) == 0xBF { guard skip() else { return false } }
            while at(0) == 0x20 || ((inFlow || !simpleKeyAllowed) && at(0) == 0x09) {
                guard skip() else { return false }
            }
            if at(0) == UInt8(ascii: "#") {
                while !atEnd, !isBreak() { guard skip() else { return false } }
            }
            guard isBreak() else { return true }
            skipLine()
            if !inFlow { simpleKeyAllowed = true }
        }
    }

    /// A plain scalar may start here (libyaml's rule, end of fetch_next_token).
    private func startsPlainScalar() -> Bool {
        let c = at(0)
        if isBlankZ() { return false }
        let indicators = Array("-?:,[]{}#&*!|>'\"%@`".utf8)
        if !indicators.contains(c) { return characterWidth() > 0 }
        if c == UInt8(ascii: "-") { return !isBlank(1) && !isBlankZ(1) }
        if !inFlow, c == UInt8(ascii: "?") || c == UInt8(ascii: ":") { return !isBlankZ(1) }
        return false
    }

    // MARK: Indentation and simple keys (as libyaml keeps them)

    /// Counts `levels` more, plus one for a block mapping whose key may still be open.
    private mutating func deeper(by levels: Int) -> Finding? {
        depth += levels
        deepest = max(deepest, depth + 1)
        return depth + 1 > limit ? .tooDeep(line: line + 1) : nil
    }

    private mutating func rollIndent(at column: Int, mapping: Bool) -> Finding? {
        guard !inFlow, indent < column else { return nil }
        blocks.append(Block(column: column, isMapping: mapping))
        return deeper(by: 1)
    }

    private mutating func unrollIndent(to column: Int) {
        guard !inFlow else { return }
        while let last = blocks.last, last.column > column {
            depth -= last.indentless ? 2 : 1
            blocks.removeLast()
        }
    }

    /// `key:` then `- item` at the key's own column: the parser nests a sequence there.
    private mutating func openIndentlessSequence() -> Finding? {
        guard let last = blocks.indices.last, blocks[last].column == column, blocks[last].isMapping,
              !blocks[last].indentless
        else { return nil }
        blocks[last].indentless = true
        return deeper(by: 1)
    }

    /// Any token but `- ` at the mapping's own column ends its indentless sequence.
    private mutating func closeIndentlessSequence(unless isEntry: Bool) {
        guard !inFlow, !isEntry, let last = blocks.indices.last, blocks[last].indentless,
              blocks[last].column == column
        else { return }
        blocks[last].indentless = false
        depth -= 1
    }

    private mutating func saveSimpleKey() {
        guard simpleKeyAllowed else { return }
        let required = !inFlow && indent == column
        simpleKeys[simpleKeys.count - 1] = SimpleKey(
            possible: true, required: required, index: index, line: line, column: column)
    }

    /// False when a required key is dropped: libyaml's "could not find expected ':'".
    private mutating func removeSimpleKey() -> Bool {
        let key = simpleKeys[simpleKeys.count - 1]
        if key.possible, key.required { return false }
        simpleKeys[simpleKeys.count - 1].possible = false
        return true
    }

    private mutating func removeStaleSimpleKeys() -> Bool {
        for k in simpleKeys.indices where simpleKeys[k].possible {
            if simpleKeys[k].line < line || simpleKeys[k].index + 1024 < index {
                if simpleKeys[k].required { return false }
                simpleKeys[k].possible = false
            }
        }
        return true
    }

    // MARK: Scalars (consumed, never kept)

    /// `'...'` (with `''` inside) or `"..."` (with backslash escapes), across lines.
    private mutating func scanQuotedScalar(single: Bool) -> Bool {
        let quote = at(0)
        guard skip() else { return false }
        while true {
            if column == 0, isDocumentMarker() { return false }
            if atEnd { return false }
            while !isBlankZ() {
                if single, at(0) == UInt8(ascii: "'"), at(1) == UInt8(ascii: "'") {
                    guard skip(), skip() else { return false }
                } else if at(0) == quote {
                    return skip()
                } else if !single, at(0) == UInt8(ascii: "\\"), isBreak(1) {
                    guard skip() else { return false }
                    skipLine()
                    break
                } else if !single, at(0) == UInt8(ascii: "\\") {
                    guard skip(), !isBlankZ() || isBlank(), skip() else { return false }
                } else {
                    guard skip() else { return false }
                }
            }
            while isBlank() || isBreak() {
                if isBreak() { skipLine() } else { guard skip() else { return false } }
            }
        }
    }

    /// A plain scalar, with libyaml's rules for where it ends and when it continues on the next
    /// line (always in flow context; in block context only while more indented than the block).
    private mutating func scanPlainScalar() -> Bool {
        let minimumColumn = indent + 1
        var leadingBlanks = false
        while true {
            if column == 0, isDocumentMarker() { break }
            if at(0) == UInt8(ascii: "#") { break }
            while !isBlankZ() {
                let c = at(0)
                if inFlow, c == UInt8(ascii: ":"), Array(",?[]{}".utf8).contains(at(1)) { return false }
                if (c == UInt8(ascii: ":") && isBlankZ(1))
                    || (inFlow && Array(",[]{}".utf8).contains(c))
                {
                    break
                }
                leadingBlanks = false
                guard skip() else { return false }
            }
            guard isBlank() || isBreak() else { break }
            while isBlank() || isBreak() {
                if isBlank() {
                    if leadingBlanks, column < minimumColumn, at(0) == 0x09 { return false }
                    guard skip() else { return false }
                } else {
                    skipLine()
                    leadingBlanks = true
                }
            }
            if !inFlow, column < minimumColumn { break }
        }
        if leadingBlanks { simpleKeyAllowed = true }
        return true
    }

    /// `|` or `>` with its header, then every line indented at least as far as its content.
    private mutating func scanBlockScalar() -> Bool {
        guard skip() else { return false }
        var increment = 0
        if at(0) == UInt8(ascii: "+") || at(0) == UInt8(ascii: "-") {
            guard skip() else { return false }
            if let digit = digit() {
                guard digit > 0 else { return false }
                increment = digit
                guard skip() else { return false }
            }
        } else if let digit = digit() {
            guard digit > 0 else { return false }
            increment = digit
            guard skip() else { return false }
            if at(0) == UInt8(ascii: "+") || at(0) == UInt8(ascii: "-") { guard skip() else { return false } }
        }
        while isBlank() { guard skip() else { return false } }
        if at(0) == UInt8(ascii: "#") {
            while !atEnd, !isBreak() { guard skip() else { return false } }
        }
        guard atEnd || isBreak() else { return false }
        if isBreak() { skipLine() }
        var contentIndent = increment > 0 ? (indent >= 0 ? indent + increment : increment) : 0
        guard blockScalarBreaks(&contentIndent) else { return false }
        while column == contentIndent, !atEnd {
            while !atEnd, !isBreak() { guard skip() else { return false } }
            if isBreak() { skipLine() }
            guard blockScalarBreaks(&contentIndent) else { return false }
        }
        return true
    }

    private func digit() -> Int? {
        let c = at(0)
        return c >= 0x30 && c <= 0x39 ? Int(c - 0x30) : nil
    }

    /// Blank lines and the indentation of the next one; fixes the content indentation on the
    /// first non-empty line when the header did not give it.
    private mutating func blockScalarBreaks(_ contentIndent: inout Int) -> Bool {
        var maxIndent = 0
        while true {
            while (contentIndent == 0 || column < contentIndent), at(0) == 0x20 {
                guard skip() else { return false }
            }
            maxIndent = max(maxIndent, column)
            if (contentIndent == 0 || column < contentIndent), at(0) == 0x09 { return false }
            guard isBreak() else { break }
            skipLine()
        }
        if contentIndent == 0 {
            contentIndent = max(maxIndent, indent + 1, 1)
        }
        return true
    }
}
