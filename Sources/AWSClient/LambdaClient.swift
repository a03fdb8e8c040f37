public import Foundation
internal import Digest
internal import Safety

/// AWS Lambda's REST-JSON API, version 2015-03-31.
///
/// Retry safety (see `RetrySafety`): reads, UpdateFunctionCode, UpdateAlias and PublishVersion
/// are repeated after timeouts and 5xx — the CodeSha256 and RevisionId preconditions the caller
/// passes make a repeated write fail with PreconditionFailedException instead of acting on a
/// state it did not see. CreateFunction and CreateAlias are repeated only when the request
/// certainly did not arrive. After any failure with `mayHaveBeenApplied`, read the state back.
/// https://docs.aws.amazon.com/lambda/latest/api/API_Operations.html
public final class LambdaClient: Sendable {
    let core: ClientCore

    public init(_ configuration: AWSConfiguration) { core = ClientCore(configuration) }

    public var region: String { core.configuration.region }

    /// Most ZipFile uploads Lambda accepts in one request: 69,905,067 bytes for the whole request.
    public static let maxDirectUploadRequestBytes = 69_905_067

    /// Size of the UpdateFunctionCode request body for a zip of `zipSize` bytes (base64 + JSON).
    public static func directUploadRequestSize(zipSize: Int) -> Int { (zipSize + 2) / 3 * 4 + #"{"ZipFile":""}"#.utf8.count }

    func path(_ function: String, _ suffix: String = "") -> String {
        "/2015-03-31/functions/\(SigV4.uriEncode(function))\(suffix)"
    }

    func operation(
        _ name: String, _ method: String, _ path: String, resource: String, query: [(String, String)] = [], body: Data? = nil,
        safety: RetrySafety = .idempotent, retryConflicts: Bool = false
    ) -> AWSOperation {
        AWSOperation(
            service: .lambda, name: name, method: method, path: path, query: query,
            headers: body == nil ? [] : [("Content-Type", "application/json")], body: body, resource: resource,
            safety: safety, retryConflicts: retryConflicts)
    }

    func call<T: Decodable>(_ operation: AWSOperation, as type: T.Type) async throws -> T {
        try core.decode(type, from: try await core.send(operation), operation)
    }

    // MARK: Reads

    /// The configuration of `$LATEST` (qualifier nil), a version or an alias.
    public func getFunctionConfiguration(_ function: String, qualifier: String? = nil) async throws -> FunctionConfiguration {
        try await call(
            operation(
                "GetFunctionConfiguration", "GET", path(function, "/configuration"), resource: "function '\(function)'",
                query: qualifier.map { [("Qualifier", $0)] } ?? []), as: FunctionConfiguration.self)
    }

    /// The alias, or nil when the function exists but the alias does not.
    public func getAlias(_ function: String, name: String) async throws -> AliasConfiguration? {
        do {
            return try await call(
                operation("GetAlias", "GET", path(function, "/aliases/\(SigV4.uriEncode(name))"), resource: "function '\(function)'"),
                as: AliasConfiguration.self)
        } catch let error as AWSError where error.code == "ResourceNotFoundException" && !Self.isFunctionMissing(error) {
            return nil
        }
    }

    /// Lambda says "Function not found: arn..." when the function itself is missing and
    /// "Cannot find alias arn..." / "The resource you requested does not exist." otherwise.
    static func isFunctionMissing(_ error: AWSError) -> Bool {
        guard case .service(_, _, _, let message, _) = error else { return false }
        return message.lowercased().contains("function not found")
    }

    /// Every version (`$LATEST` included), following NextMarker through all pages (50 per page).
    public func listVersions(_ function: String) async throws -> [FunctionConfiguration] {
        try await allPages("ListVersionsByFunction", function: function, suffix: "/versions", as: VersionsPage.self) {
            ($0.versions ?? [], $0.nextMarker)
        }
    }

    /// Every alias, following NextMarker through all pages.
    public func listAliases(_ function: String) async throws -> [AliasConfiguration] {
        try await allPages("ListAliases", function: function, suffix: "/aliases", as: AliasesPage.self) {
            ($0.aliases ?? [], $0.nextMarker)
        }
    }

    /// Follows Lambda's Marker/NextMarker paging to the last page. Stopping at the first page is
    /// the bug that makes other tools roll back to the wrong version.
    private func allPages<Page: Decodable, Item>(
        _ name: String, function: String, suffix: String, as page: Page.Type, items: (Page) -> ([Item], String?)
    ) async throws -> [Item] {
        try await ClientCore.allPages { marker in
            var query = [("MaxItems", "50")]
            if let marker { query.append(("Marker", marker)) }
            return items(
                try await call(operation(name, "GET", path(function, suffix), resource: "function '\(function)'", query: query), as: Page.self))
        }
    }

    /// The resource policy JSON of the function or qualifier, or nil when it has none.
    public func getPolicy(_ function: String, qualifier: String? = nil) async throws -> String? {
        do {
            let response = try await call(
                operation(
                    "GetPolicy", "GET", path(function, "/policy"), resource: "function '\(function)'",
                    query: qualifier.map { [("Qualifier", $0)] } ?? []), as: PolicyResponse.self)
            return response.policy
        } catch let error as AWSError where error.code == "ResourceNotFoundException" && !Self.isFunctionMissing(error) {
            return nil
        }
    }

    // MARK: Writes
    //
    // Every write passes a read-back to the client core: after an attempt whose answer was lost,
    // it finds out whether the write is in place before anything is sent again (see
    // `ClientCore.write`).

    /// Uploads a zip directly (body `{"ZipFile": base64}`); the request must stay under
    /// `maxDirectUploadRequestBytes`. `revisionId` makes it fail if `$LATEST` changed meanwhile.
    /// A lost answer is settled by reading `$LATEST`: holding `codeSha256` (computed from the zip
    /// when not given, only then) means the upload landed.
    ///
    /// `retryConflicts: false` answers a ResourceConflictException (an update in progress) at
    /// once instead of sending the body again after a pause: a caller that takes turns with other
    /// writers waits for the update to end and decides again, rather than upload into it.
    public func updateFunctionCode(
        _ function: String, zipFile: Data, revisionId: String? = nil, codeSha256: String? = nil, progress: UploadProgress? = nil,
        retryConflicts: Bool = true
    ) async throws -> FunctionConfiguration {
        let (body, sha256Hex) = Self.directUploadBody(zipFile, revisionId: revisionId)
        var operation = operation(
            "UpdateFunctionCode", "PUT", path(function, "/code"), resource: "function '\(function)'", body: body, retryConflicts: retryConflicts)
        operation.payloadHash = sha256Hex
        operation.isUpload = true
        operation.progress = progress
        return try await core.write(operation, as: FunctionConfiguration.self) { [self] in
            let expected = codeSha256 ?? Data(SHA256.hash(zipFile)).base64EncodedString()
            return try await latestHolding(function, codeSha256: expected)
        }
    }

    /// The UpdateFunctionCode body `{"ZipFile":"<base64>"[,"RevisionId":...]}` and its SHA-256
    /// (hex, for the signature), made in one pass: built by hand in one allocation (JSONEncoder
    /// would copy a 70 MB string several times), each piece hashed while it is still in cache.
    static func directUploadBody(_ zip: Data, revisionId: String?) -> (body: Data, sha256Hex: String) {
        let head = Data(#"{"ZipFile":""#.utf8)
        let tail = Data(("\"" + (revisionId.map { ",\"RevisionId\":\(JSONText.quoted($0))" } ?? "") + "}").utf8)
        var body = Data(capacity: head.count + (zip.count + 2) / 3 * 4 + tail.count)
        let hasher = SHA256Hasher()
        body.append(head)
        hasher.update(head)
        let piece = 3 << 16  // a multiple of 3: pieces encode without padding but the last
        var offset = zip.startIndex
        while offset < zip.endIndex {
            let end = min(offset + piece, zip.endIndex)
            let encoded = zip[offset..<end].base64EncodedData()
            body.append(encoded)
            hasher.update(encoded)
            offset = end
        }
        body.append(tail)
        hasher.update(tail)
        return (body, Hex.encode(hasher.finalize()))
    }

    /// Points `$LATEST` at a zip already in S3 (for packages over the direct-upload cap). With
    /// `codeSha256`, a lost answer is settled by reading `$LATEST`; without, the call is repeated.
    /// `retryConflicts` as for the direct upload.
    public func updateFunctionCode(
        _ function: String, s3Bucket: String, s3Key: String, revisionId: String? = nil, codeSha256: String? = nil,
        retryConflicts: Bool = true
    ) async throws -> FunctionConfiguration {
        let operation = operation(
            "UpdateFunctionCode", "PUT", path(function, "/code"), resource: "function '\(function)'",
            body: ClientCore.json(UpdateCodeBody(S3Bucket: s3Bucket, S3Key: s3Key, RevisionId: revisionId)), retryConflicts: retryConflicts)
        var readBack: ReadBack<FunctionConfiguration>?
        if let codeSha256 {
            readBack = { [self] in try await latestHolding(function, codeSha256: codeSha256) }
        }
        return try await core.write(operation, as: FunctionConfiguration.self, readBack: readBack)
    }

    /// `$LATEST` when it holds `codeSha256`, else nil.
    private func latestHolding(_ function: String, codeSha256: String) async throws -> FunctionConfiguration? {
        let latest = try await getFunctionConfiguration(function)
        return latest.codeSha256 == codeSha256 ? latest : nil
    }

    /// Polls `$LATEST` until its update is done (LastUpdateStatus not InProgress, State not
    /// Pending); Failed becomes `AWSError.updateFailed` with Lambda's reason.
    /// Same conditions as the `function-updated-v2` waiter, polled on `waiterInterval`'s schedule.
    /// The answer is read after the update ended, so its RevisionId is current (the one
    /// UpdateFunctionCode returned is stale by then: Lambda changes it again when the update ends).
    /// `beforeEachPoll` runs before every read (a run's rate budget: each poll counts against
    /// Lambda's control-plane quota).
    public func waitUntilUpdated(
        _ function: String, timeout: Duration = .seconds(300), beforeEachPoll: (@Sendable () async throws -> Void)? = nil
    ) async throws -> FunctionConfiguration {
        let clock = core.configuration.clock
        let start = clock.now()
        while true {
            try await beforeEachPoll?()
            let configuration = try await getFunctionConfiguration(function)
            if let done = try Self.settledUpdate(configuration, function: function, region: region) { return done }
            let interval = Self.waiterInterval(after: clock.now() - start)
            if clock.now() - start + interval > timeout {
                throw AWSError.waitTimedOut(
                    function: function, region: region, after: timeout,
                    lastStatus: configuration.lastUpdateStatus == "InProgress" ? "updating (InProgress)" : "Pending")
            }
            try await clock.sleep(for: interval)
        }
    }

    /// The pause before the next poll of an update that has run for `elapsed`: every 0.25 s for
    /// the first 5 s (most code updates take 1-3 s, and a deploy waiting on its own update should
    /// publish within a quarter second of its end: another deploy may be waiting for its turn),
    /// then 0.5 s to 15 s, 1 s to 60 s, and 2 s after that (a VPC function's first update can take
    /// minutes). At most 4 reads a second, well inside Lambda's control-plane rate.
    public static func waiterInterval(after elapsed: Duration) -> Duration {
        switch elapsed {
        case ..<Duration.seconds(5): .milliseconds(250)
        case ..<Duration.seconds(15): .milliseconds(500)
        case ..<Duration.seconds(60): .seconds(1)
        default: .seconds(2)
        }
    }

    /// `configuration` when its last update is over (nil while it is in progress or the
    /// function is Pending); throws `updateFailed` with Lambda's reason when it failed.
    public static func settledUpdate(_ configuration: FunctionConfiguration, function: String, region: String) throws -> FunctionConfiguration? {
        if configuration.lastUpdateStatus == "Failed" {
            throw AWSError.updateFailed(
                function: function, region: region,
                reason: configuration.lastUpdateStatusReason.map { ErrorClassifier.serverText($0, limit: 300) } ?? "no reason given",
                code: configuration.lastUpdateStatusReasonCode.map { ErrorClassifier.serverText($0, limit: 80) })
        }
        if configuration.state == "Failed" {
            throw AWSError.updateFailed(
                function: function, region: region,
                reason: configuration.stateReason.map { ErrorClassifier.serverText($0, limit: 300) } ?? "no reason given",
                code: configuration.stateReasonCode.map { ErrorClassifier.serverText($0, limit: 80) })
        }
        let busy = configuration.lastUpdateStatus == "InProgress" || configuration.state == "Pending"
        return busy ? nil : configuration
    }

    /// Publishes `$LATEST` as a version, only if its code still has `codeSha256` (the precondition
    /// that keeps a racing deploy's code from being published as ours). A lost answer is settled
    /// by finding the newest version with that code and description.
    ///
    /// `retryConflicts: false` answers a ResourceConflictException (an update in progress) at once,
    /// for a caller that waits for the update itself.
    public func publishVersion(
        _ function: String, codeSha256: String, description: String? = nil, revisionId: String? = nil, retryConflicts: Bool = true
    ) async throws -> FunctionConfiguration {
        let operation = operation(
            "PublishVersion", "POST", path(function, "/versions"), resource: "function '\(function)'",
            body: ClientCore.json(PublishVersionBody(CodeSha256: codeSha256, Description: description, RevisionId: revisionId)),
            retryConflicts: retryConflicts)
        return try await core.write(operation, as: FunctionConfiguration.self) { [self] in
            try await listVersions(function)
                .filter { $0.version != "$LATEST" && $0.codeSha256 == codeSha256 && (description == nil || $0.description == description) }
                .max { (Int($0.version) ?? 0) < (Int($1.version) ?? 0) }
        }
    }

    /// Creates an alias. A lost answer is settled by reading the alias: there, with this version
    /// and routing, it counts as created; absent, the create is sent again.
    public func createAlias(
        _ function: String, name: String, version: String, description: String? = nil, additionalVersionWeights: [String: Double]? = nil
    ) async throws -> AliasConfiguration {
        let operation = operation(
            "CreateAlias", "POST", path(function, "/aliases"), resource: "alias '\(name)' of function '\(function)'",
            body: ClientCore.json(
                AliasBody(
                    Name: name, FunctionVersion: version, Description: description,
                    RoutingConfig: additionalVersionWeights.map { RoutingConfig(additionalVersionWeights: $0) })),
            safety: .notIdempotent, retryConflicts: true)
        return try await core.write(operation, as: AliasConfiguration.self) { [self] in
            try await aliasIfMoved(function, name: name, version: version, description: description, weights: additionalVersionWeights ?? [:])
        }
    }

    /// Moves an alias. Pass an empty `additionalVersionWeights` to clear routing, nil to leave it.
    /// A lost answer is settled by reading the alias back.
    public func updateAlias(
        _ function: String, name: String, version: String, description: String? = nil, additionalVersionWeights: [String: Double]? = nil,
        revisionId: String? = nil
    ) async throws -> AliasConfiguration {
        let operation = operation(
            "UpdateAlias", "PUT", path(function, "/aliases/\(SigV4.uriEncode(name))"), resource: "alias '\(name)' of function '\(function)'",
            body: ClientCore.json(
                AliasBody(
                    FunctionVersion: version, Description: description,
                    RoutingConfig: additionalVersionWeights.map { RoutingConfig(additionalVersionWeights: $0) }, RevisionId: revisionId)),
            retryConflicts: true)
        return try await core.write(operation, as: AliasConfiguration.self) { [self] in
            try await aliasIfMoved(function, name: name, version: version, description: description, weights: additionalVersionWeights)
        }
    }

    /// The alias when it points at `version` with `weights` (nil: any) and `description` (nil: any).
    private func aliasIfMoved(
        _ function: String, name: String, version: String, description: String?, weights: [String: Double]?
    ) async throws -> AliasConfiguration? {
        guard let alias = try await getAlias(function, name: name), alias.functionVersion == version,
            weights.map({ $0 == alias.additionalVersionWeights }) ?? true, description.map({ $0 == alias.description }) ?? true
        else { return nil }
        return alias
    }

    /// Adds a resource-policy statement. Returns false when a statement with that id already
    /// exists (re-runs are no-ops), true when it was added.
    @discardableResult
    public func addPermission(
        _ function: String, qualifier: String?, statementId: String, action: String, principal: String, sourceArn: String?
    ) async throws -> Bool {
        do {
            _ = try await core.send(
                operation(
                    "AddPermission", "POST", path(function, "/policy"), resource: "function '\(function)'",
                    query: qualifier.map { [("Qualifier", $0)] } ?? [],
                    body: ClientCore.json(PermissionBody(StatementId: statementId, Action: action, Principal: principal, SourceArn: sourceArn)),
                    retryConflicts: true))
            return true
        } catch let error as AWSError where error.code == "ResourceConflictException" && Self.isAlreadyExists(error) {
            return false
        }
    }

    static func isAlreadyExists(_ error: AWSError) -> Bool {
        guard case .service(_, _, _, let message, _) = error else { return false }
        return message.lowercased().contains("already exist")
    }

    /// Creates a function from a zip (for the demo and tests).
    public func createFunction(
        _ function: String, runtime: String, role: String, handler: String, zipFile: Data, description: String? = nil,
        timeout: Int? = nil, memorySize: Int? = nil
    ) async throws -> FunctionConfiguration {
        var operation = operation(
            "CreateFunction", "POST", "/2015-03-31/functions", resource: "function '\(function)'",
            body: ClientCore.json(
                CreateFunctionBody(
                    FunctionName: function, Runtime: runtime, Role: role, Handler: handler,
                    Code: .init(ZipFile: zipFile.base64EncodedString()), Description: description, Timeout: timeout,
                    MemorySize: memorySize, Publish: false)),
            safety: .notIdempotent)
        operation.isUpload = true
        return try await call(operation, as: FunctionConfiguration.self)
    }
}
