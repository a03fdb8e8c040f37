import Foundation
import Testing

/// The strict Lambda emulation itself (ci/support/lambda_emulator.py through `LambdaEmulator`):
/// each behaviour moto lacks and AWS has, observed with boto3 as any AWS client sees it.
@Suite struct LambdaEmulatorTests {
    static let account = "123456789012"

    /// What one boto3 script saw: a flat JSON object printed on its last line.
    struct Observation {
        struct Failure {
            var code: String?
            var status: Int?
            var message: String?
            var retryAfter: String?
        }
        let values: [String: Any]

        subscript(_ key: String) -> String? { values[key] as? String }
        func int(_ key: String) -> Int? { (values[key] as? NSNumber)?.intValue }
        func double(_ key: String) -> Double? { (values[key] as? NSNumber)?.doubleValue }
        func strings(_ key: String) -> [String] { values[key] as? [String] ?? [] }
        func ints(_ key: String) -> [Int] { (values[key] as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.intValue } }
        func failure(_ key: String) -> Failure {
            let object = values[key] as? [String: Any] ?? [:]
            return Failure(
                code: object["code"] as? String, status: (object["status"] as? NSNumber)?.intValue, message: object["message"] as? String,
                retryAfter: object["retryAfter"] as? String)
        }
    }

    /// Python run before every script: `c` talks to the emulator, `moto` to moto directly (the
    /// ground truth), `name` is the function, `z(text)` a zip, `failure(call)` the error a call
    /// ends with (code None when it succeeds), `out(**values)` prints the observation.
    static let prelude = """
        import base64, io, json, sys, time, zipfile
        import boto3, botocore
        endpoint, moto_endpoint, name = sys.argv[1:4]
        def client(url, service="lambda", key="testing", secret="testing"):
            return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret,
                                config=botocore.config.Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30))
        c, moto = client(endpoint), client(moto_endpoint)
        def z(text):
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr("app.py", text)
            return buffer.getvalue()
        def failure(call):
            try:
                call()
                return {"code": None}
            except botocore.exceptions.ClientError as error:
                meta = error.response["ResponseMetadata"]
                return {"code": error.response["Error"]["Code"], "message": error.response["Error"].get("Message"),
                        "status": meta["HTTPStatusCode"], "retryAfter": meta["HTTPHeaders"].get("retry-after")}
        def out(**values):
            print(json.dumps(values))

        """

    func observe(_ emulator: LambdaEmulator, function: String, arguments: [String] = [], _ script: String) throws -> Observation {
        let result = try run(
            "python3", ["-c", Self.prelude + script, emulator.endpoint, emulator.motoEndpoint, function] + arguments, cwd: packageRoot,
            env: ProcessInfo.processInfo.environment, timeout: 180)
        guard result.status == 0, let line = result.stdout.split(separator: "\n").last,
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else { throw RunError(message: "the boto3 script failed: \(result.output)") }
        return Observation(values: object)
    }

    static func arn(_ function: String) -> String { "arn:aws:lambda:us-east-1:\(account):function:\(function)" }

    // MARK: - The update window

    @Test func anUpdateStaysInProgressAndAnswers409UntilItsWindowEnds() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 1))
        let function = uniqueName("window")
        try emulator.createFunction(function)
        let seen = try observe(
            emulator, function: function,
            """
            start = time.monotonic()
            update = c.update_function_code(FunctionName=name, ZipFile=z("one"))
            during = c.get_function(FunctionName=name)["Configuration"]
            code = failure(lambda: c.update_function_code(FunctionName=name, ZipFile=z("two")))
            configuration = failure(lambda: c.update_function_configuration(FunctionName=name, Description="d"))
            publish = failure(lambda: c.publish_version(FunctionName=name))
            while time.monotonic() - start < 20:
                settled = c.get_function_configuration(FunctionName=name)
                if settled["LastUpdateStatus"] != "InProgress":
                    break
                time.sleep(0.05)
            ended = time.monotonic() - start
            again = failure(lambda: c.update_function_code(FunctionName=name, ZipFile=z("three")))
            out(updateStatus=update["LastUpdateStatus"], updateRevision=update["RevisionId"], duringStatus=during["LastUpdateStatus"],
                duringState=during["State"], duringRevision=during["RevisionId"], duringCode=during["CodeSha256"], updateCode=update["CodeSha256"],
                code=code, configuration=configuration, publish=publish, ended=ended, settledStatus=settled["LastUpdateStatus"],
                settledRevision=settled["RevisionId"], again=again)
            """)
        #expect(seen["updateStatus"] == "InProgress")
        #expect(seen["duringStatus"] == "InProgress")
        #expect(seen["duringState"] == "Active")
        #expect(seen["duringCode"] == seen["updateCode"])
        #expect(seen["duringRevision"] == seen["updateRevision"])
        let message = "The operation cannot be performed at this time. An update is in progress for resource: \(Self.arn(function))"
        for call in ["code", "configuration", "publish"] {
            let failure = seen.failure(call)
            #expect(failure.code == "ResourceConflictException", "\(call)")
            #expect(failure.status == 409, "\(call)")
            #expect(failure.message == message, "\(call)")
        }
        let ended = try #require(seen.double("ended"))
        #expect(ended >= 0.95 && ended < 10, "the window lasted \(ended) s, configured 1 s")
        #expect(seen["settledStatus"] == "Successful")
        #expect(seen["settledRevision"] != seen["updateRevision"], "the RevisionId changes again when the update completes")
        #expect(seen.failure("again").code == nil)

        let stats = try await emulator.stats()
        #expect(stats.conflicts == 3)
        #expect(stats.uploads == 3)
        #expect(stats.uploadsApplied == 2)
        #expect(stats.count("UpdateFunctionCode", status: 409) == 1)
        #expect(stats.count("PublishVersion", status: 409) == 1)
    }

    @Test func theWindowIsSetAtRuntimeAndSettleEndsItNow() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0))
        let function = uniqueName("runtime")
        try emulator.createFunction(function)
        let script = """
            first = failure(lambda: c.update_function_code(FunctionName=name, ZipFile=z(str(time.time()))))
            second = failure(lambda: c.update_function_code(FunctionName=name, ZipFile=z(str(time.time()) + "b")))
            status = c.get_function_configuration(FunctionName=name)["LastUpdateStatus"]
            out(first=first, second=second, status=status)
            """
        let noWindow = try observe(emulator, function: function, script)
        #expect(noWindow.failure("first").code == nil)
        #expect(noWindow.failure("second").code == nil)
        #expect(noWindow["status"] == "Successful")

        try await emulator.setUpdateSeconds(60)
        let longWindow = try observe(emulator, function: function, script)
        #expect(longWindow.failure("first").code == nil)
        #expect(longWindow.failure("second").code == "ResourceConflictException")
        #expect(longWindow["status"] == "InProgress")

        try await emulator.settle()
        let settled = try observe(emulator, function: function, "out(status=c.get_function_configuration(FunctionName=name)['LastUpdateStatus'])")
        #expect(settled["status"] == "Successful")
    }

    @Test func anUploadWithPublishCreatesTheVersionAtOnceAndStillOpensTheWindow() throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 30))
        let function = uniqueName("publish")
        try emulator.createFunction(function)
        let seen = try observe(
            emulator, function: function,
            """
            before = c.get_function_configuration(FunctionName=name)
            update = c.update_function_code(FunctionName=name, ZipFile=z("one"), Publish=True, RevisionId=before["RevisionId"])
            version = c.get_function_configuration(FunctionName=name, Qualifier=update["Version"])
            out(version=update["Version"], status=update["LastUpdateStatus"], code=update["CodeSha256"], versionCode=version["CodeSha256"],
                versionStatus=version["LastUpdateStatus"], latestStatus=c.get_function_configuration(FunctionName=name)["LastUpdateStatus"],
                again=failure(lambda: c.update_function_code(FunctionName=name, ZipFile=z("two"), Publish=True)))
            """)
        #expect(seen["version"] == "1")
        #expect(seen["status"] == "InProgress")
        #expect(seen["versionCode"] == seen["code"])
        #expect(seen["versionStatus"] == "Successful", "a published version is not being updated")
        #expect(seen["latestStatus"] == "InProgress")
        #expect(seen.failure("again").code == "ResourceConflictException")
    }

    // MARK: - Preconditions

    @Test func aStaleRevisionIdOrAnotherCodeSha256IsRefused() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0))
        let function = uniqueName("revision")
        try emulator.createFunction(function)
        let seen = try observe(
            emulator, function: function,
            """
            before = c.get_function_configuration(FunctionName=name)
            update = c.update_function_code(FunctionName=name, ZipFile=z("one"), RevisionId=before["RevisionId"])
            staleUpdate = failure(lambda: c.update_function_code(FunctionName=name, ZipFile=z("two"), RevisionId=before["RevisionId"]))
            staleConfiguration = failure(lambda: c.update_function_configuration(FunctionName=name, Description="x", RevisionId=before["RevisionId"]))
            current = c.get_function_configuration(FunctionName=name)
            stalePublish = failure(lambda: c.publish_version(FunctionName=name, RevisionId=before["RevisionId"]))
            otherCode = failure(lambda: c.publish_version(FunctionName=name, CodeSha256="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
            version = c.publish_version(FunctionName=name, RevisionId=current["RevisionId"], CodeSha256=current["CodeSha256"])
            read = c.get_function_configuration(FunctionName=name, Qualifier=version["Version"])
            alias = c.create_alias(FunctionName=name, Name="dev", FunctionVersion=version["Version"])
            moved = c.update_alias(FunctionName=name, Name="dev", FunctionVersion=version["Version"], Description="m", RevisionId=alias["RevisionId"])
            staleAlias = failure(lambda: c.update_alias(FunctionName=name, Name="dev", FunctionVersion="$LATEST", RevisionId=alias["RevisionId"]))
            listed = c.list_aliases(FunctionName=name)["Aliases"][0]
            out(before=before["RevisionId"], update=update["RevisionId"], current=current["RevisionId"], code=current["CodeSha256"],
                staleUpdate=staleUpdate, staleConfiguration=staleConfiguration, stalePublish=stalePublish, otherCode=otherCode,
                version=version["Version"], versionRevision=version["RevisionId"], readRevision=read["RevisionId"],
                alias=alias["RevisionId"], moved=moved["RevisionId"], staleAlias=staleAlias, listed=listed["RevisionId"],
                aliasNow=c.get_alias(FunctionName=name, Name="dev")["FunctionVersion"])
            """)
        let revisions = [seen["before"], seen["update"], seen["versionRevision"]]
        #expect(Set(revisions.compactMap { $0 }).count == 3, "every configuration has its own RevisionId: \(revisions)")
        #expect(seen["current"] == seen["update"])
        for call in ["staleUpdate", "staleConfiguration", "stalePublish", "staleAlias"] {
            #expect(seen.failure(call).code == "PreconditionFailedException", "\(call)")
            #expect(seen.failure(call).status == 412, "\(call)")
        }
        let otherCode = seen.failure("otherCode")
        #expect(otherCode.code == "InvalidParameterValueException")
        #expect(otherCode.status == 400)
        #expect(
            otherCode.message
                == "CodeSHA256 (AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=) is different from current CodeSHA256 in $LATEST (\(seen["code"] ?? "")). Please try again with the CodeSHA256 in $LATEST."
        )
        #expect(seen["version"] == "1")
        #expect(seen["readRevision"] == seen["versionRevision"], "a version's RevisionId is stable")
        #expect(seen["moved"] != seen["alias"], "UpdateAlias gives the alias a new RevisionId")
        #expect(seen["listed"] == seen["moved"])
        #expect(seen["aliasNow"] == "1", "the refused UpdateAlias changed nothing")
        #expect(try await emulator.stats().preconditionFailures == 4)
    }

    @Test func racingWritersEachPublishTheirOwnCodeAndNoVersionTwice() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0.2))
        let function = uniqueName("race")
        try emulator.createFunction(function)
        let seen = try observe(
            emulator, function: function,
            """
            import base64, hashlib, random, threading
            published = {}
            def deploy(index):
                mine = client(endpoint)
                code = z("writer %d" % index)
                sha = base64.b64encode(hashlib.sha256(code).digest()).decode()
                for _ in range(300):
                    try:
                        current = mine.get_function_configuration(FunctionName=name)
                        if current["LastUpdateStatus"] != "InProgress":
                            mine.update_function_code(FunctionName=name, ZipFile=code, RevisionId=current["RevisionId"])
                            while mine.get_function_configuration(FunctionName=name)["LastUpdateStatus"] == "InProgress":
                                time.sleep(0.05)
                            published[index] = (mine.publish_version(FunctionName=name, CodeSha256=sha)["Version"], sha)
                            return
                    except botocore.exceptions.ClientError:
                        pass  # 409 or 412 or another writer's code: read again and retry
                    time.sleep(random.random() * 0.2)
            threads = [threading.Thread(target=deploy, args=(index,)) for index in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            truth = {v["Version"]: v["CodeSha256"] for v in moto.list_versions_by_function(FunctionName=name)["Versions"]}
            out(writers=len(published), versions=sorted(v for v, _ in published.values()),
                mismatched=[v for v, sha in published.values() if truth.get(v) != sha])
            """)
        #expect(seen.int("writers") == 4)
        #expect(seen.strings("versions") == ["1", "2", "3", "4"])
        #expect(seen.strings("mismatched").isEmpty, "a version holds another writer's code")
        let stats = try await emulator.stats()
        #expect(stats.publishes == 4)
        #expect(stats.uploadsApplied >= 4)
    }

    // MARK: - Versions

    @Test func versionNumbersAreNeverReusedAndAnUnchangedPublishReturnsTheNewest() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0))
        let function = uniqueName("versions")
        try emulator.createFunction(function)
        let seen = try observe(
            emulator, function: function,
            """
            def publish(description):
                c.update_function_configuration(FunctionName=name, Description=description)
                return c.publish_version(FunctionName=name)["Version"]
            first = [publish("a"), publish("b"), publish("c")]
            unchanged = c.publish_version(FunctionName=name)["Version"]
            c.delete_function(FunctionName=name, Qualifier="3")
            afterNewestDeleted = c.publish_version(FunctionName=name)["Version"]
            c.delete_function(FunctionName=name, Qualifier="2")
            next = publish("d")
            truth = [v["Version"] for v in moto.list_versions_by_function(FunctionName=name)["Versions"]]
            c.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
            c.create_alias(FunctionName=name, Name="canary", FunctionVersion="5", RoutingConfig={"AdditionalVersionWeights": {"4": 0.1}})
            out(first=first, unchanged=unchanged, afterNewestDeleted=afterNewestDeleted, next=next, truth=truth,
                aliased=failure(lambda: c.delete_function(FunctionName=name, Qualifier="1")),
                routed=failure(lambda: c.delete_function(FunctionName=name, Qualifier="4")),
                latest=failure(lambda: c.delete_function(FunctionName=name, Qualifier="$LATEST")),
                absent=c.delete_function(FunctionName=name, Qualifier="99")["ResponseMetadata"]["HTTPStatusCode"],
                after=[v["Version"] for v in c.list_versions_by_function(FunctionName=name)["Versions"]])
            """)
        #expect(seen.strings("first") == ["1", "2", "3"])
        #expect(seen["unchanged"] == "3", "no update since version 3: publishing returns it")
        #expect(seen["afterNewestDeleted"] == "4", "3 was deleted: a new number, never 3 again")
        #expect(seen["next"] == "5", "2 was deleted: still counting up")
        #expect(seen.strings("truth") == ["$LATEST", "1", "4", "5"], "moto itself holds the same numbers")
        #expect(seen.failure("aliased").status == 409)
        #expect(seen.failure("aliased").message == "Unable to delete version because the following aliases reference it: [live]")
        #expect(seen.failure("routed").message == "Unable to delete version because the following aliases reference it: [canary]")
        #expect(seen.failure("latest").code == "InvalidParameterValueException")
        #expect(seen.int("absent") == 204)
        #expect(seen.strings("after") == ["$LATEST", "1", "4", "5"])
        #expect(try await emulator.stats().publishes == 5)
    }

    // MARK: - Paging

    @Test func pagingReturnsEveryItemExactlyOnceEvenWhileVersionsComeAndGo() throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0))
        let function = uniqueName("paging")
        try emulator.createFunction(function)
        let seen = try observe(
            emulator, function: function,
            """
            for index in range(120):
                c.update_function_configuration(FunctionName=name, Description=str(index))
                c.publish_version(FunctionName=name)
            for index in range(55):
                c.create_alias(FunctionName=name, Name="a%03d" % index, FunctionVersion=str(100 + index % 7))
            def pages(call, listKey, itemKey, **extra):
                items, sizes, marker = [], [], None
                while len(sizes) < 100:
                    answer = call(FunctionName=name, **extra, **({"Marker": marker} if marker else {}))
                    items += [item[itemKey] for item in answer[listKey]]
                    sizes.append(len(answer[listKey]))
                    marker = answer.get("NextMarker")
                    if not marker:
                        break
                return items, sizes
            versionsDefault, versionsDefaultSizes = pages(c.list_versions_by_function, "Versions", "Version")
            versionsBy7, versionsBy7Sizes = pages(c.list_versions_by_function, "Versions", "Version", MaxItems=7)
            versionsBy500, versionsBy500Sizes = pages(c.list_versions_by_function, "Versions", "Version", MaxItems=500)
            aliasesDefault, aliasesDefaultSizes = pages(c.list_aliases, "Aliases", "Name")
            aliasesBy7, aliasesBy7Sizes = pages(c.list_aliases, "Aliases", "Name", MaxItems=7)
            aliasesOfOne, _ = pages(c.list_aliases, "Aliases", "Name", FunctionVersion="100")
            paginator = [v["Version"] for page in c.get_paginator("list_versions_by_function").paginate(FunctionName=name) for v in page["Versions"]]
            # Versions deleted and published between pages: behind the marker, ahead of it, new.
            moving, marker, rounds = [], None, 0
            while rounds < 100:
                answer = c.list_versions_by_function(FunctionName=name, MaxItems=10, **({"Marker": marker} if marker else {}))
                moving += [v["Version"] for v in answer["Versions"]]
                if rounds == 0:
                    for gone in ("5", "50", "51"):
                        c.delete_function(FunctionName=name, Qualifier=gone)
                    c.update_function_configuration(FunctionName=name, Description="new")
                    c.publish_version(FunctionName=name)
                rounds += 1
                marker = answer.get("NextMarker")
                if not marker:
                    break
            out(versionsDefault=versionsDefault, versionsDefaultSizes=versionsDefaultSizes, versionsBy7=versionsBy7,
                versionsBy7Sizes=versionsBy7Sizes, versionsBy500=versionsBy500, versionsBy500Sizes=versionsBy500Sizes,
                aliasesDefault=aliasesDefault, aliasesDefaultSizes=aliasesDefaultSizes, aliasesBy7=aliasesBy7, aliasesBy7Sizes=aliasesBy7Sizes,
                aliasesOfOne=aliasesOfOne, paginator=paginator, moving=moving,
                badMarker=failure(lambda: c.list_versions_by_function(FunctionName=name, Marker="not-a-marker")))
            """)
        let versions = ["$LATEST"] + (1...120).map(String.init)
        #expect(seen.strings("versionsDefault") == versions)
        #expect(seen.strings("versionsDefault").count == 121)
        #expect(seen.ints("versionsDefaultSizes") == [50, 50, 21])
        #expect(seen.strings("versionsBy7") == versions)
        #expect(seen.ints("versionsBy7Sizes").count == 18)
        #expect(seen.strings("versionsBy500") == versions)
        #expect(seen.ints("versionsBy500Sizes") == [50, 50, 21], "never more than 50 versions a page")
        #expect(seen.strings("paginator") == versions)
        let aliases = (0..<55).map { String(format: "a%03d", $0) }
        #expect(seen.strings("aliasesDefault") == aliases)
        #expect(seen.ints("aliasesDefaultSizes") == [50, 5])
        #expect(seen.strings("aliasesBy7") == aliases)
        #expect(seen.ints("aliasesBy7Sizes").count == 8)
        #expect(seen.strings("aliasesOfOne") == aliases.enumerated().filter { $0.offset % 7 == 0 }.map(\.element))
        let moving = seen.strings("moving")
        #expect(Set(moving).count == moving.count, "no version twice")
        let survivors = versions.filter { !["5", "50", "51"].contains($0) }
        #expect(moving.filter { $0 != "5" } == survivors + ["121"], "every version present throughout is listed once; the new one at the end")
        #expect(!moving.contains("50") && !moving.contains("51"), "versions deleted ahead of the marker are not listed")
        #expect(seen.failure("badMarker").code == "InvalidParameterValueException")
    }

    // MARK: - Rate limit

    @Test func callsAboveTheRateAre429WithRetryAfterAndPacedCallsAreNot() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0, rateLimit: .init(perSecond: 5, burst: 5)))
        let function = uniqueName("rate")
        try emulator.createFunction(function)
        let seen = try observe(
            emulator, function: function,
            """
            start = time.monotonic()
            fast = [failure(lambda: c.get_function_configuration(FunctionName=name)) for _ in range(30)]
            elapsed = time.monotonic() - start
            throttled = [f for f in fast if f["code"] is not None]
            time.sleep(1.2)
            paced = []
            for _ in range(6):
                paced.append(failure(lambda: c.get_function_configuration(FunctionName=name)))
                time.sleep(0.4)
            exempt = [failure(lambda: c.get_function(FunctionName=name)) for _ in range(20)]
            exempt += [failure(lambda: c.invoke(FunctionName=name, Payload=b"{}")) for _ in range(20)]
            out(throttled=len(throttled), allowed=len(fast) - len(throttled), elapsed=elapsed,
                codes=sorted({f["code"] for f in throttled}), statuses=sorted({f["status"] for f in throttled}),
                retryAfter=sorted({f["retryAfter"] for f in throttled}),
                pacedThrottled=len([f for f in paced if f["code"] is not None]),
                exemptThrottled=len([f for f in exempt if f["code"] is not None]))
            """)
        let throttled = try #require(seen.int("throttled"))
        let allowed = try #require(seen.int("allowed"))
        let elapsed = try #require(seen.double("elapsed"))
        #expect(throttled > 0)
        #expect(Double(allowed) <= 5 + 5 * elapsed + 1, "\(allowed) calls passed in \(elapsed) s at 5/s with a burst of 5")
        #expect(seen.strings("codes") == ["TooManyRequestsException"])
        #expect(seen.ints("statuses") == [429])
        #expect(seen.strings("retryAfter").allSatisfy { (Int($0) ?? 0) >= 1 }, "\(seen.strings("retryAfter"))")
        #expect(seen.int("pacedThrottled") == 0, "2.5 calls a second stay under 5 a second")
        #expect(seen.int("exemptThrottled") == 0, "GetFunction has its own 100/s bucket; Invoke is not a control-plane call")
        #expect(try await emulator.stats().throttles == throttled)

        try await emulator.setRateLimit(nil)
        let unlimited = try observe(
            emulator, function: function,
            "out(throttled=len([1 for _ in range(30) if failure(lambda: c.get_function_configuration(FunctionName=name))['code']]))")
        #expect(unlimited.int("throttled") == 0)
    }

    // MARK: - Invoke

    @Test func invokeAnswersFromTheQueueThenTheDefault() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0))
        let function = uniqueName("invoke")
        try emulator.createFunction(function)
        try await emulator.queueInvokeAnswers([
            .init(payload: #"{"errorMessage": "boom", "errorType": "Exception"}"#, functionError: .unhandled, qualifier: "2", log: "trace"),
            .init(payload: #"{"ok": true}"#, function: function),
        ])
        let seen = try observe(
            emulator, function: function,
            """
            c.update_function_configuration(FunctionName=name, Description="one")
            c.publish_version(FunctionName=name)
            c.update_function_configuration(FunctionName=name, Description="two")
            c.publish_version(FunctionName=name)
            c.create_alias(FunctionName=name, Name="live", FunctionVersion="2")
            def invoke(qualifier):
                answer = c.invoke(FunctionName=name, Qualifier=qualifier, Payload=b'{"check": 1}', LogType="Tail")
                return {"payload": answer["Payload"].read().decode(), "error": answer.get("FunctionError"),
                        "executed": answer.get("ExecutedVersion"), "status": answer["StatusCode"],
                        "log": base64.b64decode(answer.get("LogResult", "")).decode()}
            first, second, third = invoke("1"), invoke("live"), invoke("1")
            out(first=first, second=second, third=third, missing=failure(lambda: invoke("99")))
            """)
        func answer(_ key: String) -> [String: Any] { seen.values[key] as? [String: Any] ?? [:] }
        #expect(answer("first")["payload"] as? String == #"{"ok": true}"#, "the answer for version 2 waits; the one for any qualifier is used")
        #expect(answer("first")["error"] == nil || answer("first")["error"] is NSNull)
        #expect(answer("first")["executed"] as? String == "1")
        #expect(answer("second")["payload"] as? String == #"{"errorMessage": "boom", "errorType": "Exception"}"#)
        #expect(answer("second")["error"] as? String == "Unhandled")
        #expect(answer("second")["executed"] as? String == "2", "the alias runs version 2")
        #expect(answer("second")["log"] as? String == "trace")
        #expect(answer("third")["payload"] as? String == #"{"statusCode": 200}"#)
        #expect((answer("third")["status"] as? NSNumber)?.intValue == 200)
        #expect(seen.failure("missing").code == "ResourceNotFoundException")
        let invocations = try await emulator.stats().invocations
        #expect(invocations.map(\.qualifier) == ["1", "live", "1"])
        #expect(invocations.map(\.executedVersion) == ["1", "2", "1"])
        #expect(invocations.first?.payload == #"{"check": 1}"#)
    }

    // MARK: - Account settings and provisioned concurrency

    @Test func accountSettingsSumEveryStoredCodeSizeAndTheLimitHolds() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0))
        let function = uniqueName("storage")
        try emulator.createFunction(function)
        let script = """
            c.update_function_code(FunctionName=name, ZipFile=z("x" * 1000 + str(time.time())))
            c.publish_version(FunctionName=name)
            c.update_function_code(FunctionName=name, ZipFile=z("y" * 3000))
            c.publish_version(FunctionName=name)
            sizes = sum(v["CodeSize"] for v in moto.list_versions_by_function(FunctionName=name)["Versions"])
            settings = c.get_account_settings()
            out(sizes=sizes, usage=settings["AccountUsage"]["TotalCodeSize"], functions=settings["AccountUsage"]["FunctionCount"],
                limit=settings["AccountLimit"]["TotalCodeSize"])
            """
        let seen = try observe(emulator, function: function, script)
        #expect(seen.int("usage") == seen.int("sizes"))
        #expect(seen.int("functions") == 1)
        #expect(seen.int("limit") == 80_530_636_800)

        let usage = try #require(seen.int("usage"))
        try await emulator.setCodeStorageLimit(usage)
        let full = try observe(
            emulator, function: function,
            """
            c.update_function_configuration(FunctionName=name, Description="changed")
            out(publish=failure(lambda: c.publish_version(FunctionName=name)),
                upload=failure(lambda: c.update_function_code(FunctionName=name, ZipFile=z("z" * 50000 + str(time.time())))),
                limit=c.get_account_settings()["AccountLimit"]["TotalCodeSize"])
            """)
        #expect(full.failure("publish").code == "CodeStorageExceededException")
        #expect(full.failure("upload").code == "CodeStorageExceededException")
        #expect(full.int("limit") == usage)
    }

    @Test func provisionedConcurrencyIsReportedPerVersionAndAlias() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0))
        let function = uniqueName("provisioned")
        try emulator.createFunction(function)
        _ = try observe(
            emulator, function: function,
            """
            c.publish_version(FunctionName=name)
            c.update_function_configuration(FunctionName=name, Description="two")
            c.publish_version(FunctionName=name)
            c.create_alias(FunctionName=name, Name="live", FunctionVersion="2")
            out()
            """)
        try await emulator.setProvisionedConcurrency(function: function, qualifier: "1", executions: 3)
        let seen = try observe(
            emulator, function: function,
            """
            one = c.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
            c.put_provisioned_concurrency_config(FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=2)
            listed = sorted(item["FunctionArn"] for item in c.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"])
            none = failure(lambda: c.get_provisioned_concurrency_config(FunctionName=name, Qualifier="2"))
            latest = failure(lambda: c.put_provisioned_concurrency_config(FunctionName=name, Qualifier="$LATEST", ProvisionedConcurrentExecutions=1))
            c.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
            c.delete_function(FunctionName=name, Qualifier="1")
            left = c.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
            out(status=one["Status"], requested=one["RequestedProvisionedConcurrentExecutions"], listed=listed, none=none, latest=latest, left=len(left))
            """)
        #expect(seen["status"] == "READY")
        #expect(seen.int("requested") == 3)
        #expect(seen.strings("listed") == [Self.arn(function) + ":1", Self.arn(function) + ":live"])
        #expect(seen.failure("none").code == "ProvisionedConcurrencyConfigNotFoundException")
        #expect(seen.failure("latest").code == "InvalidParameterValueException")
        #expect(seen.int("left") == 0, "deleting the version removed its configuration")
    }

    // MARK: - Resource policies

    @Test func eachQualifierHasItsOwnPolicy() throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0))
        let function = uniqueName("policy")
        try emulator.createFunction(function)
        let seen = try observe(
            emulator, function: function,
            """
            c.publish_version(FunctionName=name)
            for alias in ("dev", "prod"):
                c.create_alias(FunctionName=name, Name=alias, FunctionVersion="1")
            source = "arn:aws:execute-api:us-east-1:123456789012:abc123/*"
            def add(qualifier, sid):
                return failure(lambda: c.add_permission(FunctionName=name, Qualifier=qualifier, StatementId=sid, Action="lambda:InvokeFunction",
                                                        Principal="apigateway.amazonaws.com", SourceArn=source))
            add("dev", "gateway-dev"); add("prod", "gateway-prod")
            dev = json.loads(c.get_policy(FunctionName=name, Qualifier="dev")["Policy"])["Statement"]
            duplicate = add("dev", "gateway-dev")
            missingAlias = add("nope", "x")
            unqualified = failure(lambda: c.get_policy(FunctionName=name))
            c.remove_permission(FunctionName=name, Qualifier="dev", StatementId="gateway-dev")
            out(dev=[s["Resource"] for s in dev], devSids=[s["Sid"] for s in dev], condition=dev[0]["Condition"]["ArnLike"]["AWS:SourceArn"],
                duplicate=duplicate, missingAlias=missingAlias, unqualified=unqualified,
                devAfter=failure(lambda: c.get_policy(FunctionName=name, Qualifier="dev")),
                prod=[s["Sid"] for s in json.loads(c.get_policy(FunctionName=name, Qualifier="prod")["Policy"])["Statement"]])
            """)
        #expect(seen.strings("dev") == [Self.arn(function) + ":dev"])
        #expect(seen.strings("devSids") == ["gateway-dev"])
        #expect(seen["condition"] == "arn:aws:execute-api:us-east-1:123456789012:abc123/*")
        #expect(seen.failure("duplicate").code == "ResourceConflictException")
        #expect(seen.failure("duplicate").message?.contains("already exists") == true)
        #expect(seen.failure("missingAlias").code == "ResourceNotFoundException")
        #expect(seen.failure("unqualified").code == "ResourceNotFoundException")
        #expect(seen.failure("devAfter").code == "ResourceNotFoundException")
        #expect(seen.strings("prod") == ["gateway-prod"])
    }

    // MARK: - The tool through the emulator

    @Test func lambdaDeployWaitsOutTheWindowAndNeverMeetsA409() async throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 1))
        let function = uniqueName("tool")
        try emulator.createFunction(function)
        let home = try TemporaryDirectory("home")
        let work = try TemporaryDirectory("repo")
        let env = baseEnvironment(home: home.path).merging(emulator.environment) { $1 }
        try work.write("lambda-deploy.yml", "function: \(function)\ndirectory: src\nregion: us-east-1\n")
        try git(["init", "-q", "-b", "main"], cwd: work.path, env: env)
        for (index, body) in ["one", "two"].enumerated() {
            try work.write("src/app.py", "def handler(event, context):\n    return '\(body)'\n")
            try git(["add", "-A"], cwd: work.path, env: env)
            try git(["commit", "-q", "-m", body], cwd: work.path, env: env)
            let result = try run(toolPath, ["deploy", "--alias", "dev", "--json"], cwd: work.path, env: env)
            #expect(result.status == 0, "\(result.output)")
            let json = try result.json()
            #expect(json["result"] as? String == "deployed")
            #expect(json["version"] as? String == String(index + 1))
        }
        let stats = try await emulator.stats()
        #expect(stats.uploadsApplied == 2)
        #expect(stats.publishes == 2)
        #expect(stats.conflicts == 0, "\(stats.operations)")
    }

    // MARK: - Passing through, and the process

    @Test func requestsItDoesNotAnswerReachMotoWithTheirSignatures() throws {
        let emulator = try LambdaEmulator(.init(updateSeconds: 0, authChecks: true))
        let user = try run(
            "python3", [packageRoot + "/ci/support/moto_local.py", "auth-user", emulator.motoEndpoint], cwd: packageRoot,
            env: ProcessInfo.processInfo.environment.merging(["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"]) { $1 })
        let key = user.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        try #require(user.status == 0 && key.count == 2, "\(user.output)")
        let seen = try observe(
            emulator, function: uniqueName("signed"), arguments: key,
            """
            key, secret = sys.argv[4:6]
            right, wrong = client(endpoint, key=key, secret=secret), client(endpoint, key=key, secret="wrong" + secret)
            client(endpoint, "iam", key, secret).create_role(RoleName="lambda-exec", AssumeRolePolicyDocument="{}")
            create = lambda who: who.create_function(FunctionName=name, Runtime="python3.12", Role="arn:aws:iam::123456789012:role/lambda-exec",
                                                     Handler="app.handler", Code={"ZipFile": z("a")})
            out(wrong=failure(lambda: create(wrong)), right=failure(lambda: create(right)))
            """)
        #expect(seen.failure("wrong").status == 403, "moto checked the signature the client made for the emulator's address")
        #expect(seen.failure("right").code == nil)
    }

    @Test func itListensOnLoopbackOnlyAndExitsWithItsParent() throws {
        // Loopback: both listening sockets are bound to 127.0.0.1 (/proc/net/tcp, state 0A = LISTEN).
        let emulator = try LambdaEmulator()
        let suffixes = try [emulator.endpoint, emulator.motoEndpoint].map { endpoint in
            String(format: ":%04X", try #require(endpoint.split(separator: ":").last.flatMap { Int($0) }))
        }
        // Read to the end: /proc files report size 0, and String(contentsOfFile:) stops after the
        // first page (27 of 1,876 rows with the suites running beside this one).
        let table = String(decoding: try #require(FileHandle(forReadingAtPath: "/proc/net/tcp")).readDataToEndOfFile(), as: UTF8.self)
        let rows: [[Substring]] = table.split(separator: "\n").map { $0.split(separator: " ") }
        let listening: [String] = rows.filter { $0.count > 3 && $0[3] == "0A" }.map { String($0[1]) }
        for suffix in suffixes {
            let local = listening.filter { $0.hasSuffix(suffix) }
            #expect(local == ["0100007F" + suffix], "port \(suffix) listens on \(local)")
        }

        // Its parent exits: the emulator follows.
        let spawn = try run(
            "python3",
            ["-c", "import subprocess, sys; p = subprocess.Popen([sys.executable, sys.argv[1]], stdout=subprocess.PIPE, text=True); print(p.pid, p.stdout.readline().strip(), flush=True)",
             packageRoot + "/ci/support/lambda_emulator.py"], cwd: packageRoot, env: ProcessInfo.processInfo.environment)
        let words = spawn.stdout.split(separator: " ")
        let pid = try #require(words.first.flatMap { Int32($0) }, "\(spawn.output)")
        #expect(words.count > 1 && words[1] == "ready", "\(spawn.output)")
        var alive = true
        for _ in 0..<100 where alive {
            let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.split(separator: " ").dropFirst(2).first
            alive = state != nil && state != "Z"
            if alive { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(!alive, "the emulator (pid \(pid)) outlived its parent")
    }
}
