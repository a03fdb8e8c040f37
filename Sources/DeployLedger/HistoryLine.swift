import Safety

/// The human form of a record: `history` prints one per record and `show` one per record on the
/// commit. One record is always one line.
///
/// Columns, two spaces apart: time, function:alias, version (with the version it replaced and
/// the traffic weight), the commit's first 12 hex digits, branch, trigger, result, then who and
/// where (CI service, build, job and attempt, actor) and the flags that matter in an audit
/// (OVERRIDE, dirty, ALLOW-OLDER, SKIP-CHECK, lint rules off, superseded by, error).
///
/// Every value comes from outside (a note anyone with push access can write, a CI variable, a
/// branch name) and is shown through `DisplayText.escaped`, after `URLText.maskingUserinfo`: an
/// ESC sequence or a newline in a value prints as `\e` or `\n`, never raw, so no value can clear
/// the screen or forge a second record line, and no URL shows its password.
enum HistoryLine {
    /// Renders record lines (``RecordWriter``'s form) at byte level, with one scratch buffer.
    struct Renderer {
        private var ranges = [FieldRange](repeating: .absent, count: CanonicalRecordLine.fieldCount)

        private static func position(_ name: String) -> Int { RecordSchema.index[name] ?? -1 }
        private static let time = position("time"), function = position("function"), alias = position("alias")
        private static let version = position("version"), previousVersion = position("previousVersion")
        private static let weight = position("weight"), branch = position("branch"), trigger = position("trigger")
        private static let result = position("result"), ci = position("ci"), build = position("build")
        private static let job = position("job"), attempt = position("attempt"), actor = position("actor")
        private static let overrideProtection = position("overrideProtection"), dirty = position("dirty")
        private static let allowOlder = position("allowOlder"), skipCheck = position("skipCheck")
        private static let lintDisabled = position("lintDisabled"), supersededByVersion = position("supersededByVersion")
        private static let supersededByCommit = position("supersededByCommit"), error = position("error")

        /// Appends the line for `line` (without `commit`) on `commit` (hex digits shown as they
        /// are), newline included.
        mutating func render(_ line: UnsafeRawBufferPointer, commit: UnsafeRawBufferPointer, into out: ByteArena) {
            let readable = ranges.withUnsafeMutableBufferPointer { CanonicalRecordLine.fields(of: line, into: $0) }
            guard readable else {
                // Rows are always the writer's output; say so rather than print half a line.
                out.append(static: "(a record that cannot be shown) ")
                out.append(commit)
                out.append(static: "\n")
                return
            }
            func value(_ position: Int) -> UnsafeRawBufferPointer? {
                guard position >= 0, ranges[position].isPresent else { return nil }
                return UnsafeRawBufferPointer(rebasing: line[ranges[position].range])
            }
            func isTrue(_ position: Int) -> Bool {
                guard let raw = value(position) else { return false }
                return raw.count == 4 && raw[0] == 0x74  // true
            }
            func show(_ position: Int, orDash: Bool = false) {
                if let raw = value(position) {
                    Self.display(raw, into: out)
                } else if orDash {
                    out.append(static: "-")
                }
            }

            show(Self.time)
            out.append(static: "  ")
            show(Self.function)
            out.append(static: ":")
            show(Self.alias)
            out.append(static: "  ")
            let version = value(Self.version)
            if version != nil {
                out.append(static: "v")
                show(Self.version)
            } else {
                out.append(static: "-")
            }
            if let previous = value(Self.previousVersion), !(version.map { previous.elementsEqual($0) } ?? false) {
                out.append(static: " (was ")
                Self.display(previous, into: out)
                out.append(static: ")")
            }
            if let weight = value(Self.weight) {
                out.append(static: " ")
                out.append(weight)
                out.append(static: "%")
            }
            out.append(static: "  ")
            out.append(commit)
            out.append(static: "  ")
            show(Self.branch, orDash: true)
            out.append(static: "  ")
            show(Self.trigger)
            out.append(static: "  ")
            show(Self.result)

            var first = true
            func part() {
                out.append(static: first ? "  " : " ")
                first = false
            }
            if value(Self.ci) != nil {
                part()
                show(Self.ci)
                if value(Self.build) != nil {
                    out.append(static: " #")
                    show(Self.build)
                }
                if value(Self.job) != nil {
                    out.append(static: " job ")
                    show(Self.job)
                }
                if value(Self.attempt) != nil {
                    out.append(static: " attempt ")
                    show(Self.attempt)
                }
            }
            if value(Self.actor) != nil {
                part()
                out.append(static: "by ")
                show(Self.actor)
            }
            if isTrue(Self.overrideProtection) {
                part()
                out.append(static: "OVERRIDE")
            }
            if isTrue(Self.dirty) {
                part()
                out.append(static: "dirty")
            }
            if isTrue(Self.allowOlder) {
                part()
                out.append(static: "ALLOW-OLDER")
            }
            if isTrue(Self.skipCheck) {
                part()
                out.append(static: "SKIP-CHECK")
            }
            if value(Self.lintDisabled) != nil {
                part()
                out.append(static: "lint off: ")
                show(Self.lintDisabled)
            }
            let byVersion = value(Self.supersededByVersion), byCommit = value(Self.supersededByCommit)
            if byVersion != nil || byCommit != nil {
                part()
                out.append(static: "superseded")
                if let byVersion {
                    out.append(static: " by v")
                    Self.display(byVersion, into: out)
                }
                if let byCommit {
                    out.append(static: " (")
                    Self.displayCommit(byCommit, into: out)
                    out.append(static: ")")
                }
            }
            if value(Self.error) != nil {
                part()
                out.append(static: "error: ")
                show(Self.error)
            }
            out.append(static: "\n")
        }

        /// A JSON string's content as it must appear on a terminal: printable ASCII without
        /// escapes or `@` is already `DisplayText.escaped(URLText.maskingUserinfo(text))`, so it
        /// is copied; anything else is decoded and goes through both.
        static func display(_ raw: UnsafeRawBufferPointer, into out: ByteArena) {
            if isPlain(raw) {
                out.append(raw)
                return
            }
            let text = RecordParser.unescape(raw) ?? String(decoding: raw, as: UTF8.self)
            _ = out.append(DisplayText.escaped(URLText.maskingUserinfo(text)))
        }

        /// A commit id shortened to 12 digits; anything else shown whole (escaped).
        private static func displayCommit(_ raw: UnsafeRawBufferPointer, into out: ByteArena) {
            if raw.count == 40, raw.allSatisfy({ isHexDigit($0) }) {
                out.append(UnsafeRawBufferPointer(rebasing: raw[0..<12]))
            } else {
                display(raw, into: out)
            }
        }

        static func isPlain(_ raw: UnsafeRawBufferPointer) -> Bool {
            for byte in raw where byte < 0x20 || byte > 0x7E || byte == 0x5C || byte == 0x40 {
                return false
            }
            return true
        }
    }
}

extension DeployRecord {
    /// The record as `history` and `show` print it, on `commit` (one line, no newline).
    public func historyLine(commit: String) -> String {
        var writer = RecordWriter()
        writer.object(self, commit: nil)
        let out = ByteArena()
        var renderer = HistoryLine.Renderer()
        let shortCommit = GitNames.isObjectID(commit) ? String(commit.prefix(12)) : DisplayText.escaped(commit)
        let commitBytes = Array(shortCommit.utf8)
        writer.bytes.withUnsafeBytes { line in
            commitBytes.withUnsafeBytes { renderer.render(line, commit: $0, into: out) }
        }
        var text = String(decoding: out.copy(), as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}

extension ByteArena {
    func append(static text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
