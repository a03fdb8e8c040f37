import Foundation
import Testing

/// `prune` against a Lambda that behaves like AWS (version numbers never reused, paging, a 409
/// for an aliased version, account settings): the emulator in front of moto.
@Suite struct PruneEndToEndTests {
    /// Publishes `count` versions of distinct code straight through the emulator.
    static func publish(_ count: Int, function: String, emulator: LambdaEmulator) throws {
        let program = """
            import boto3, io, sys, zipfile
            c = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
            for i in range(int(sys.argv[3])):
                b = io.BytesIO(); z = zipfile.ZipFile(b, "w"); z.writestr("app.py", "x = %d\\n" % i + sys.argv[4]); z.close()
                c.update_function_code(FunctionName=sys.argv[2], ZipFile=b.getvalue())
                c.publish_version(FunctionName=sys.argv[2])
            """
        let result = try run("python3", ["-c", program, emulator.endpoint, function, String(count), UUID().uuidString], cwd: NSTemporaryDirectory(), env: ProcessInfo.processInfo.environment)
        guard result.status == 0 else { throw RunError(message: result.stderr) }
    }

    @Test func pruneDeletesWhatNothingNeedsAndNeverAVersionNumberTwice() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0))
        let space = try await GitWorkspace(createFunctionInMoto: false)
        try emulator.createFunction(space.function)
        try Self.publish(60, function: space.function, emulator: emulator)
        let alias = try run("python3", ["-c", """
            import boto3, sys
            boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing").create_alias(FunctionName=sys.argv[2], Name="dev", FunctionVersion="1")
            """, emulator.endpoint, space.function], cwd: NSTemporaryDirectory(), env: ProcessInfo.processInfo.environment)
        #expect(alias.status == 0, "\(alias.stderr)")
        let env = emulator.environment

        let dry = try space.tool(["prune", "--keep", "5", "--dry-run", "--json"], extraEnv: env)
        #expect(dry.status == 0, "\(dry.output)")
        #expect(try motoQuery(["versions", space.function], endpoint: emulator.motoEndpoint) as? [String] == (1...60).map(String.init))

        let pruned = try space.tool(["prune", "--keep", "5", "--json"], extraEnv: env)
        #expect(pruned.status == 0, "\(pruned.output)")
        let report = try pruned.json()
        let deleted = (report["versions"] as? [[String: Any]] ?? []).filter { $0["action"] as? String == "deleted" }.count
        #expect(deleted == 54)
        let remaining = try motoQuery(["versions", space.function], endpoint: emulator.motoEndpoint) as? [String] ?? []
        #expect(remaining == ["1", "56", "57", "58", "59", "60"])
        #expect((report["storageBefore"] as? [String: Any])?["used"] != nil)

        // AWS never reuses a number: the next version is 61, and a second prune keeps it.
        try Self.publish(1, function: space.function, emulator: emulator)
        #expect((try motoQuery(["versions", space.function], endpoint: emulator.motoEndpoint) as? [String])?.last == "61")
        #expect(try space.tool(["prune", "--keep", "1"], extraEnv: env).status == 0)
        #expect(try motoQuery(["versions", space.function], endpoint: emulator.motoEndpoint) as? [String] == ["1", "61"])
    }
}

extension PruneEndToEndTests {
    /// `prune: {keep: N}` runs after a deploy that published a version.
    @Test func pruneAfterDeployKeepsTheConfiguredNumber() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0))
        let space = try await GitWorkspace(config: "prune: {keep: 2}\n", createFunctionInMoto: false)
        try emulator.createFunction(space.function)
        try Self.publish(6, function: space.function, emulator: emulator)
        let result = try space.tool(["deploy", "--alias", "dev"], extraEnv: emulator.environment)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stderr.contains("deleted 5 versions of \(space.function), kept 2"), "\(result.stderr)")
        #expect(try motoQuery(["versions", space.function], endpoint: emulator.motoEndpoint) as? [String] == ["6", "7"])
    }
}
