import Foundation

/// What an alias should point at: its main version and, during a traffic shift, the additional
/// version with its share of traffic (0.0-1.0).
public struct AliasTarget: Sendable, Equatable {
    public var version: String
    public var weights: [String: Double]

    public init(version: String, weights: [String: Double] = [:]) {
        self.version = version
        self.weights = weights
    }

    /// Whether `alias` is in this state. Weights are compared to 1e-6: Lambda echoes them back
    /// through a JSON double.
    func isReached(by alias: AliasState?) -> Bool {
        guard let alias, alias.version == version, Set(alias.additionalWeights.keys) == Set(weights.keys) else { return false }
        return weights.allSatisfy { key, value in abs((alias.additionalWeights[key] ?? -1) - value) < 1e-6 }
    }
}

/// The one loop that moves an alias (deploy, promote, rollback, finish, cancel): create or update
/// from the state last read, and settle every race by reading the alias again.
///
/// UpdateAlias carries the RevisionId of the state the move was decided from, so a concurrent
/// move is noticed (PreconditionFailed), re-read and decided again by `plan`, never overwritten
/// from a stale view. A lost answer is settled the same way: the alias is read back, and a move
/// that landed is not repeated. The end state is read once more, so a caller that reports
/// success knows the alias really is where it says.
struct AliasMover {
    let lambda: any LambdaOperations
    let reporter: Reporter
    var maxAttempts = 4

    struct Outcome {
        /// The alias as it was right before our move landed (nil: we created it).
        var replaced: AliasState?
        var target: AliasTarget
    }

    /// Moves `alias` of `function`, starting from `current` (nil: it does not exist).
    ///
    /// - `plan` decides the target from the alias as it is; it runs again after every re-read,
    ///   and may throw to stop (for example when a newer deploy has taken the alias: deciding
    ///   that may need another read, so it is async).
    /// - `description` is the alias description for a move from a given state.
    /// - `onWrite` is told before each write that may reach AWS (for `failed` records).
    func move(
        function: String, alias name: String, from current: AliasState?,
        description: (AliasState?) -> String,
        plan: (AliasState?) async throws -> AliasTarget,
        onWrite: () -> Void = {}
    ) async throws -> Outcome {
        var current = current
        for attempt in 1...maxAttempts {
            let target = try await plan(current)
            if target.isReached(by: current) { return try await confirmed(function, name, Outcome(replaced: current, target: target)) }
            do {
                onWrite()
                if let existing = current {
                    _ = try await lambda.updateAlias(
                        function, name: name, version: target.version, description: description(existing),
                        additionalWeights: target.weights, revisionId: existing.revisionId)
                } else {
                    _ = try await lambda.createAlias(
                        function, name: name, version: target.version, description: description(nil),
                        additionalWeights: target.weights)
                }
                return try await confirmed(function, name, Outcome(replaced: current, target: target))
            } catch let conflict as LambdaConflict {
                // Another deploy moved (or created) the alias, or our own update landed and its
                // answer was lost (the retry then failed its precondition). Read it and decide again.
                let now = try await lambda.alias(function, name: name)
                if target.isReached(by: now) { return try await confirmed(function, name, Outcome(replaced: current, target: target)) }
                if conflict == .preconditionFailed || now != nil {
                    reporter.step("\(name) was moved by someone else meanwhile (now \(now?.version ?? "gone")): deciding again from its new state")
                }
                current = now
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // No answer, or a failure the client does not repeat because the call may have
                // landed (CreateAlias is not idempotent). Read the alias back.
                let now = try await lambda.alias(function, name: name)
                if target.isReached(by: now) { return try await confirmed(function, name, Outcome(replaced: current, target: target)) }
                if current == nil, let now, attempt < maxAttempts {
                    // Someone created the alias meanwhile, whatever the create's error said.
                    reporter.step("\(name) was created by someone else meanwhile (version \(now.version)): deciding again from its state")
                    current = now
                    continue
                }
                // UpdateAlias was retried as far as the client's budget allows; a create that
                // certainly did not land (still no alias) is tried again, bounded by maxAttempts.
                guard current == nil, now == nil, attempt < maxAttempts else { throw error }
                reporter.step("creating \(name) failed (\(describe(error))): it does not exist, trying again")
                try await Task.sleep(for: .milliseconds(250 * attempt))
            }
        }
        throw WorkflowError.raceNotSettled(function: function, attempts: maxAttempts)
    }

    /// Reads the alias once more: success is reported only when it really is in the target state.
    private func confirmed(_ function: String, _ name: String, _ outcome: Outcome) async throws -> Outcome {
        let final = try await lambda.alias(function, name: name)
        guard outcome.target.isReached(by: final) else {
            throw WorkflowError.aliasNotMoved(function: function, alias: name, expected: outcome.target.version, actual: final?.version ?? "none")
        }
        return outcome
    }
}

/// The message of an error, as a user reads it.
func describe(_ error: any Error) -> String {
    (error as? any LocalizedError)?.errorDescription ?? String(describing: error)
}
