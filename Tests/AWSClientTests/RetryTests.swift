import Foundation
import Testing
@testable import AWSClient

@Suite("Retries and backoff")
struct RetryTests {
    let ok = Fixture.json(200, Fixture.function())

    @Test func throttlingHonoursRetryAfter() async throws {
        let transport = FakeTransport(sequence: [.success(Fixture.error(429, "TooManyRequestsException", "Rate exceeded", headers: ["Retry-After": "2"])), .success(ok)])
        let clock = FakeClock()
        let lambda = LambdaClient(Fixture.configuration(transport, clock: clock))
        let function = try await lambda.getFunctionConfiguration("demo")
        #expect(function.codeSha256 == "abc=")
        #expect(transport.requests.count == 2)
        #expect(clock.sleeps == [.seconds(2)])
    }

    @Test("throttling error codes are retried whatever the status", arguments: [
        (400, "ThrottlingException"), (400, "TooManyRequestsException"), (429, "Whatever"), (503, "SlowDown"),
    ])
    func throttlingCodes(_ status: Int, _ code: String) async throws {
        let transport = FakeTransport(sequence: [.success(Fixture.error(status, code)), .success(ok)])
        _ = try await LambdaClient(Fixture.configuration(transport)).getFunctionConfiguration("demo")
        #expect(transport.requests.count == 2)
    }

    @Test func serverErrorBurstThenSuccessBacksOffExponentially() async throws {
        let transport = FakeTransport(sequence: [
            .success(Fixture.error(503, "ServiceException")), .success(Fixture.error(500, "ServiceException")),
            .success(Fixture.error(502, "ServiceException")), .success(ok),
        ])
        let clock = FakeClock()
        _ = try await LambdaClient(Fixture.configuration(transport, clock: clock)).getFunctionConfiguration("demo")
        #expect(transport.requests.count == 4)
        // random returns the upper bound: base 0.2 s doubling.
        #expect(clock.sleeps == [.milliseconds(200), .milliseconds(400), .milliseconds(800)])
    }

    @Test func fullJitterStaysWithinTheCap() {
        let policy = RetryPolicy(baseDelay: .seconds(1), maxDelay: .seconds(5))
        #expect(policy.backoff(retry: 10, random: { $0 }) == .seconds(5))
        #expect(policy.backoff(retry: 3, random: { $0 / 2 }) == .seconds(2))
        #expect(policy.backoff(retry: 1, random: { _ in 0 }) == .zero)
    }

    @Test func budgetExhaustedStopsWithAClearError() async throws {
        let transport = FakeTransport(sequence: [.success(Fixture.error(503, "ServiceException", "try later"))])
        let clock = FakeClock()
        let policy = RetryPolicy(maxAttempts: 20, budget: .seconds(1))
        let error = await #expect(throws: AWSError.self) {
            _ = try await LambdaClient(Fixture.configuration(transport, clock: clock, policy: policy)).getFunctionConfiguration("demo")
        }
        // 0.2 + 0.4 slept; another 0.8 would pass the 1 s budget.
        #expect(transport.requests.count == 3)
        #expect(clock.totalSlept <= .seconds(1))
        #expect(error?.isRetryable == true)
        #expect(error?.code == "ServiceException")
        #expect(error?.errorDescription?.contains("after 3 attempts") == true)
        #expect(error?.errorDescription?.contains("HTTP 503") == true)
    }

    @Test func attemptsAreBounded() async throws {
        let transport = FakeTransport(sequence: [.failure(TransportFailure(.timedOut))])
        let policy = RetryPolicy(maxAttempts: 3)
        let error = await #expect(throws: AWSError.self) {
            _ = try await LambdaClient(Fixture.configuration(transport, policy: policy)).getFunctionConfiguration("demo")
        }
        #expect(transport.requests.count == 3)
        #expect(error?.mayHaveBeenApplied == true)
        #expect(error?.errorDescription?.contains("timed out") == true)
        #expect(error?.errorDescription?.contains("LAMBDA_DEPLOY_HTTP_TIMEOUT") == true)
    }

    @Test func connectionResetThenSuccessForAnIdempotentCall() async throws {
        let transport = FakeTransport(sequence: [.failure(TransportFailure(.connectionLost, "reset by peer")), .success(ok)])
        _ = try await LambdaClient(Fixture.configuration(transport)).getFunctionConfiguration("demo")
        #expect(transport.requests.count == 2)
    }

    @Test func aNonIdempotentCallWithoutReadBackIsNotRepeatedAfterAnAmbiguousFailure() async throws {
        let transport = FakeTransport(sequence: [.failure(TransportFailure(.connectionLost, "reset by peer"))])
        let error = await #expect(throws: AWSError.self) {
            _ = try await APIGatewayClient(Fixture.configuration(transport)).createRestApi(name: "api")
        }
        #expect(transport.requests.count == 1)
        #expect(error?.mayHaveBeenApplied == true)
    }

    @Test func aNonIdempotentCallIsRepeatedWhenItCertainlyDidNotArrive() async throws {
        let alias: [String: Any] = ["Name": "dev", "FunctionVersion": "1", "RevisionId": "r1"]
        let transport = FakeTransport(sequence: [.failure(TransportFailure(.connectionRefused)), .success(Fixture.json(201, alias))])
        let created = try await LambdaClient(Fixture.configuration(transport)).createAlias("demo", name: "dev", version: "1")
        #expect(created.functionVersion == "1")
        #expect(transport.requests.count == 2)
    }

    @Test func updateInProgressConflictsWaitAndRetry() async throws {
        let conflict = Fixture.error(409, "ResourceConflictException", "The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:123456789012:function:demo")
        let transport = FakeTransport(sequence: [.success(conflict), .success(conflict), .success(conflict), .success(ok)])
        let clock = FakeClock()
        let function = try await LambdaClient(Fixture.configuration(transport, clock: clock))
            .publishVersion("demo", codeSha256: "abc=", description: "commit 1234567")
        #expect(function.codeSha256 == "abc=")
        #expect(transport.requests.count == 4)
        #expect(clock.sleeps.count == 3)
        #expect(clock.sleeps.allSatisfy { $0 >= .milliseconds(250) })
    }

    @Test("client errors are not retried", arguments: [
        (400, "InvalidParameterValueException"), (404, "ResourceNotFoundException"), (412, "PreconditionFailedException"),
        (403, "AccessDeniedException"),
    ])
    func noRetryOnClientErrors(_ status: Int, _ code: String) async throws {
        let transport = FakeTransport(sequence: [.success(Fixture.error(status, code, "nope"))])
        let error = await #expect(throws: AWSError.self) {
            _ = try await LambdaClient(Fixture.configuration(transport)).updateAlias("demo", name: "prod", version: "3", revisionId: "r1")
        }
        #expect(transport.requests.count == 1)
        #expect(error?.code == code)
        #expect(error?.isRetryable == false)
        #expect(error?.mayHaveBeenApplied == false)
    }

    @Test func retryPolicyFromEnvironment() throws {
        let defaults = try RetryPolicy(environment: [:])
        #expect(defaults.maxAttempts == 6)
        #expect(defaults.requestTimeout == .seconds(30))
        #expect(defaults.budget == .seconds(60))
        #expect(defaults.uploadBudget >= defaults.budget)
        let custom = try RetryPolicy(environment: [
            "LAMBDA_DEPLOY_MAX_ATTEMPTS": "2", "LAMBDA_DEPLOY_HTTP_TIMEOUT": "0.5", "LAMBDA_DEPLOY_RETRY_BUDGET": "3",
        ])
        #expect(custom.maxAttempts == 2)
        #expect(custom.requestTimeout == .milliseconds(500))
        #expect(custom.budget == .seconds(3))
    }

    @Test func timeBoundsFromEnvironment() throws {
        let defaults = try RetryPolicy(environment: [:])
        #expect(defaults.connectTimeout == .seconds(10))
        #expect(defaults.stallTimeout == .seconds(30))
        #expect(defaults.uploadBudget == .seconds(900))
        let custom = try RetryPolicy(environment: [
            "LAMBDA_DEPLOY_CONNECT_TIMEOUT": "2", "LAMBDA_DEPLOY_STALL_TIMEOUT": "7.5", "LAMBDA_DEPLOY_RETRY_BUDGET": "40",
        ])
        #expect(custom.connectTimeout == .seconds(2))
        #expect(custom.stallTimeout == .milliseconds(7500))
        // A budget the user sets bounds every call, uploads included.
        #expect(custom.budget == .seconds(40))
        #expect(custom.uploadBudget == .seconds(40))
    }

    /// Every attempt carries the policy's bounds, and its total is what is left of the call's
    /// budget plus one stall bound: no call outlives its budget by more than that.
    @Test func eachAttemptIsBoundedByWhatIsLeftOfTheBudget() async throws {
        let transport = FakeTransport(sequence: [
            .success(Fixture.error(503, "ServiceException")), .success(Fixture.error(503, "ServiceException")), .success(ok),
        ])
        let clock = FakeClock()
        let policy = RetryPolicy(
            requestTimeout: .seconds(4), connectTimeout: .seconds(3), stallTimeout: .seconds(5), budget: .seconds(20), uploadBudget: .seconds(100))
        _ = try await LambdaClient(Fixture.configuration(transport, clock: clock, policy: policy)).getFunctionConfiguration("demo")
        let limits = transport.requests.map(\.limits)
        #expect(limits.map(\.connect) == Array(repeating: .seconds(3), count: 3))
        #expect(limits.map(\.stall) == Array(repeating: .seconds(5), count: 3))
        #expect(limits.map(\.answer) == Array(repeating: .seconds(4), count: 3))
        // Backoff (random = the upper bound) slept 0.2 s, then 0.4 s.
        #expect(limits.map(\.total) == [.seconds(25), .milliseconds(24_800), .milliseconds(24_400)])

        let upload = FakeTransport(sequence: [.success(ok)])
        _ = try await LambdaClient(Fixture.configuration(upload, clock: clock, policy: policy)).updateFunctionCode("demo", zipFile: Data([1]))
        #expect(upload.requests.first?.limits.total == .seconds(105), "uploads have their own budget")
    }

    @Test("a timeout names the bound that ended it and its variable", arguments: [
        (TransportFailure.Bound.connect, "LAMBDA_DEPLOY_CONNECT_TIMEOUT"), (.stall, "LAMBDA_DEPLOY_STALL_TIMEOUT"),
        (.answer, "LAMBDA_DEPLOY_HTTP_TIMEOUT"), (.budget, "LAMBDA_DEPLOY_RETRY_BUDGET"),
    ])
    func timeoutsNameTheirKnob(_ bound: TransportFailure.Bound, _ variable: String) async throws {
        let transport = FakeTransport(sequence: [.failure(TransportFailure(.timedOut, bound: bound))])
        let error = await #expect(throws: AWSError.self) {
            _ = try await LambdaClient(Fixture.configuration(transport, policy: RetryPolicy(maxAttempts: 1))).getFunctionConfiguration("demo")
        }
        #expect(error?.errorDescription?.contains(variable) == true, "\(error?.errorDescription ?? "")")
    }

    @Test func aTLSFailureIsNotRetriedAndPointsAtTheCABundle() async throws {
        let transport = FakeTransport(sequence: [.failure(TransportFailure(.tls, "SSL certificate problem: self-signed certificate", requestSent: false))])
        let error = await #expect(throws: AWSError.self) {
            _ = try await LambdaClient(Fixture.configuration(transport)).getFunctionConfiguration("demo")
        }
        #expect(transport.requests.count == 1)
        let message = try #require(error?.errorDescription)
        #expect(message.contains("127.0.0.1"))
        #expect(message.contains("AWS_CA_BUNDLE"))
        #expect(error?.mayHaveBeenApplied == false)
    }

    @Test("bad retry settings name the variable", arguments: [
        ("LAMBDA_DEPLOY_MAX_ATTEMPTS", "0"), ("LAMBDA_DEPLOY_MAX_ATTEMPTS", "lots"), ("LAMBDA_DEPLOY_HTTP_TIMEOUT", "-1"),
        ("LAMBDA_DEPLOY_RETRY_BUDGET", "soon"), ("LAMBDA_DEPLOY_STALL_TIMEOUT", "0"), ("LAMBDA_DEPLOY_CONNECT_TIMEOUT", "inf"),
    ])
    func badRetrySettings(_ name: String, _ value: String) {
        let error = #expect(throws: AWSError.self) { try RetryPolicy(environment: [name: value]) }
        #expect(error?.errorDescription?.contains(name) == true)
    }
}
