import Foundation
import Testing
@testable import Workflow

/// Lines written by a reporter, for assertions.
final class CapturedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var lines: [String] { lock.withLock { stored } }
    func append(_ line: String) { lock.withLock { stored.append(line) } }
}

/// Upload progress: the terminal bar's text, and the plain quarter lines CI logs get.
struct UploadProgressTests {
    @Test func theBarShowsTheShareSentAndTheTime() {
        #expect(Reporter.progressLine("uploading 33.6 MB to pr", fraction: nil, elapsed: .milliseconds(300)) == "uploading 33.6 MB to pr 0.3 s")
        #expect(Reporter.progressLine("up", fraction: 0, elapsed: .seconds(1)) == "up [--------------------]   0%  1.0 s")
        #expect(Reporter.progressLine("up", fraction: 0.26, elapsed: .seconds(2)) == "up [#####---------------]  26%  2.0 s")
        #expect(Reporter.progressLine("up", fraction: 1, elapsed: .milliseconds(4500)) == "up [####################] 100%  4.5 s")
        // A transport that over-reports never draws past the end.
        #expect(Reporter.progressLine("up", fraction: 1.7, elapsed: .zero, width: 4) == "up [####] 100%  0.0 s")
    }

    @Test func eachQuarterIsReportedOnceEvenAcrossARetry() {
        let state = TransferState()
        #expect(state.quartersReached().isEmpty)  // nothing known yet
        state.update(sent: 10, total: 100)
        #expect(state.quartersReached().isEmpty)
        state.update(sent: 60, total: 100)
        #expect(state.quartersReached() == [1, 2])
        #expect(state.quartersReached().isEmpty)
        state.update(sent: 0, total: 100)  // the retry starts over
        #expect(state.fraction == 0)
        state.update(sent: 80, total: 100)
        #expect(state.quartersReached() == [3])
        state.update(sent: 100, total: 100)
        #expect(state.quartersReached() == [4])
    }

    func deploy(bytes: Int64) async throws -> [String] {
        let captured = CapturedLines()
        let reporter = Reporter(isTerminal: false) { captured.append($0) }
        let lambda = FakeLambda(latestCode: "OLD")
        let deployer = Deployer(lambda: lambda, objectStore: nil, reporter: reporter)
        let target = Deployer.Target(function: "pr", region: "us-east-1", alias: "dev", commit: "abc123")
        _ = try await deployer.deploy(try DeployerTests.package("NEW", bytes: bytes), to: target)
        return captured.lines
    }

    @Test func aLargeUploadGetsAPlainLineAtEachQuarterInCI() async throws {
        let lines = try await deploy(bytes: 20_000_000)
        let label = try #require(lines.first { $0.hasPrefix("uploading ") })
        #expect(lines.filter { $0.hasPrefix(label + ": ") } == [25, 50, 75, 100].map { "\(label): \($0)% sent" })
        #expect(!lines.contains { $0.contains("\r") })
    }

    @Test func aSmallUploadGetsOnlyItsLabel() async throws {
        let lines = try await deploy(bytes: 200_000)
        #expect(lines.contains { $0.hasPrefix("uploading ") })
        #expect(!lines.contains { $0.contains("% sent") })
    }
}
