import Foundation
import Testing
import Yams
@testable import ReleasePolicy

/// The nesting bound is only as good as its agreement with libyaml: the scan must never measure
/// less than what Yams builds. These tests compare the two on many small documents made of the
/// constructs where a tokenizer can go wrong (quotes, comments, plain scalars spanning lines,
/// block scalars, simple keys, indentless sequences, flow collections as keys).
@Suite("YAML nesting measured before parsing")
struct YAMLShapeTests {
    /// The nesting Yams actually builds: collections count one level each (keys included).
    /// Iterative, so a deep tree cannot overflow the test's own stack.
    static func builtDepth(_ node: Node) -> Int {
        var deepest = 0
        var stack: [(Node, Int)] = [(node, 0)]
        while let (current, depth) = stack.popLast() {
            switch current {
            case .scalar:
                deepest = max(deepest, depth)
            case .sequence(let sequence):
                deepest = max(deepest, depth + 1)
                for child in sequence { stack.append((child, depth + 1)) }
            case .mapping(let mapping):
                deepest = max(deepest, depth + 1)
                for (key, value) in mapping {
                    stack.append((key, depth + 1))
                    stack.append((value, depth + 1))
                }
            }
        }
        return deepest
    }

    static let pieces = [
        "[", "]", "{", "}", ", ", ",", ": ", ":", "- ", "-", "? ", "a", "b c", "'q'", "'it''s ['", "\"d\\\"[\"",
        "\n", "\n", "\n  ", "\n    ", " ", "  ", "# [[ c\n", "|\n  [[ x\n", ">-\n   [ y\n", "k: ", "key: ", "x[y",
        "'[", "\"{", "\t", "\n- ", "\n  - ", "---\n", "...\n", "%YAML 1.1\n", "\r\n", "\u{FEFF}", "ü", "\\",
    ]

    @Test("the scan never measures less than Yams builds (random pieces, 12,000 seeded texts)", arguments: 0..<4)
    func neverBelowYams(_ seed: UInt64) {
        var random = SeededGenerator(state: 0xC0FFEE &+ seed)
        var parsed = 0
        for _ in 0..<3_000 {
            let count = Int.random(in: 1...40, using: &random)
            let text = (0..<count).map { _ in Self.pieces.randomElement(using: &random) ?? "" }.joined()
            // At most 40 pieces: Yams can build anything this small without trouble.
            guard let node = try? Yams.compose(yaml: text) else { continue }
            parsed += 1
            let measured = YAMLShape.depth(of: text)
            #expect(measured >= Self.builtDepth(node), "scan \(measured) < built \(Self.builtDepth(node)) for \(text.debugDescription)")
        }
        #expect(parsed > 150, "the generator must produce enough valid YAML to mean something (\(parsed))")
    }

    /// A random valid document of every block and flow style, `depth` levels at most.
    static func document(_ random: inout SeededGenerator, depth: Int, indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        func scalar(_ random: inout SeededGenerator) -> String {
            ["a", "'q [ x'", "\"d { y\"", "x[y", "'it''s'", "a b", "~", "1", "-x", "?y", ":z", "ü"].randomElement(using: &random) ?? "a"
        }
        func flow(_ random: inout SeededGenerator, _ depth: Int) -> String {
            if depth == 0 { return scalar(&random) }
            let count = Int.random(in: 0...3, using: &random)
            switch Int.random(in: 0..<4, using: &random) {
            case 0: return "[" + (0..<count).map { _ in flow(&random, depth - 1) }.joined(separator: ", ") + "]"
            case 1: return "{" + (0..<count).map { i in "k\(i): " + flow(&random, depth - 1) }.joined(separator: ", ") + "}"
            case 2: return "[" + flow(&random, depth - 1) + ": " + flow(&random, depth - 1) + "]"
            default: return "[\n" + pad + "  " + flow(&random, depth - 1) + ",\n" + pad + "]"
            }
        }
        if depth == 0 { return " " + scalar(&random) + "\n" }
        switch Int.random(in: 0..<7, using: &random) {
        case 0:  // block mapping
            return "\n" + (0..<Int.random(in: 1...3, using: &random)).map { i in
                pad + "k\(i):" + document(&random, depth: depth - 1, indent: indent + 2)
            }.joined()
        case 1:  // block sequence, indented
            return "\n" + (0..<Int.random(in: 1...3, using: &random)).map { _ in
                pad + "-" + document(&random, depth: depth - 1, indent: indent + 2)
            }.joined()
        case 2:  // indentless sequence under a key at this indentation
            return "\n" + pad + "k:\n" + (0..<Int.random(in: 1...2, using: &random)).map { _ in
                pad + "-" + document(&random, depth: depth - 1, indent: indent + 2)
            }.joined()
        case 3:  // a flow collection as a value, or as a key
            return Bool.random(using: &random)
                ? " " + flow(&random, depth) + "\n"
                : "\n" + pad + flow(&random, min(depth, 2)).replacingOccurrences(of: "\n", with: " ") + ": " + scalar(&random) + "\n"
        case 4:  // block scalar with brackets inside
            return " |\n" + pad + "  [[ {{ '\n" + pad + "  ]]\n"
        case 5:  // comment, then a value
            return " # [[ '\n" + pad + "  " + scalar(&random) + "\n"
        default:  // plain scalar spanning lines
            return " a [\n" + pad + "  'b {\n"
        }
    }

    @Test("the scan never measures less than Yams builds (structured documents, 8,000 seeded)", arguments: 0..<4)
    func neverBelowYamsStructured(_ seed: UInt64) {
        var random = SeededGenerator(state: 0xBEEF &+ seed)
        var parsed = 0
        for _ in 0..<2_000 {
            var text = "root:" + Self.document(&random, depth: Int.random(in: 1...6, using: &random), indent: 2)
            if Int.random(in: 0..<4, using: &random) == 0, !text.isEmpty {
                // Sometimes a small mutation, to reach the edges of valid YAML.
                var scalars = Array(text.unicodeScalars)
                let at = Int.random(in: 0..<scalars.count, using: &random)
                scalars.insert(Self.pieces.randomElement(using: &random)?.unicodeScalars.first ?? " ", at: at)
                text = String(String.UnicodeScalarView(scalars))
            }
            guard let node = try? Yams.compose(yaml: text) else { continue }
            parsed += 1
            let measured = YAMLShape.depth(of: text)
            #expect(measured >= Self.builtDepth(node), "scan \(measured) < built \(Self.builtDepth(node)) for \(text.debugDescription)")
        }
        #expect(parsed > 1_000, "most structured documents must be valid YAML (\(parsed))")
    }

    @Test("real configs measure far below the limit")
    func realConfigs() throws {
        let yaml = """
            region: us-east-1
            functions:
              - name: orders
                directory: services/orders
                check:
                  event: {body: '{"id": 1}', headers: {x-a: [1, 2]}}
                  expect: {statusCode: 200}
                hook: {alias: dev-orders}
            """
        #expect(YAMLShape.depth(of: yaml) <= 12)
        #expect(YAMLShape.check(yaml, limit: DeployConfig.maxNesting) == nil)
    }

    @Test("Yams builds the deepest accepted config on a small stack")
    func limitIsSafe() throws {
        // Just under the limit, as nested block mappings (one level per line), composed on a
        // thread with a 256 KiB stack: half the smallest stack Swift code runs on.
        let levels = DeployConfig.maxNesting - 1
        let yaml = (0..<levels).map { String(repeating: " ", count: $0) + "k:\n" }.joined()
        #expect(YAMLShape.check(yaml, limit: DeployConfig.maxNesting) == nil)
        #expect(YAMLShape.check(yaml + String(repeating: " ", count: levels) + "k:\n", limit: DeployConfig.maxNesting) != nil)
        let done = DispatchSemaphore(value: 0)
        let result = ParseResult()
        let thread = Thread {
            result.ok = (try? DeployConfig.parse(yaml: yaml, file: "f")) == nil ? false : true
            done.signal()
        }
        thread.stackSize = 256 << 10
        thread.start()
        #expect(done.wait(timeout: .now() + 60) == .success)
        // The file is refused (`k` is no key of the config), but parsing survived.
        #expect(result.ok == false)
    }

    @Test("pathological text is scanned in bounded time", arguments: [
        String(repeating: "a: ", count: 300_000), String(repeating: "'", count: 1 << 20),
        String(repeating: "- \n", count: 300_000), String(repeating: "[a, ", count: 30) + String(repeating: "b, ", count: 300_000),
        String(repeating: " ", count: 1 << 20) + "x", String(repeating: "|\n ", count: 300_000),
    ])
    func boundedTime(_ text: String) {
        let started = Date()
        _ = YAMLShape.check(text, limit: DeployConfig.maxNesting)
        _ = try? DeployConfig.parse(yaml: text, file: "f")
        #expect(Date().timeIntervalSince(started) < 60, "hang detector, not a timing target")
    }

    @Test("mutated configs never crash the loader (fuzz, 3,000 seeded mutations)")
    func fuzzLoader() {
        let base = Array("""
            function: f
            branches: {main: prod, 'release/*': staging}
            exclude: ['*.md', tests/]
            hook:
              branches: ["**"]
              timeout: 30
            check:
              event: {a: [1, {b: "c"}]}
            build:
              command: |
                make [ all ]
              output: out
            functions:
              - name: g
                hook: {alias: dev}
            """.utf8)
        var random = SeededGenerator(state: 42)
        let inserts = Array("[]{}:-?,'\"#|>&*! \n\t".utf8)
        for _ in 0..<3_000 {
            var bytes = base
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes.insert(inserts.randomElement(using: &random) ?? 0x20, at: at)
                case 1: bytes.remove(at: at)
                default:
                    let run = [UInt8](repeating: inserts.randomElement(using: &random) ?? 0x5B, count: Int.random(in: 1...300, using: &random))
                    bytes.insert(contentsOf: run, at: at)
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            _ = try? DeployConfig.parse(yaml: text, file: "f")
        }
    }
}

final class ParseResult: @unchecked Sendable {
    var ok: Bool?
}
