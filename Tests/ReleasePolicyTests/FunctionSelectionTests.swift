import Testing
@testable import ReleasePolicy

/// `DeployConfig.selecting(function:)`: the config one command acts on when the file lists
/// several functions, and the policy that follows from each function's own overrides.
@Suite("Choosing a function from `functions:`")
struct FunctionSelectionTests {
    static let twoFunctions = """
        region: us-east-1
        s3: {bucket: shared-bucket, prefix: lambda/}
        exclude: ['*.md']
        functions:
          - name: orders
            directory: services/orders
          - name: billing
            directory: services/billing
            region: eu-west-1
            s3: {bucket: billing-bucket}
            branches: {'release/*': prod, main: staging}
            protected: [prod, staging]
            tags: {'v*': prod}
            exclude: ['fixtures/']
        """

    @Test func anEntryInheritsWhatItDoesNotSet() throws {
        let orders = try config(Self.twoFunctions).selecting(function: "orders")
        #expect(orders.function == "orders")
        #expect(orders.directory == "services/orders")
        #expect(orders.region == "us-east-1")
        #expect(orders.s3 == S3Location(bucket: "shared-bucket", prefix: "lambda/"))
        #expect(orders.branches == DeployConfig.defaultBranches)
        #expect(orders.protected == ["prod"])
        #expect(orders.exclude == ["*.md"])
        #expect(orders.functions.isEmpty)
    }

    @Test func anEntryReplacesWhatItSets() throws {
        let billing = try config(Self.twoFunctions).selecting(function: "billing")
        #expect(billing.function == "billing")
        #expect(billing.directory == "services/billing")
        #expect(billing.region == "eu-west-1")
        #expect(billing.s3?.bucket == "billing-bucket")
        #expect(billing.branches.map(\.pattern) == ["release/*", "main"])
        #expect(billing.protected == ["prod", "staging"])
        #expect(billing.tags.map(\.alias) == ["prod"])
        #expect(billing.exclude == ["fixtures/"])
    }

    @Test func eachFunctionIsDecidedByItsOwnBranchMapping() throws {
        let file = try config(Self.twoFunctions)
        let orders = ReleasePolicy(config: try file.selecting(function: "orders"))
        let billing = ReleasePolicy(config: try file.selecting(function: "billing"))
        // main: orders goes to prod (the default mapping), billing to staging (its own).
        #expect(orders.decide(travisPush(branch: "main")).alias == "prod")
        #expect(billing.decide(travisPush(branch: "main")).alias == "staging")
        // release/2.0: only billing maps it.
        #expect(orders.decide(travisPush(branch: "release/2.0")).action == .skip)
        #expect(billing.decide(travisPush(branch: "release/2.0")).alias == "prod")
        // billing protects staging too: refused from a laptop.
        let local = CIContext(service: .local, isCI: false, branch: "main", eventType: .local)
        #expect(billing.decide(local).action == .skip)
        #expect(throws: PolicyError.self) { try billing.checkProtection(billing.decide(alias: "staging", context: local)) }
        #expect(throws: Never.self) { try orders.checkProtection(orders.decide(alias: "staging", context: local)) }
    }

    @Test func severalFunctionsWithoutAChoiceIsAnErrorNamingThem() throws {
        let error = #expect(throws: PolicyError.self) { try config(Self.twoFunctions).selecting(function: nil) }
        #expect(error == .functionNotChosen(names: ["orders", "billing"]))
        let message = try #require(error?.errorDescription)
        #expect(message.contains("orders, billing"))
        #expect(message.contains("--function NAME"))
        #expect(error?.isFunctionChoice == true)
    }

    @Test func anUnknownNameIsAnErrorNamingTheList() throws {
        let error = #expect(throws: PolicyError.self) { try config(Self.twoFunctions).selecting(function: "ordres") }
        #expect(error == .unknownFunction(name: "ordres", names: ["orders", "billing"]))
        #expect(error?.errorDescription?.contains("`ordres` is not in the `functions:` list") == true)
    }

    @Test func aSingleEntryIsTheDefault() throws {
        let only = try config("functions:\n  - name: solo\n    directory: src\n").selecting(function: nil)
        #expect(only.function == "solo")
        #expect(only.directory == "src")
    }

    @Test func theShorthandTakesTheFlagAsTheName() throws {
        let shorthand = try config("function: pr\ndirectory: src\n")
        #expect(try shorthand.selecting(function: nil) == shorthand)
        let renamed = try shorthand.selecting(function: "pr-staging")
        #expect(renamed.function == "pr-staging")
        #expect(renamed.directory == "src")
        #expect(try DeployConfig.default.selecting(function: nil).function == nil)
    }
}
