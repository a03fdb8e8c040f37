public import Foundation

/// One deployment, as stored in a git note: one JSON object per line, keys sorted.
///
/// Notes hold JSON Lines so a note can carry many records (dev, then prod, redeploys, promotions)
/// and two versions of a note merge line-wise, as `git notes merge -s cat_sort_uniq` does.
/// Readers ignore unknown keys and tolerate missing optional ones, so newer writers can add fields.
/// The annotated commit is the note's object, not a field.
///
/// The fields, their JSON names and kinds are listed once, in ``RecordSchema``: decoding,
/// encoding, the line parser, the line writer, the canonical-line check and the history cache's
/// format version all follow that table. A new stored property here needs one row there.
public struct DeployRecord: Sendable, Equatable {
    /// What happened; a record is written only once the outcome is known.
    public enum Outcome: String, Codable, Sendable, CaseIterable {
        /// The alias really points at the new version.
        case deployed
        /// The code was already live; nothing changed.
        case unchanged
        /// Something changed in AWS and the deploy did not complete.
        case failed
        /// A newer deploy of the same alias took this one's place (its version was published,
        /// but the alias runs the newer one: see ``DeployRecord/supersededByVersion``).
        case superseded
    }

    /// What started the deploy.
    public enum Trigger: String, Codable, Sendable, CaseIterable {
        case ci, hook, manual, promote, rollback
    }

    /// The record format version; this module writes 1.
    public var schema: Int
    /// UTC ISO-8601, e.g. `2024-05-01T12:00:00Z` or with milliseconds (see ``timestamp(_:)``).
    public var time: String
    public var function: String
    public var region: String
    public var account: String?
    public var alias: String
    public var version: String?
    public var previousVersion: String?
    public var codeSha256: String?
    public var result: Outcome
    public var trigger: Trigger
    /// The CI service (`github-actions`, `gitlab`, ...).
    public var ci: String?
    /// The pipeline or build number (the same for every job of one pipeline).
    public var build: String?
    /// The CI job within the build: a job number or a parallel node index.
    public var job: String?
    /// The run attempt when CI re-runs a build (`GITHUB_RUN_ATTEMPT`).
    public var attempt: String?
    public var buildUrl: String?
    public var branch: String?
    /// The CI actor or git user who caused the deploy.
    public var actor: String?
    public var dirty: Bool?
    public var overrideProtection: Bool?
    public var anyCommit: Bool?
    /// The deploy was allowed to put an older commit in place of a newer one.
    public var allowOlder: Bool?
    /// The pre-deploy check was skipped.
    public var skipCheck: Bool?
    /// Lint rules turned off for this deploy, comma-separated names.
    public var lintDisabled: String?
    /// Percent of traffic routed to the new version, for gradual deploys.
    public var weight: Int?
    /// The source alias of a promotion.
    public var promotedFrom: String?
    /// For a `superseded` record: the commit and version of the deploy that took its place.
    public var supersededByCommit: String?
    public var supersededByVersion: String?
    /// Name and version of the writer, e.g. `lambda-deploy 0.1.0`.
    public var tool: String
    public var error: String?

    public init(
        schema: Int = 1, time: String, function: String, region: String, account: String? = nil,
        alias: String, version: String? = nil, previousVersion: String? = nil, codeSha256: String? = nil,
        result: Outcome, trigger: Trigger, ci: String? = nil, build: String? = nil, job: String? = nil,
        attempt: String? = nil, buildUrl: String? = nil, branch: String? = nil, actor: String? = nil,
        dirty: Bool? = nil, overrideProtection: Bool? = nil, anyCommit: Bool? = nil, allowOlder: Bool? = nil,
        skipCheck: Bool? = nil, lintDisabled: String? = nil, weight: Int? = nil, promotedFrom: String? = nil,
        supersededByCommit: String? = nil, supersededByVersion: String? = nil, tool: String, error: String? = nil
    ) {
        self.schema = schema
        self.time = time
        self.function = function
        self.region = region
        self.account = account
        self.alias = alias
        self.version = version
        self.previousVersion = previousVersion
        self.codeSha256 = codeSha256
        self.result = result
        self.trigger = trigger
        self.ci = ci
        self.build = build
        self.job = job
        self.attempt = attempt
        self.buildUrl = buildUrl
        self.branch = branch
        self.actor = actor
        self.dirty = dirty
        self.overrideProtection = overrideProtection
        self.anyCommit = anyCommit
        self.allowOlder = allowOlder
        self.skipCheck = skipCheck
        self.lintDisabled = lintDisabled
        self.weight = weight
        self.promotedFrom = promotedFrom
        self.supersededByCommit = supersededByCommit
        self.supersededByVersion = supersededByVersion
        self.tool = tool
        self.error = error
    }

    /// The values a field keeps when a line leaves it out: ``RecordSchema`` starts every decoded
    /// record from this and overwrites what the line holds (`schema` 1, `region` and `tool` "").
    static let blank = DeployRecord(time: "", function: "", region: "", alias: "", result: .deployed, trigger: .manual, tool: "")

    // MARK: Time

    /// Formats a date the way records store it: UTC, second precision, `Z` suffix.
    public static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2))Z"
    }

    /// The record's time as a date; nil when the field is not ISO-8601.
    public var date: Date? {
        RecordTime.secondsSince1970(time).map { Date(timeIntervalSince1970: $0) }
    }

    // MARK: Lines

    /// The record as one JSON line (keys sorted, slashes unescaped), without the newline.
    ///
    /// Every control character in a value is escaped (`\n`, `\u001b`, ...), so the line never
    /// holds a raw newline: one record is always one line of its note.
    public func jsonLine() -> String {
        var writer = RecordWriter()
        writer.object(self, commit: nil)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Parses a note: the records it holds and one problem per line that is not a record.
    ///
    /// A line broken by a hand edit is reported, never fatal; blank lines are skipped.
    static func parseNote(_ bytes: UnsafeRawBufferPointer) -> (records: [DeployRecord], problems: [String]) {
        var records: [DeployRecord] = []
        var problems: [String] = []
        RecordLines.forEach(bytes) { lineNumber, line in
            switch RecordParser.parse(line) {
            case let .success(record): records.append(record)
            case let .failure(problem): problems.append("line \(lineNumber): \(problem.text)")
            }
        }
        return (records, problems)
    }

    /// ``parseNote(_:)-(UnsafeRawBufferPointer)`` over a note's text.
    static func parseNote(_ text: String) -> (records: [DeployRecord], problems: [String]) {
        var text = text
        return text.withUTF8 { parseNote(UnsafeRawBufferPointer($0)) }
    }
}

/// A deployment record together with the commit its note is attached to.
///
/// Encodes as the record's keys plus `commit`, the shape `history --json` prints.
public struct LedgerEntry: Sendable, Equatable, Encodable {
    public var commit: String
    public var record: DeployRecord

    public init(commit: String, record: DeployRecord) {
        self.commit = commit
        self.record = record
    }

    private enum ExtraKeys: String, CodingKey { case commit }

    public func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
        var container = encoder.container(keyedBy: ExtraKeys.self)
        try container.encode(commit, forKey: .commit)
    }
}

/// Splits note bytes into lines.
enum RecordLines {
    /// Calls `body` for each line that is not blank (spaces, tabs and CRs count as blank), with
    /// its 1-based number among all lines, so a problem report points at the line a human sees.
    static func forEach(_ bytes: UnsafeRawBufferPointer, _ body: (Int, UnsafeRawBufferPointer) -> Void) {
        var lineNumber = 0
        var start = 0
        let count = bytes.count
        guard let base = bytes.baseAddress else { return }
        while start < count {
            // memchr: a vectorised search, several times faster than a byte loop on 400-byte lines.
            let end: Int
            if let newline = memchr(base + start, 0x0A, count - start) {
                end = UnsafeRawPointer(newline) - base
            } else {
                end = count
            }
            lineNumber += 1
            let line = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            start = end + 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            body(lineNumber, line)
        }
    }
}

/// Fast parsing of record times for sorting and `since` filters.
enum RecordTime {
    /// Seconds since 1970 for `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`; nil for anything else.
    static func secondsSince1970(_ text: String) -> Double? {
        var text = text
        return text.withUTF8 { secondsSince1970(UnsafeRawBufferPointer($0)) }
    }

    /// The same over the UTF-8 bytes of a time, as stored in a note line (no String needed).
    static func secondsSince1970(_ bytes: UnsafeRawBufferPointer) -> Double? {
        guard bytes.count >= 20, bytes.count <= 40 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                let b = bytes[i]
                guard b >= 48 && b <= 57 else { return nil }
                value = value * 10 + Int(b - 48)
            }
            return value
        }
        guard bytes[4] == 45, bytes[7] == 45, bytes[10] == 84 || bytes[10] == 116 || bytes[10] == 32,
              bytes[13] == 58, bytes[16] == 58,
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if bytes[index] == 46 {  // "."
            var scale = 0.1
            index += 1
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        guard index < bytes.count else { return nil }
        var offset = 0
        switch bytes[index] {
        case 90, 122:  // Z
            guard index + 1 == bytes.count else { return nil }
        case 43, 45:  // + -
            guard index + 6 == bytes.count, bytes[index + 3] == 58,
                  let h = number(index + 1..<index + 3), let m = number(index + 4..<index + 6) else { return nil }
            offset = (h * 3600 + m * 60) * (bytes[index] == 43 ? 1 : -1)
        default:
            return nil
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset
        return Double(seconds) + fraction
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }
}
