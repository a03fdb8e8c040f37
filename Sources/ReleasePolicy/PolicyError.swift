public import Foundation
import Safety

/// Everything that can go wrong in the release policy: a config file that does not say what the
/// user meant, a protected alias deployed by hand, or a pre-push line git should never have sent.
///
/// Each description is one line that names the file (and line), key or alias, and says what to
/// do. Every value quoted from outside (a config value, a key, a file name, a git line) is shown
/// escaped and cut short (`DisplayText.excerpt`), so a newline or an escape sequence in it can
/// never start a second line or reach the terminal raw.
public enum PolicyError: Error, Equatable, Sendable, LocalizedError {
    /// The YAML itself does not parse.
    case configSyntax(file: String, line: Int?, problem: String)
    /// The file is larger than a config file can be (checked before parsing).
    case configTooLarge(file: String, bytes: Int, limit: Int)
    /// The YAML nests deeper than the parser is allowed to go (checked before parsing).
    case configTooDeep(file: String, line: Int, limit: Int)
    /// A YAML feature the config does not accept (anchors, aliases, tags).
    case configUnsupported(file: String, line: Int, feature: String)
    /// A key the config format does not know (typos must not pass silently).
    case unknownKey(file: String, line: Int?, keyPath: String, suggestion: String?, known: [String])
    /// The same key twice in one mapping (YAML would silently keep the last one).
    case duplicateKey(file: String, line: Int?, keyPath: String)
    /// A value of the wrong YAML type.
    case wrongType(file: String, line: Int?, keyPath: String, expected: String)
    /// A value of the right type that is still not acceptable.
    case invalidValue(file: String, line: Int?, keyPath: String, value: String, reason: String)
    /// An alias name Lambda would reject (outside the config file, e.g. `--alias`).
    case invalidAlias(alias: String, reason: String)
    /// A protected alias deployed outside a CI build of a ref that maps to it.
    case protectedAlias(alias: String, mappedBranches: [String], where: String)
    /// A decision to skip was handed to a deploy.
    case notADeploy(reason: String)
    /// A pre-push stdin line that is not `<local ref> <local sha> <remote ref> <remote sha>`.
    case malformedPrePushLine(lineNumber: Int, line: String, problem: String)
    /// The config lists several functions and the command was not told which one.
    case functionNotChosen(names: [String])
    /// `--function` names a function the config's `functions:` list does not have.
    case unknownFunction(name: String, names: [String])

    public var errorDescription: String? {
        switch self {
        case let .configSyntax(file, line, problem):
            return "\(Self.place(file, line)): YAML syntax error: \(Self.shown(problem)); fix the YAML at that line."
        case let .configTooLarge(file, bytes, limit):
            return "\(Self.place(file, nil)) is \(bytes) bytes, over the \(limit)-byte limit for a config file; keep large data (events, lists of files) in files of their own."
        case let .configTooDeep(file, line, limit):
            return "\(Self.place(file, line)): the YAML nests deeper than \(limit) levels, the limit for a config file; flatten it."
        case let .configUnsupported(file, line, feature):
            return "\(Self.place(file, line)): YAML \(feature) are not supported in a config file; write the value out (functions inherit the top-level settings)."
        case let .unknownKey(file, line, keyPath, suggestion, known):
            let hint = suggestion.map { "did you mean `\($0)`?" }
                ?? "known keys here: \(known.joined(separator: ", "))"
            return "\(Self.place(file, line)): unknown key `\(Self.shown(keyPath))`; \(hint) Remove or rename it."
        case let .duplicateKey(file, line, keyPath):
            return "\(Self.place(file, line)): key `\(Self.shown(keyPath))` appears twice; keep one of them."
        case let .wrongType(file, line, keyPath, expected):
            let name = keyPath.isEmpty ? "the top level" : "`\(Self.shown(keyPath))`"
            return "\(Self.place(file, line)): \(name) must be \(expected); change its value."
        case let .invalidValue(file, line, keyPath, value, reason):
            return "\(Self.place(file, line)): `\(Self.shown(keyPath))` value \"\(Self.shown(value))\" is invalid: \(DisplayText.escaped(reason))."
        case let .invalidAlias(alias, reason):
            return "alias \"\(Self.shown(alias))\" is invalid: \(reason)."
        case let .protectedAlias(alias, mappedBranches, place):
            let how = mappedBranches.isEmpty
                ? "no branch maps to it in `branches:`, so only a deploy with --override-protection can move it"
                : "it moves only from a CI push build of \(mappedBranches.map { "`\(Self.shown($0))`" }.joined(separator: " or ")) (push there and let CI run lambda-deploy)"
            return "alias `\(Self.shown(alias))` is protected and this is \(place): \(how); --override-protection forces it and is recorded in the deploy record."
        case let .notADeploy(reason):
            return "the release policy decided not to deploy (\(Self.shown(reason))); nothing was changed."
        case let .malformedPrePushLine(lineNumber, line, problem):
            return "pre-push input line \(lineNumber) \"\(Self.shown(line))\" is malformed: \(Self.shown(problem)); git sends `<local ref> <local sha> <remote ref> <remote sha>` (is the hook called by git?)."
        case let .functionNotChosen(names):
            return "lambda-deploy.yml lists \(names.count) functions (\(names.map { Self.shown($0) }.joined(separator: ", "))) and a command acts on one: pass --function NAME (in CI, one `lambda-deploy ci --function NAME` per function)."
        case let .unknownFunction(name, names):
            return "function `\(Self.shown(name))` is not in the `functions:` list of lambda-deploy.yml (\(names.map { Self.shown($0) }.joined(separator: ", "))); pass one of those names or add it to the list."
        }
    }

    /// Whether the problem is which function to act on (fixed with `--function`, not in the file).
    public var isFunctionChoice: Bool {
        switch self {
        case .functionNotChosen, .unknownFunction: true
        default: false
        }
    }

    /// A value from outside as a message may show it: escaped, one line, at most 120 characters.
    static func shown(_ value: String) -> String {
        DisplayText.excerpt(value, limit: 120)
    }

    private static func place(_ file: String, _ line: Int?) -> String {
        let name = DisplayText.excerpt(file, limit: 300)
        return line.map { "\(name):\($0)" } ?? name
    }
}
