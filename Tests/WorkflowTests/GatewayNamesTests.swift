import Testing
@testable import Workflow

/// The ARNs and ids `gateway setup` writes: the part of the console workflow people get wrong.
struct GatewayNamesTests {
    @Test func integrationTargetsTheAliasNamedByTheStageVariable() {
        #expect(GatewayNames.integrationURI(region: "eu-west-1", account: "123456789012", function: "pr")
            == "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:pr:${stageVariables.alias}/invocations")
    }

    @Test func eachAliasMayBeInvokedByItsOwnStageOnly() {
        let prod = GatewayNames.sourceArn(region: "eu-west-1", account: "123456789012", apiId: "a1b2c3", stage: "prod", method: "POST", path: "/")
        let dev = GatewayNames.sourceArn(region: "eu-west-1", account: "123456789012", apiId: "a1b2c3", stage: "dev", method: "POST", path: "/")
        #expect(prod == "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/prod/POST/")
        #expect(dev != prod)
        #expect(GatewayNames.sourceArn(region: "r", account: "1", apiId: "x", stage: "dev", method: "GET", path: "/items/list")
            == "arn:aws:execute-api:r:1:x/dev/GET/items/list")
    }

    @Test func statementIdsAreStableValidAndDistinctPerStage() {
        let first = GatewayNames.statementId(apiId: "a1b2c3", stage: "prod", method: "POST", path: "/")
        #expect(first == GatewayNames.statementId(apiId: "a1b2c3", stage: "prod", method: "POST", path: "/"), "re-runs must reuse the id")
        #expect(first != GatewayNames.statementId(apiId: "a1b2c3", stage: "dev", method: "POST", path: "/"))
        let odd = GatewayNames.statementId(apiId: "a1", stage: "dev", method: "POST", path: "/ünï/{id}/" + String(repeating: "x", count: 200))
        #expect(odd.count <= 100)
        #expect(odd.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
    }

    @Test func invokeURLNamesTheStage() {
        #expect(GatewayNames.invokeURL(apiId: "a1", region: "us-east-1", stage: "dev", path: "/") == "https://a1.execute-api.us-east-1.amazonaws.com/dev/")
    }

    @Test(arguments: ["dev", "prod", "feature-1", "a_b", String(repeating: "a", count: 128)])
    func validAliasNames(_ name: String) throws {
        try validateAliasName(name)
    }

    @Test(arguments: ["", "123", "prod!", "dev prod", String(repeating: "a", count: 129), "ünï"])
    func invalidAliasNamesSayWhatIsAllowed(_ name: String) {
        #expect(throws: WorkflowError.invalidAlias(name)) { try validateAliasName(name) }
        #expect(WorkflowError.invalidAlias(name).errorDescription?.contains("letters, digits") == true)
    }

    @Test(arguments: [0.0, 100, -5, 150, .nan, .infinity])
    func weightsOutsideTheOpenRangeAreRefused(_ weight: Double) {
        #expect(throws: WorkflowError.self) { try validateWeight(weight) }
    }
}
