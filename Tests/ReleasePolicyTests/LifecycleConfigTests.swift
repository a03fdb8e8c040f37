import Testing
@testable import ReleasePolicy

/// Issue 17: build, check, prune and lint, per function or at the top level.
@Suite("Release lifecycle config")
struct LifecycleConfigTests {
    static let file = """
        build:
          command: |
            pip install -r requirements.txt -t build
            cp -r src/. build/
          output: ./build/
          inputs: [requirements.txt, 'src/**']
        check:
          event: {path: /health, n: 1, ok: true, none: null, word: yes, quoted: '1', list: [1, {a: b}]}
          expect: {statusCode: 200}
        prune: {keep: 5}
        lint:
          allow: [tests/fixtures/fake.pem]
          disable: [large-entries]
        functions:
          - name: api
          - name: worker
            build: {command: make, output: dist}
            check: {eventFile: events/worker.json}
            prune: {}
            lint: {disable: [handler, dev-files]}
        """

    @Test("top-level settings parse into typed values")
    func parses() throws {
        let parsed = try config(Self.file)
        let build = try #require(parsed.build)
        #expect(build.command == "pip install -r requirements.txt -t build\ncp -r src/. build/\n")
        #expect(build.output == "build")
        #expect(build.inputs == ["requirements.txt", "src/**"])
        let check = try #require(parsed.check)
        #expect(check.event == .inline(try #require(jsonValue(
            #"{"path":"/health","n":1,"ok":true,"none":null,"word":"yes","quoted":"1","list":[1,{"a":"b"}]}"#))))
        #expect(check.expect == jsonValue(#"{"statusCode":200}"#))
        #expect(parsed.prune == PruneSettings(keep: 5))
        #expect(parsed.lint == LintSettings(allow: ["tests/fixtures/fake.pem"], disable: [.largeEntries]))
    }

    @Test("functions inherit what they do not set, and replace what they do")
    func inheritance() throws {
        let parsed = try config(Self.file)
        let api = try parsed.selecting(function: "api")
        #expect(api.build == parsed.build)
        #expect(api.check == parsed.check)
        #expect(api.prune == PruneSettings(keep: 5))
        #expect(api.lint == parsed.lint)
        let worker = try parsed.selecting(function: "worker")
        #expect(worker.build == BuildStep(command: "make", output: "dist"))
        #expect(worker.check == InvokeCheck(event: .file("events/worker.json")))
        #expect(worker.prune == PruneSettings(keep: 10))
        #expect(worker.lint == LintSettings(disable: [.handler, .devFiles]))
    }

    @Test("an event may also be written as a JSON string")
    func eventAsJSONString() throws {
        let check = try #require(try config(#"check: {event: '{"a": [1, "x\n"]}'}"#).check)
        #expect(check.event == .inline(.object([.init(key: "a", value: .array([.number("1"), .string("x\n")]))])))
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var yaml: String
        var key: String
        var reason: String
        var testDescription: String { yaml }
    }

    @Test("each section is checked for what it is", arguments: [
        Bad(yaml: "build: {output: out}", key: "build.command", reason: "needs the command"),
        Bad(yaml: "build: {command: '   ', output: out}", key: "build.command", reason: "needs the command"),
        Bad(yaml: "build: {command: make}", key: "build.output", reason: "emptied before each build"),
        Bad(yaml: "build: {command: make, output: '~/x'}", key: "build.output", reason: "not expanded"),
        Bad(yaml: "build: {command: make, output: out, outputs: x}", key: "build.outputs", reason: "did you mean `output`?"),
        Bad(yaml: "check: {expect: {a: 1}}", key: "check.event", reason: "`event:` (inline) or `eventFile:`"),
        Bad(yaml: "check: {event: {}, eventFile: e.json}", key: "check.eventFile", reason: "not both"),
        Bad(yaml: "check: {event: 'not json'}", key: "check.event", reason: "is not JSON"),
        Bad(yaml: "check: {event: '[1, 2'}", key: "check.event", reason: "not closed"),
        Bad(yaml: "check: {event: {a: 1, a: 2}}", key: "check.event.a", reason: "appears twice"),
        Bad(yaml: "prune: {keep: 100000}", key: "prune.keep", reason: "between 1 and 10000"),
        Bad(yaml: "prune: 3", key: "prune", reason: "a mapping"),
        Bad(yaml: "lint: {disable: [secret-file]}", key: "lint.disable", reason: "did you mean `secret-files`?"),
        Bad(yaml: "lint: {disable: [everything]}", key: "lint.disable", reason: "expected one of handler, secret-files, large-entries, dev-files"),
        Bad(yaml: "lint: {allow: ['../x']}", key: "lint.allow", reason: "'..'"),
        Bad(yaml: "functions: [{name: f, build: {command: make, output: ..}}]", key: "functions[0].build.output", reason: "'..'"),
        Bad(yaml: "functions: [{name: f, check: {}}]", key: "functions[0].check.event", reason: "needs the event"),
    ])
    func refused(_ c: Bad) throws {
        let error = #expect(throws: PolicyError.self) { try config(c.yaml) }
        let message = try #require(error?.errorDescription)
        #expect(message.contains("`\(c.key)`"), "\(message)")
        #expect(message.contains(c.reason), "\(message)")
    }

    @Test("the check passes on a clean answer containing the expected subset, and says why not otherwise")
    func evaluate() throws {
        let check = InvokeCheck(event: .inline(.object([])), expect: jsonValue(#"{"statusCode": 200, "body": {"ok": true}}"#))
        #expect(check.evaluate(functionError: nil, payload: #"{"statusCode":200.0,"body":{"ok":true,"extra":1},"headers":{}}"#) == .passed)
        guard case .failed(let differs) = check.evaluate(functionError: nil, payload: #"{"statusCode":500}"#) else {
            Issue.record("a 500 must fail the check")
            return
        }
        #expect(differs.contains("does not contain"))
        guard case .failed(let crashed) = check.evaluate(functionError: "Unhandled", payload: "{\"errorMessage\":\"boom\u{1B}[2J\"}\n") else {
            Issue.record("a function error must fail the check")
            return
        }
        #expect(crashed.contains("Unhandled"))
        #expect(!crashed.contains("\u{1B}") && !crashed.contains("\n"), "escaped, one line: \(crashed)")
        guard case .failed(let notJSON) = check.evaluate(functionError: nil, payload: "<html>") else {
            Issue.record("an answer that is not JSON cannot contain the subset")
            return
        }
        #expect(notJSON.contains("not JSON"))
        #expect(InvokeCheck(event: .file("e.json")).evaluate(functionError: nil, payload: "anything") == .passed)
    }

    @Test("subsets: objects by member, arrays element by element, numbers as numbers", arguments: [
        (#"{"a":1,"b":[1,2]}"#, #"{"b":[1,2]}"#, true), (#"{"a":1}"#, #"{"a":1.0}"#, true), (#"{"a":1}"#, #"{"a":"1"}"#, false),
        (#"[1,2]"#, #"[1]"#, false), (#"[{"a":1,"b":2}]"#, #"[{"a":1}]"#, true), (#""x""#, #""x""#, true), (#"null"#, #"{}"#, false),
    ])
    func subsets(_ value: String, _ expected: String, _ contains: Bool) throws {
        let v = try #require(jsonValue(value)), e = try #require(jsonValue(expected))
        #expect(v.contains(e) == contains)
    }

    @Test("JSON from outside is bounded and strict", arguments: [
        String(repeating: "[", count: 100) + String(repeating: "]", count: 100), "[1,]", "{\"a\" 1}", "01", "1.", "\"\\x\"",
        "\"\\ud800\"", "\"a\u{01}\"", "[1] 2", "", "tru",
    ])
    func jsonRefused(_ text: String) {
        guard case .invalid = JSONValue.parse(text) else {
            Issue.record("\(text.debugDescription) must not parse")
            return
        }
    }

    @Test("JSON round-trips through its compact text")
    func jsonText() throws {
        let text = #"{"a":[1,-2.5e3,true,false,null],"b":"q\"\\\n\u0001é😀"}"#
        let value = try #require(jsonValue(text))
        #expect(value.text == text)
        #expect(jsonValue(value.text) == value)
        #expect(jsonValue(#""\ud83d\ude00""#) == .string("😀"))
    }

    func jsonValue(_ text: String) -> JSONValue? {
        if case .value(let value) = JSONValue.parse(text) { return value }
        return nil
    }
}
