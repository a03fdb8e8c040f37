import Foundation
import Testing

/// `check:` (issue 17): the new version is invoked before traffic moves to it.
@Suite struct CheckTests {
    static func workspace(_ check: String, emulator: LambdaEmulator) async throws -> GitWorkspace {
        let space = try await GitWorkspace(config: check, createFunctionInMoto: false)
        try emulator.createFunction(space.function)
        return space
    }

    @Test func aPassingCheckMovesTheAliasAndTheVersionNotTheAliasIsInvoked() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0))
        let space = try await Self.workspace("check:\n  event: {path: /health}\n  expect: {statusCode: 200}\n", emulator: emulator)
        try await emulator.queueInvokeAnswers([.init(payload: #"{"statusCode": 200, "body": "ok"}"#)])
        let result = try space.tool(["deploy", "--alias", "dev", "--json"], extraEnv: emulator.environment)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("check passed"), "\(result.stderr)")
        #expect(try motoQuery(["get-alias", space.function, "dev"], endpoint: emulator.motoEndpoint) != nil)
        let invocations = try await emulator.stats().invocations
        #expect(invocations.count == 1)
        #expect(invocations.first?.qualifier != "dev", "the version is invoked, not the alias")
    }

    @Test func aFailingCheckLeavesTheAliasAndRecordsWhy() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0))
        let space = try await Self.workspace("check:\n  event: {}\n", emulator: emulator)
        try await emulator.queueInvokeAnswers([.init(payload: #"{"errorMessage": "boom\u001b[2J", "errorType": "ValueError"}"#, functionError: .unhandled)])
        let result = try space.tool(["deploy", "--alias", "dev"], extraEnv: emulator.environment)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("the check of \(space.function) version"), "\(result.stderr)")
        #expect(result.stderr.contains("boom"))
        #expect(!result.output.contains("\u{1b}"))
        #expect(try motoQuery(["get-alias", space.function, "dev"], endpoint: emulator.motoEndpoint) == nil)
        let record = try #require(try space.noteRecords(try space.head()).first)
        #expect(record["result"] as? String == "failed")
        #expect((record["error"] as? String)?.contains("boom") == true)
    }

    @Test func anAnswerWithoutTheExpectedSubsetFailsAndSkipCheckMovesAnyway() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0))
        let space = try await Self.workspace("check:\n  event: {}\n  expect: {statusCode: 200}\n", emulator: emulator)
        try await emulator.queueInvokeAnswers([.init(payload: #"{"statusCode": 500}"#)])
        let failed = try space.tool(["deploy", "--alias", "dev"], extraEnv: emulator.environment)
        #expect(failed.status == 1, "\(failed.output)")
        #expect(failed.stderr.contains("does not contain"), "\(failed.stderr)")
        let skipped = try space.tool(["deploy", "--alias", "dev", "--skip-check", "--no-lint", "dev-files"], extraEnv: emulator.environment)
        #expect(skipped.status == 0, "\(skipped.output)")
        let record = try #require(try space.noteRecords(try space.head()).last)
        #expect(record["skipCheck"] as? Bool == true)
        #expect(record["lintDisabled"] as? String == "dev-files")
        #expect(try motoQuery(["get-alias", space.function, "dev"], endpoint: emulator.motoEndpoint) != nil)
    }

    @Test func aMissingEventFileFailsBeforeAnyAWSCall() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0))
        let space = try await Self.workspace("check:\n  eventFile: events/missing.json\n", emulator: emulator)
        try await emulator.resetStats()
        let result = try space.tool(["deploy", "--alias", "dev"], extraEnv: emulator.environment)
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot read the check event"), "\(result.stderr)")
        #expect(try await emulator.stats().requests == 0)
    }
}
