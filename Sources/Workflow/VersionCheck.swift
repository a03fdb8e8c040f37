import Foundation
import AWSClient
import ReleasePolicy

/// `check:`: invoke the newly published version (never the alias) before traffic moves to it.
///
/// It passes when Lambda reports no function error and, when `expect` is given, the answer
/// contains that JSON subset. On failure the alias does not move and the deploy fails with the
/// function's own message (cut short and escaped), recorded in a `failed` record.
struct VersionCheck: Sendable {
    let check: InvokeCheck
    let payload: Data

    /// Lambda's limit for a synchronous invocation's payload.
    static let maxPayloadBytes = 6 << 20

    /// Reads the event now, before any AWS call: a missing or broken event file fails early.
    init(_ check: InvokeCheck, project: Project) throws {
        self.check = check
        switch check.event {
        case .inline(let value):
            payload = Data(value.text.utf8)
        case .file(let path):
            let absolute = project.configRelativePath(path)
            var info = stat()
            guard stat(absolute, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, let handle = FileHandle(forReadingAtPath: absolute) else {
                throw WorkflowError.checkEventUnreadable(path: absolute, reason: "it is not a readable file")
            }
            defer { try? handle.close() }
            let data = (try? handle.read(upToCount: Self.maxPayloadBytes + 1)) ?? Data()
            guard data.count <= Self.maxPayloadBytes else {
                throw WorkflowError.checkEventUnreadable(path: absolute, reason: "it is over Lambda's 6 MB payload limit")
            }
            guard case .value = JSONValue.parse(String(decoding: data, as: UTF8.self)) else {
                throw WorkflowError.checkEventUnreadable(path: absolute, reason: "it is not JSON")
            }
            payload = data
        }
    }

    /// Invokes `version` of `function` and throws `WorkflowError.checkFailed` unless it passes.
    func run(function: String, version: String, lambda: any LambdaOperations, reporter: Reporter) async throws {
        reporter.step("checking \(function) version \(version) before traffic moves to it")
        let answer = try await lambda.invoke(function, version: version, payload: payload)
        switch check.evaluate(functionError: answer.functionError, payload: String(decoding: answer.payload, as: UTF8.self)) {
        case .passed:
            reporter.step("check passed: \(function) version \(version)")
        case .failed(let reason):
            throw WorkflowError.checkFailed(function: function, version: version, reason: reason)
        }
    }
}
