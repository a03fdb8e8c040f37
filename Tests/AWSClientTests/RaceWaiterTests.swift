import Foundation
import Testing
@testable import AWSClient

/// The waiter a deploy uses for its own update: another deploy may be waiting for its turn, so
/// the end of a 1-2 s update must be noticed within about half a second.
@Suite struct RaceWaiterTests {
    /// `$LATEST` stays InProgress until the clock reaches `seconds`, then is Successful.
    static func update(lasting seconds: Double, clock: FakeClock) -> FakeTransport {
        FakeTransport { _, _ in
            let done = clock.now() >= .milliseconds(Int64(seconds * 1000))
            return Fixture.json(200, Fixture.function(sha: "new=", status: done ? "Successful" : "InProgress"))
        }
    }

    @Test(arguments: [0.3, 1.0, 1.5, 2.0, 2.9, 4.5])
    func anUpdateOfAFewSecondsIsNoticedWithinAQuarterSecondOfItsEnd(_ seconds: Double) async throws {
        let clock = FakeClock()
        let function = try await LambdaClient(Fixture.configuration(Self.update(lasting: seconds, clock: clock), clock: clock))
            .waitUntilUpdated("demo", timeout: .seconds(60))
        #expect(function.lastUpdateStatus == "Successful")
        let late = clock.now() - .milliseconds(Int64(seconds * 1000))
        #expect(late <= .milliseconds(250), "noticed \(late) after the update ended")
    }

    @Test func longUpdatesArePolledLessOften() {
        #expect(LambdaClient.waiterInterval(after: .zero) == .milliseconds(250))
        #expect(LambdaClient.waiterInterval(after: .seconds(10)) == .milliseconds(500))
        #expect(LambdaClient.waiterInterval(after: .seconds(30)) == .seconds(1))
        #expect(LambdaClient.waiterInterval(after: .seconds(120)) == .seconds(2))
        // A five-minute wait stays a few hundred reads, inside Lambda's control-plane rate.
        var elapsed = Duration.zero, polls = 0
        while elapsed < .seconds(300) { elapsed += LambdaClient.waiterInterval(after: elapsed); polls += 1 }
        #expect(polls < 250)
    }

    @Test func anUploadThatMeetsAnUpdateInProgressIsNotSentAgainWhenAskedNotTo() async throws {
        let transport = FakeTransport(sequence: [
            .success(Fixture.error(409, "ResourceConflictException", "The operation cannot be performed at this time. An update is in progress for resource: arn")),
            .success(Fixture.json(200, Fixture.function(sha: "new=", status: "InProgress"))),
        ])
        let client = LambdaClient(Fixture.configuration(transport))
        let error = await #expect(throws: AWSError.self) {
            _ = try await client.updateFunctionCode("demo", zipFile: Data("zip".utf8), revisionId: "r1", codeSha256: "new=", retryConflicts: false)
        }
        #expect(error?.code == "ResourceConflictException")
        #expect(transport.requests.count == 1, "the body went out once, not again into the update")
        let body = String(decoding: transport.requests.first?.body.data ?? Data(), as: UTF8.self)
        #expect(body.hasSuffix(#","RevisionId":"r1"}"#))
    }
}
