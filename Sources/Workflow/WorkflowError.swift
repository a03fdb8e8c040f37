public import Foundation
import Safety

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
    /// Other deploys kept `$LATEST` busy for the whole turn budget; `other` is the commit of the
    /// last one seen, when its version description names it.
    case noTurn(function: String, seconds: Int, other: String?)
    /// A newer deploy has taken the alias (the deployer turns this into a `superseded` outcome;
    /// it stops the alias move from inside its plan).
    case superseded(function: String, alias: String, version: String, commit: String?, reason: String)
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
    case invalidVersion(String)
    case notDecided(alias: String)
    case outsideRepository(directory: String, repository: String)
    case cacheUnwritable(path: String, reason: String)
    case recordNotWritable(path: String, reason: String)
    case recordNotWritten(reason: String)
    case interrupted(Interruption.Reason)
    case needsAWSSession
    case chainedHookExists(path: String)
    case hookNotWritable(path: String, reason: String)
    case duplicateRestAPIs(name: String, ids: [String])
    case missingRootResource(apiId: String)
    case functionsFailed(count: Int, of: Int)
    case invalidKeep(Int)
    case checkFailed(function: String, version: String, reason: String)
    case checkEventUnreadable(path: String, reason: String)
    case buildFailed(function: String, status: String)
    case buildNotRun(function: String, reason: String)
    case buildOutputUnsafe(function: String, output: String, reason: String)
    case buildOutputMissing(function: String, output: String)

    public var errorDescription: String? {
        switch self {
        case let .missingSetting(name, flag, key):
            return "no \(name) given: pass \(flag) or set `\(key)` in lambda-deploy.yml"
        case let .configUnreadable(path, reason):
            return "cannot read \(path): \(reason)"
        case let .invalidAlias(alias):
            return "invalid alias name \(Self.describeAlias(alias)): use 1-128 letters, digits, '-' or '_', not only digits (e.g. dev, prod)"
        case let .invalidWeight(value):
            return "invalid weight '\(DisplayText.excerpt(value, limit: 40))': give a percentage strictly between 0 and 100, e.g. --weight 10"
        case let .tooLargeForDirectUpload(zip, request):
            return "the package is \(zip) bytes (\(request) bytes as a request), over Lambda's 69905067-byte direct upload limit: set an S3 bucket with --s3-bucket or `s3: {bucket: ...}` in lambda-deploy.yml"
        case let .publishedForeignCode(function, version, expected, actual):
            return "\(function) version \(version) holds code \(actual), not the packaged \(expected): another deploy raced this one; the alias was not moved, run the deploy again"
        case let .raceNotSettled(function, attempts):
            return "\(function): $LATEST kept changing under this deploy (\(attempts) attempts; another deploy is running?): the alias was not moved, run the deploy again when the other one has finished"
        case let .noTurn(function, seconds, other):
            let who = other.map { "another deploy (commit \($0.prefix(12)))" } ?? "another deploy"
            return "\(function): \(who) kept $LATEST busy and this deploy did not get its turn in \(seconds) s: the alias was not moved; run it again when the other deploy has finished"
        case let .superseded(function, alias, _, _, reason):
            return "\(function):\(alias) was not moved: \(reason) (deploy --allow-older moves it anyway)"
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
        case let .invalidVersion(version):
            return "invalid version '\(DisplayText.excerpt(version, limit: 40))': give a published version number, e.g. --to 41"
        case let .notDecided(alias):
            return "a CI deploy of '\(alias)' needs the release policy's decision to deploy it: run `lambda-deploy ci` (or `lambda-deploy plan` to see why not)"
        case let .outsideRepository(directory, repository):
            return "\(directory) is outside the repository \(repository), so the record would claim code its commit does not hold: move the function into the repository, or pass --allow-outside-repo (recorded as dirty)"
        case let .cacheUnwritable(path, reason):
            return "cannot write the package cache \(path) (\(reason)): set LAMBDA_DEPLOY_CACHE_DIR to a writable directory"
        case let .recordNotWritable(path, reason):
            return "the deploy record could not be written to \(path) (\(reason)), so nothing was deployed: make the repository writable, or deploy from a clone you can write to"
        case let .recordNotWritten(reason):
            return "the deploy happened but its record could not be written (\(reason)): run `lambda-deploy verify` to see the alias's state, fix the repository, and record it by deploying again (an unchanged deploy writes a record)"
        case let .interrupted(reason):
            switch reason {
            case .signal(let number):
                return "interrupted by \(number == SIGTERM ? "SIGTERM" : number == SIGINT ? "SIGINT" : "signal \(number)") before the next step: nothing more was changed in AWS; what changed is recorded (see `lambda-deploy history`)"
            case .deadline(let seconds, let setting):
                return "stopped after \(seconds) s (\(setting)) before the next step: nothing more was changed in AWS; raise \(setting) in lambda-deploy.yml if the deploy needs longer"
            }
        case .needsAWSSession:
            return "this step needs real AWS clients (API Gateway, STS), which a test double does not provide"
        case let .chainedHookExists(path):
            return "\(path) already exists (a hook chained earlier): move it away, then run `lambda-deploy hook install` again"
        case let .hookNotWritable(path, reason):
            return "cannot write the hook \(path) (\(reason)): check the hooks directory's permissions"
        case let .duplicateRestAPIs(name, ids):
            return "\(ids.count) REST APIs are named '\(name)' (\(ids.joined(separator: ", "))): delete the extra ones, or pass --api with a unique name"
        case let .checkFailed(function, version, reason):
            return "the check of \(function) version \(version) failed, so the alias was not moved: \(reason) (fix the function and deploy again; --skip-check skips it, recorded)"
        case let .checkEventUnreadable(path, reason):
            return "cannot read the check event \(path): \(reason); fix `check.eventFile` in lambda-deploy.yml"
        case let .buildFailed(function, status):
            return "the build of \(function) failed (\(status); its last lines are above), so nothing was deployed: fix the command (`build.command` in lambda-deploy.yml, run in the function's directory) and try again"
        case let .buildNotRun(function, reason):
            return "cannot build \(function): \(reason); nothing was deployed"
        case let .buildOutputUnsafe(function, output, reason):
            return "the build output '\(DisplayText.excerpt(output, limit: 80))' of \(function) \(reason): set `build.output` to a folder inside the function directory, reached without symlinks"
        case let .buildOutputMissing(function, output):
            return "the build output '\(DisplayText.excerpt(output, limit: 80))' of \(function) does not exist: build it first (leave out --no-build)"
        case let .invalidKeep(keep):
            return "invalid --keep \(keep): keep at least the newest version (e.g. --keep 10)"
        case let .functionsFailed(count, total):
            return "\(count) of \(total) functions failed to deploy (see the lines above); the others finished, each alias consistent with its record"
        case let .missingRootResource(apiId):
            return "REST API \(apiId) has no root resource '/': recreate the API, or pass --api with another name"
        }
    }
}

extension WorkflowError {
    /// The rejected alias with what is wrong with it, kept short: a 300-character paste should
    /// not become a 300-character error line.
    static func describeAlias(_ alias: String) -> String {
        if alias.isEmpty { return "'' (empty)" }
        let shown = alias.count > 40 ? "'\(DisplayText.escaped(String(alias.prefix(20))))...' (\(alias.count) characters)" : "'\(DisplayText.escaped(alias))'"
        if alias.utf8.count > 128 { return alias.count > 40 ? shown : "\(shown) (\(alias.utf8.count) characters)" }
        if let bad = alias.first(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_")) }) {
            return "\(shown) (\(bad == " " ? "a space" : "'\(DisplayText.escaped(String(bad)))'") is not allowed)"
        }
        if alias.allSatisfy({ $0.isASCII && $0.isNumber }) { return "\(shown) (only digits: Lambda reads that as a version)" }
        return shown
    }
}

/// Lambda's alias-name rule (Safety's `LambdaNames`, the one home of it), as a workflow error.
public func validateAliasName(_ alias: String) throws(WorkflowError) {
    if LambdaNames.aliasProblem(alias) != nil { throw .invalidAlias(alias) }
}

/// `--weight` is a percentage strictly between 0 and 100 (Lambda takes a fraction 0.0-1.0 of traffic
/// for the additional version; 0 or 100 would be a plain alias move, not a shift).
public func validateWeight(_ weight: Double) throws(WorkflowError) {
    guard weight.isFinite, weight > 0, weight < 100 else { throw .invalidWeight(String(weight)) }
}

/// `--weight` as the user typed it: the one parser of it, for every command that takes one.
public func parseWeight(_ text: String) throws(WorkflowError) -> Double {
    guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite, value > 0, value < 100 else {
        throw .invalidWeight(text)
    }
    return value
}
