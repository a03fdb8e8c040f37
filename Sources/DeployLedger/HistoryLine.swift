import Foundation
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
    /// Renders record lines (``RecordWriter``'s form) at byte level, with one scanner.
    struct Renderer {
        private var scanner = CanonicalRecordLine()

        private static func position(_ name: String) -> Int { RecordSchema.index[name] ?? -1 }
        private let time = position("time"), function = position("function"), alias = position("alias")
        private let version = position("version"), previousVersion = position("previousVersion")
        private let weight = position("weight"), branch = position("branch"), trigger = position("trigger")
        private let result = position("result"), ci = position("ci"), build = position("build")
        private let job = position("job"), attempt = position("attempt"), actor = position("actor")
        private let overrideProtection = position("overrideProtection"), dirty = position("dirty")
        private let allowOlder = position("allowOlder"), skipCheck = position("skipCheck")
        private let lintDisabled = position("lintDisabled"), supersededByVersion = position("supersededByVersion")
        private let supersededByCommit = position("supersededByCommit"), error = position("error")

        /// One line being written: the record line, its field ranges, and where it goes.
        private struct Line {
            let bytes: UnsafeRawBufferPointer
            let ranges: UnsafeBufferPointer<FieldRange>
            /// Every value is printable ASCII without escapes or `@`: its own display text.
            let plain: Bool
            let out: ByteArena
            var parts = 0

            func value(_ position: Int) -> UnsafeRawBufferPointer? {
                guard position >= 0, ranges[position].isPresent else { return nil }
                return UnsafeRawBufferPointer(rebasing: bytes[ranges[position].range])
            }

            func has(_ position: Int) -> Bool {
                position >= 0 && ranges[position].isPresent
            }

            func isTrue(_ position: Int) -> Bool {
                guard let raw = value(position) else { return false }
                return raw.count == 4 && raw[0] == 0x74  // true
            }

            func show(_ position: Int, orDash: Bool = false) {
                if let raw = value(position) {
                    if plain { out.append(raw) } else { Renderer.display(raw, into: out) }
                } else if orDash {
                    out.append(static: "-")
                }
            }

            /// Starts one item of the last column.
            mutating func part(_ label: StaticString) {
                out.append(static: parts == 0 ? "  " : " ")
                out.append(static: label)
                parts += 1
            }
        }

        /// Appends the line for `line` (without `commit`) on `commit` (hex digits shown as they
        /// are), newline included.
        mutating func render(_ line: UnsafeRawBufferPointer, commit: UnsafeRawBufferPointer, into out: ByteArena) {
            guard scanner.fields(of: line) else {
                // Rows are always the writer's output; say so rather than print half a line.
                out.append(static: "(a record that cannot be shown) ")
                out.append(commit)
                out.append(static: "\n")
                return
            }
            let plain = scanner.lastLineIsSimple && (line.baseAddress.map { memchr($0, 0x40, line.count) == nil } ?? true)
            scanner.ranges.withUnsafeBufferPointer { ranges in
                render(line, ranges: ranges, plain: plain, commit: commit, into: out)
            }
        }

        /// ``render(_:commit:into:)`` for a line already scanned (`ranges` from
        /// ``CanonicalRecordLine``); `plain` when every value is printable ASCII without
        /// escapes or `@`, so each is its own display text.
        func render(
            _ line: UnsafeRawBufferPointer, ranges: UnsafeBufferPointer<FieldRange>, plain: Bool,
            commit: UnsafeRawBufferPointer, into out: ByteArena
        ) {
            var l = Line(bytes: line, ranges: ranges, plain: plain, out: out)
            render(&l, commit: commit)
        }

        private func render(_ l: inout Line, commit: UnsafeRawBufferPointer) {
            let out = l.out
            l.show(time)
            out.append(static: "  ")
            l.show(function)
            out.append(static: ":")
            l.show(alias)
            out.append(static: "  ")
            let current = l.value(version)
            if current != nil {
                out.append(static: "v")
                l.show(version)
            } else {
                out.append(static: "-")
            }
            if let previous = l.value(previousVersion), !(current.map { previous.elementsEqual($0) } ?? false) {
                out.append(static: " (was ")
                l.show(previousVersion)
                out.append(static: ")")
            }
            if let percent = l.value(weight) {
                out.append(static: " ")
                out.append(percent)
                out.append(static: "%")
            }
            out.append(static: "  ")
            out.append(commit)
            out.append(static: "  ")
            l.show(branch, orDash: true)
            out.append(static: "  ")
            l.show(trigger)
            out.append(static: "  ")
            l.show(result)

            if l.has(ci) {
                l.part("")
                l.show(ci)
                if l.has(build) {
                    out.append(static: " #")
                    l.show(build)
                }
                if l.has(job) {
                    out.append(static: " job ")
                    l.show(job)
                }
                if l.has(attempt) {
                    out.append(static: " attempt ")
                    l.show(attempt)
                }
            }
            if l.has(actor) {
                l.part("by ")
                l.show(actor)
            }
            if l.isTrue(overrideProtection) { l.part("OVERRIDE") }
            if l.isTrue(dirty) { l.part("dirty") }
            if l.isTrue(allowOlder) { l.part("ALLOW-OLDER") }
            if l.isTrue(skipCheck) { l.part("SKIP-CHECK") }
            if l.has(lintDisabled) {
                l.part("lint off: ")
                l.show(lintDisabled)
            }
            if l.has(supersededByVersion) || l.has(supersededByCommit) {
                l.part("superseded")
                if l.has(supersededByVersion) {
                    out.append(static: " by v")
                    l.show(supersededByVersion)
                }
                if let byCommit = l.value(supersededByCommit) {
                    out.append(static: " (")
                    Self.displayCommit(byCommit, into: out)
                    out.append(static: ")")
                }
            }
            if l.has(error) {
                l.part("error: ")
                l.show(error)
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
