public import Foundation

/// Failures of the workflow itself (the order of steps), as opposed to the failures of the
/// modules it drives, which carry their own error types and messages.
public enum WorkflowError: LocalizedError, Equatable, Sendable {
    case missingSetting(name: String, flag: String, configKey: String)
    case configUnreadable(path: String, reason: String)
    case invalidAlias(String)
    case invalidWeight(String)
    case tooLargeForDirectUpload(zipBytes: Int64, requestBytes: Int64)
    case publishedForeignCode(function: String, version: String, expected: String, actual: String)
    case raceNotSettled(function: String, attempts: Int)
    case aliasNotMoved(function: String, alias: String, expected: String, actual: String)
    case aliasNotFound(function: String, alias: String)
    case notARepository(path: String)
    case nothingToRollBack(alias: String)
    case rollbackTargetMissing(function: String, version: String)
    case promoteSourceMissing(function: String, alias: String)
    case provenance(commit: String, branch: String, alias: String)
    case unknownProvenance(function: String, version: String)
    case ledgerMismatch(version: String, ledger: String, actual: String)
    case noCommit(String)
    case hookNotHead(pushed: String, head: String)
    case hookDirty(directory: String)
    case timedOut(what: String, seconds: Int)
    case drift(count: Int)
    case notesNotPushed(reason: String)
    case noRoutingToFinish(alias: String)

    public var errorDescription: String? {
        switch self {
        case let .missingSetting(name, flag, key):
            return "no \(name) given: pass \(flag) or set `\(key)` in lambda-deploy.yml"
        case let .configUnreadable(path, reason):
            return "cannot read \(path): \(reason)"
        case let .invalidAlias(alias):
            return "invalid alias name \(Self.describeAlias(alias)): use 1-128 letters, digits, '-' or '_', not only digits (e.g. dev, prod)"
        case let .invalidWeight(value):
            return "invalid weight '\(value)': give a percentage strictly between 0 and 100, e.g. --weight 10"
        case let .tooLargeForDirectUpload(zip, request):
            return "the package is \(zip) bytes (\(request) bytes as a request), over Lambda's 69905067-byte direct upload limit: set an S3 bucket with --s3-bucket or `s3: {bucket: ...}` in lambda-deploy.yml"
        case let .publishedForeignCode(function, version, expected, actual):
            return "\(function) version \(version) holds code \(actual), not the packaged \(expected): another deploy raced this one; the alias was not moved, run the deploy again"
        case let .raceNotSettled(function, attempts):
            return "\(function): $LATEST kept changing under this deploy (\(attempts) attempts; another deploy is running?): the alias was not moved, run the deploy again when the other one has finished"
        case let .aliasNotMoved(function, alias, expected, actual):
            return "\(function):\(alias) points at version \(actual), not \(expected), after the update: check for a concurrent deploy and run `lambda-deploy verify`"
        case let .aliasNotFound(function, alias):
            return "alias '\(alias)' does not exist on \(function): deploy to it first (lambda-deploy deploy --alias \(alias))"
        case let .notARepository(path):
            return "\(path) is not inside a git repository: run this from the function's repository (records, hooks and notes live there)"
        case let .nothingToRollBack(alias):
            return "nothing to roll back to for alias '\(alias)': no earlier version is recorded in the ledger or in the alias description; pass --to VERSION"
        case let .rollbackTargetMissing(function, version):
            return "version \(version) of \(function) does not exist: list versions with `aws lambda list-versions-by-function` and pass an existing one to --to"
        case let .promoteSourceMissing(function, alias):
            return "alias '\(alias)' does not exist on \(function): deploy to it first (lambda-deploy deploy --alias \(alias)), then promote"
        case let .provenance(commit, branch, alias):
            return "commit \(commit.prefix(12)) is not on branch '\(branch)' (mapped to \(alias)): merge it first, or pass --any-commit to promote it anyway (recorded)"
        case let .unknownProvenance(function, version):
            return "no ledger record says which commit \(function) version \(version) was built from: fetch the records (lambda-deploy notes fetch) or pass --any-commit (recorded)"
        case let .ledgerMismatch(version, ledger, actual):
            return "version \(version) holds code \(actual) but the ledger recorded \(ledger): someone changed it outside lambda-deploy; deploy again instead of promoting"
        case let .noCommit(reason):
            return "cannot tell which commit is deployed: \(reason)"
        case let .hookNotHead(pushed, head):
            return "pushing \(pushed.prefix(12)) but HEAD is \(head.prefix(12)): the dev deploy ships the checked-out tree, so check out the pushed commit (or push HEAD) to deploy it"
        case let .hookDirty(directory):
            return "\(directory) has uncommitted changes, so the deployed code would not match the pushed commit: commit or stash them, or set hook.allowDirty: true (recorded as dirty)"
        case let .timedOut(what, seconds):
            return "\(what) did not finish within \(seconds) s: check connectivity, or raise the limit (hook.timeout in lambda-deploy.yml)"
        case let .drift(count):
            return "\(count) alias(es) differ from the ledger: see the lines above; redeploy, or roll back the manual change"
        case let .notesNotPushed(reason):
            return "the deploy happened but its record was not pushed (\(reason)): it is kept locally; run `lambda-deploy notes push` to share it"
        case let .noRoutingToFinish(alias):
            return "alias '\(alias)' has no traffic shift in progress: nothing to finish (start one with --weight)"
        }
    }
}

extension WorkflowError {
    /// The rejected alias with what is wrong with it, kept short: a 300-character paste should
    /// not become a 300-character error line.
    static func describeAlias(_ alias: String) -> String {
        if alias.isEmpty { return "'' (empty)" }
        let shown = alias.count > 40 ? "'\(alias.prefix(20))...' (\(alias.count) characters)" : "'\(alias)'"
        if alias.utf8.count > 128 { return alias.count > 40 ? shown : "\(shown) (\(alias.utf8.count) characters)" }
        if let bad = alias.first(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_")) }) {
            return "\(shown) (\(bad == " " ? "a space" : "'\(bad)'") is not allowed)"
        }
        if alias.allSatisfy({ $0.isASCII && $0.isNumber }) { return "\(shown) (only digits: Lambda reads that as a version)" }
        return shown
    }
}

/// Lambda's alias-name rule: `(?!^[0-9]+$)([a-zA-Z0-9-_]+)`, 1 to 128 characters.
public func validateAliasName(_ alias: String) throws(WorkflowError) {
    let allowed = alias.utf8.allSatisfy { byte in
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
            || byte == 0x2d || byte == 0x5f
    }
    let allDigits = alias.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    guard !alias.isEmpty, alias.utf8.count <= 128, allowed, !allDigits else { throw .invalidAlias(alias) }
}

/// `--weight` is a percentage strictly between 0 and 100 (Lambda takes a fraction 0.0-1.0 of traffic
/// for the additional version; 0 or 100 would be a plain alias move, not a shift).
public func validateWeight(_ weight: Double) throws(WorkflowError) {
    guard weight.isFinite, weight > 0, weight < 100 else { throw .invalidWeight(String(weight)) }
}
