import Foundation
import Testing

/// `gateway setup` and `doctor` against moto. moto keeps one resource policy for all of a
/// function's qualifiers, and wipes an existing stage's variables when a deployment is created:
/// the checks below read permissions across the whole function and read stage variables only
/// where no deployment was created since the stage was.
@Suite struct GatewayEndToEndTests {
    /// dev and prod both exist (a permission names its alias as qualifier).
    func deployBothAliases(_ space: GitWorkspace) throws {
        let dev = try space.tool(["deploy", "--alias", "dev"])
        #expect(dev.status == 0, "\(dev.output)")
        let prod = try space.tool(["promote", "--from", "dev", "--to", "prod", "--override-protection"])
        #expect(prod.status == 0, "\(prod.output)")
    }

    func gatewayState(_ space: GitWorkspace, api: String) throws -> [String: Any] {
        try #require(try space.moto(["gateway", api]) as? [String: Any])
    }

    @Test func setupCreatesTheWholeChainAndASecondRunCreatesNothing() async throws {
        let space = try await GitWorkspace()
        try deployBothAliases(space)
        let api = uniqueName("api")

        let first = try space.tool(["gateway", "setup", "--api", api, "--aliases", "dev,prod", "--method", "POST", "--path", "/", "--json"])
        #expect(first.status == 0, "\(first.output)")
        let report = try first.json()
        let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:\(space.function):${stageVariables.alias}/invocations"
        #expect(report["integrationURI"] as? String == uri)
        #expect((report["changes"] as? [String])?.isEmpty == false)
        let apiId = try #require(report["apiId"] as? String)
        let stages = try #require(report["stages"] as? [[String: Any]])
        #expect(stages.compactMap { $0["invokeURL"] as? String } == [
            "https://\(apiId).execute-api.us-east-1.amazonaws.com/dev/", "https://\(apiId).execute-api.us-east-1.amazonaws.com/prod/",
        ])

        let state = try gatewayState(space, api: api)
        #expect(state["apis"] as? Int == 1)
        #expect(state["id"] as? String == apiId)
        let methods = try #require(state["methods"] as? [String: [String: String]])
        #expect(methods["POST /"] == ["type": "AWS_PROXY", "uri": uri])
        let stageState = try #require(state["stages"] as? [String: [String: Any]])
        #expect(stageState.keys.sorted() == ["dev", "prod"])
        #expect(stageState["dev"]?["variables"] as? [String: String] == ["alias": "dev"])
        #expect(stageState["prod"]?["variables"] as? [String: String] == ["alias": "prod"])

        // One statement per alias, each limited to its own stage of this API.
        let policy = try #require(try space.moto(["policy", space.function, "prod"]) as? [String: Any])
        let statements = try #require(policy["Statement"] as? [[String: Any]])
        for alias in ["dev", "prod"] {
            let sid = try #require(stages.first { $0["alias"] as? String == alias }?["permissionStatementId"] as? String)
            let statement = try #require(statements.first { $0["Sid"] as? String == sid }, "no statement \(sid) in \(statements)")
            let text = String(describing: statement)
            #expect(text.contains("arn:aws:execute-api:us-east-1:123456789012:\(apiId)/\(alias)/POST/"), "\(text)")
            #expect(text.contains("apigateway.amazonaws.com"))
            #expect(text.contains("function:\(space.function):\(alias)"), "\(text)")
        }
        let statementCount = statements.count

        let second = try space.tool(["gateway", "setup", "--api", api, "--aliases", "dev,prod", "--method", "POST", "--path", "/"])
        #expect(second.status == 0, "\(second.output)")
        #expect(second.stdout.contains("nothing changed"), "\(second.stdout)")
        let again = try gatewayState(space, api: api)
        #expect(again["apis"] as? Int == 1)
        #expect(again["deployments"] as? Int == state["deployments"] as? Int)
        #expect((again["stages"] as? [String: Any])?.count == 2)
        #expect(again["resources"] as? [String] == state["resources"] as? [String])
        let policyAgain = try #require(try space.moto(["policy", space.function, "prod"]) as? [String: Any])
        #expect((policyAgain["Statement"] as? [[String: Any]])?.count == statementCount)
    }

    @Test func setupOfANestedPathCreatesEachSegment() async throws {
        let space = try await GitWorkspace()
        try deployBothAliases(space)
        let api = uniqueName("api")
        let result = try space.tool(["gateway", "setup", "--api", api, "--path", "/v1/orders", "--method", "get"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("/prod/v1/orders"), "\(result.stdout)")
        let state = try gatewayState(space, api: api)
        #expect(state["resources"] as? [String] == ["/", "/v1", "/v1/orders"])
        #expect((state["methods"] as? [String: Any])?.keys.sorted() == ["GET /v1/orders"])
    }

    @Test func setupRefusesAnAliasThatDoesNotExistYet() async throws {
        let space = try await GitWorkspace()
        let api = uniqueName("api")
        let result = try space.tool(["gateway", "setup", "--api", api])
        #expect(result.status == 1)
        #expect(result.stderr.contains("does not exist on \(space.function)"), "\(result.stderr)")
        #expect(try gatewayState(space, api: api)["apis"] as? Int == 0)
    }

    @Test func doctorReportsEveryCheckWithAFixThenAllGood() async throws {
        let api = uniqueName("api")
        let space = try await GitWorkspace(config: "gateway:\n  api: \(api)\n  aliases: [dev, prod]\n  method: POST\n  path: /\n")
        let checks = ["config", "credentials", "function", "aliases", "gateway", "records (local)", "records (origin)", "pre-push hook"]

        let before = try space.tool(["doctor"])
        #expect(before.status == 1, "\(before.output)")
        for check in checks { #expect(before.stdout.contains(" \(check): "), "doctor says nothing about \(check): \(before.stdout)") }
        #expect(before.stdout.contains("fix: lambda-deploy deploy --alias dev"))
        #expect(before.stdout.contains("fix: lambda-deploy gateway setup"))
        #expect(before.stdout.contains("fix: lambda-deploy hook install"))
        #expect(before.stdout.contains("fix: lambda-deploy notes push"))

        try deployBothAliases(space)
        #expect(try space.tool(["gateway", "setup"]).status == 0)
        #expect(try space.tool(["hook", "install"]).status == 0)
        #expect(try space.tool(["notes", "push"]).status == 0)
        let after = try space.tool(["doctor"])
        #expect(after.status == 0, "\(after.output)")
        for check in checks { #expect(after.stdout.contains("ok      \(check): "), "\(check) not ok: \(after.stdout)") }
        #expect(after.stdout.contains("all good"))
        #expect(!after.output.contains("test-secret-value-never-printed"))
    }
}
