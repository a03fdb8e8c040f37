import Foundation
public import ReleasePolicy
import Digest
import Safety

/// Whether the first commit is an ancestor of the second (a commit counts as its own); nil when
/// this clone cannot tell (a commit is not here, or the history is cut short).
public typealias AncestryCheck = @Sendable (_ ancestor: String, _ descendant: String) -> Bool?

/// Where a version came from, as lambda-deploy writes it into the version description:
/// `commit=<id>`, `build=<BuildOrder text>` and `branch=<8 hex digits>` (a hash of the branch
/// name: enough to tell "the same branch", without putting a name of any length or content into
/// a 256-character field).
///
/// Read back from AWS, a description is outside data: each field is taken only when it is well
/// formed (an object id, a build order, 8 hex digits); anything else counts as absent.
public struct VersionProvenance: Sendable, Equatable {
    public var commit: String?
    public var build: BuildOrder?
    public var branchHash: String?

    public init(commit: String? = nil, build: BuildOrder? = nil, branchHash: String? = nil) {
        self.commit = commit
        self.build = build
        self.branchHash = branchHash
    }

    static let commitKey = "commit"
    static let branchKey = "branch"
    /// The keys whose values are read back; user text in a description must not forge them.
    static let readKeys = [commitKey, BuildOrder.descriptionKey, branchKey]

    /// The first well-formed value of each field in `description` (at most its first 1,024
    /// characters: Lambda allows 256, a server may send anything).
    public init(description: String?) {
        self.init()
        guard let description else { return }
        for word in description.prefix(1024).split(separator: " ") {
            guard let equals = word.firstIndex(of: "=") else { continue }
            let key = String(word[..<equals]), value = String(word[word.index(after: equals)...])
            switch key {
            case Self.commitKey where commit == nil && GitNames.isObjectID(value): commit = value
            case BuildOrder.descriptionKey where build == nil: build = BuildOrder(text: value)
            case Self.branchKey where branchHash == nil && Self.isBranchHash(value): branchHash = value
            default: break
            }
        }
    }

    /// `build=… branch=…`, for the version description (the commit is written before them).
    var descriptionFields: [String] {
        var fields: [String] = []
        if let build { fields.append(build.descriptionField) }
        if let branchHash { fields.append("\(Self.branchKey)=\(branchHash)") }
        return fields
    }

    /// The first 8 hex digits of the SHA-256 of the branch name. Fixed forever: versions
    /// published by one release of the tool are compared by the next.
    public static func branchHash(_ name: String) -> String {
        String(Hex.encode(SHA256.hash(Data(name.utf8))).prefix(8))
    }

    static func isBranchHash(_ value: String) -> Bool {
        value.utf8.count == 8 && value.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}

/// The "never backwards" rule: whether a deploy may replace the version an alias runs, or a
/// newer deploy has already taken the alias (the deploy then ends `superseded`).
///
/// The alias runs something newer when its commit descends from ours (git ancestry, where this
/// clone knows both commits), or, where ancestry cannot be known (a depth-1 clone, a commit not
/// fetched), when it came from a later build of the same branch of the same CI pipeline
/// (`BuildOrder`). Anything else — unrelated commits, versions lambda-deploy did not publish,
/// builds that do not compare — stays last-writer-wins. Promote and rollback never ask.
public enum Precedence {
    public enum Verdict: Sendable, Equatable {
        case proceed
        /// The alias runs something newer; `reason` says why, in words.
        case superseded(reason: String)
    }

    /// - Parameters:
    ///   - ours: this deploy's commit, build and branch hash.
    ///   - theirs: what the description of the version the alias runs says.
    ///   - version: that version, and `alias` its alias, for the reason.
    public static func decide(
        ours: VersionProvenance, theirs: VersionProvenance, version: String, alias: String, isAncestor: AncestryCheck?
    ) -> Verdict {
        let running = "\(alias) runs version \(version)"
        if let mine = ours.commit, let other = theirs.commit {
            if mine == other { return .proceed }
            switch isAncestor?(mine, other) {
            case true?:
                return .superseded(reason: "\(running) (commit \(other.prefix(12))), which descends from this deploy's commit \(mine.prefix(12))")
            case false?:
                return .proceed
            case nil:
                break
            }
        }
        let sameBranch = ours.branchHash != nil && ours.branchHash == theirs.branchHash
        if BuildOrder.isLater(theirs.build, than: ours.build, sameBranch: sameBranch) == .later, let build = theirs.build, let mine = ours.build {
            let commit = theirs.commit.map { " (commit \($0.prefix(12)))" } ?? ""
            return .superseded(
                reason: "\(running)\(commit) from \(build.service.rawValue) build \(Self.number(build)), later than this build \(Self.number(mine)) of the same branch (ancestry unknown in this clone)")
        }
        return .proceed
    }

    private static func number(_ build: BuildOrder) -> String {
        build.attempt.map { "\(build.number) attempt \($0)" } ?? "\(build.number)"
    }
}
