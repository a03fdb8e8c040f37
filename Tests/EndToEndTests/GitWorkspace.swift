import Foundation
import Testing

/// A developer's set-up for the end-to-end suites of the git workflow: a bare "remote"
/// repository, a clone of it with a function directory and lambda-deploy.yml committed and
/// pushed to `main`, a function of its own in the shared moto server, and an environment with
/// moto's test credentials (which `git push` passes on to the hooks it runs).
final class GitWorkspace: @unchecked Sendable {
    let root: TemporaryDirectory
    let home: TemporaryDirectory
    let function: String
    let endpoint: String
    let env: [String: String]
    var remote: String { root.path + "/remote.git" }
    var work: String { root.path + "/work" }

    /// - Parameters:
    ///   - config: extra lines appended to the generated lambda-deploy.yml.
    ///   - branch: the default branch, in both repositories.
    init(config extra: String = "", branch: String = "main", createFunctionInMoto: Bool = true) async throws {
        root = try TemporaryDirectory("git")
        home = try TemporaryDirectory("home")
        function = uniqueName("pr")
        endpoint = try await MotoServer.shared.endpoint()
        if createFunctionInMoto { try createFunction(function, endpoint: endpoint) }
        var env = baseEnvironment(home: home.path)
        env["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLETESTONLY"
        env["AWS_SECRET_ACCESS_KEY"] = "test-secret-value-never-printed"
        env["AWS_REGION"] = "us-east-1"
        env["AWS_ENDPOINT_URL"] = endpoint
        self.env = env

        try EndToEndTests.git(["init", "-q", "--bare", "-b", branch, remote], cwd: root.path, env: env)
        try EndToEndTests.git(["init", "-q", "-b", branch, work], cwd: root.path, env: env)
        try write("src/app.py", Self.handler("v1"))
        try write("lambda-deploy.yml", "function: \(function)\ndirectory: src\nregion: us-east-1\n" + extra)
        try git(["add", "-A"])
        try git(["commit", "-q", "-m", "first"])
        try git(["remote", "add", "origin", remote])
        try git(["push", "-q", "-u", "origin", branch])
    }

    static func handler(_ body: String) -> String {
        "def handler(event, context):\n    return {'statusCode': 200, 'body': '\(body)'}\n"
    }

    func write(_ relative: String, _ contents: String, in directory: String? = nil, mode: Int = 0o644) throws {
        let full = (directory ?? work) + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: full))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: full)
    }

    func read(_ relative: String, in directory: String? = nil) -> String? {
        try? String(contentsOfFile: (directory ?? work) + "/" + relative, encoding: .utf8)
    }

    /// `git` in the work tree (or `cwd`); throws on a non-zero exit.
    @discardableResult
    func git(_ arguments: [String], cwd: String? = nil, extraEnv: [String: String] = [:]) throws -> String {
        try EndToEndTests.git(arguments, cwd: cwd ?? work, env: env.merging(extraEnv) { $1 })
    }

    /// `git` without the exit check, for pushes a hook may stop.
    func gitResult(_ arguments: [String], cwd: String? = nil, extraEnv: [String: String] = [:]) throws -> RunResult {
        try run("git", arguments, cwd: cwd ?? work, env: env.merging(extraEnv) { $1 })
    }

    /// The tool as a user runs it, in the work tree by default.
    func tool(_ arguments: [String], cwd: String? = nil, extraEnv: [String: String] = [:], stdin: String? = nil) throws -> RunResult {
        try run(toolPath, arguments, cwd: cwd ?? work, env: env.merging(extraEnv) { $1 }, stdin: stdin)
    }

    /// Changes the function's code and commits it; returns the new commit.
    @discardableResult
    func commitChange(_ body: String, message: String? = nil, cwd: String? = nil) throws -> String {
        try write("src/app.py", Self.handler(body), in: cwd)
        try git(["commit", "-q", "-am", message ?? "body \(body)"], cwd: cwd)
        return try git(["rev-parse", "HEAD"], cwd: cwd)
    }

    func head(cwd: String? = nil) throws -> String { try git(["rev-parse", "HEAD"], cwd: cwd) }

    /// The remote's sha for a ref, or nil when it has no such ref.
    func remoteRef(_ ref: String) throws -> String? {
        let output = try git(["ls-remote", remote, ref])
        return output.split(separator: "\t").first.map(String.init)
    }

    /// The JSON records of the note on `commit` in refs/notes/deploys, read by plain git.
    func noteRecords(_ commit: String, cwd: String? = nil) throws -> [[String: Any]] {
        let shown = try gitResult(["notes", "--ref=deploys", "show", commit], cwd: cwd)
        guard shown.status == 0 else { return [] }
        return try shown.stdout.split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw RunError(message: "note line is not a JSON object: \(line)")
            }
            return object
        }
    }

    /// Travis variables of a push build of `branch` at `commit` (the leader job).
    func travis(branch: String = "main", commit: String) -> [String: String] {
        [
            "CI": "true", "TRAVIS": "true", "TRAVIS_BRANCH": branch, "TRAVIS_PULL_REQUEST": "false",
            "TRAVIS_EVENT_TYPE": "push", "TRAVIS_JOB_NUMBER": "9.1", "TRAVIS_BUILD_NUMBER": "9",
            "TRAVIS_COMMIT": commit, "TRAVIS_REPO_SLUG": "team/pr",
        ]
    }

    // MARK: - moto, read and changed behind the tool's back with boto3

    /// The alias as moto has it: its version and routing weights; nil when it does not exist.
    func alias(_ name: String) throws -> AliasSnapshot? {
        let value = try moto(["get-alias", function, name])
        guard let object = value as? [String: Any], let version = object["version"] as? String else { return nil }
        return AliasSnapshot(version: version, weights: object["weights"] as? [String: Double] ?? [:])
    }

    /// Every published version (not `$LATEST`), paged through.
    func versions() throws -> [String] {
        try moto(["versions", function]) as? [String] ?? []
    }

    func moto(_ arguments: [String]) throws -> Any? {
        try motoQuery(arguments, endpoint: endpoint)
    }
}

struct AliasSnapshot: Equatable, Sendable, CustomStringConvertible {
    var version: String
    var weights: [String: Double]
    var description: String { "version \(version) weights \(weights)" }
}

/// A small boto3 program for reading (and, for drift tests, changing) moto's state the way any
/// other AWS client would, independently of the tool under test.
private let motoProgram = #"""
import json, os, sys
import boto3

def client(service):
    return boto3.client(service, endpoint_url=os.environ["MOTO_ENDPOINT"], region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")

command, *args = sys.argv[1:]
out = None
if command == "get-alias":
    lam = client("lambda")
    try:
        alias = lam.get_alias(FunctionName=args[0], Name=args[1])
        out = {"version": alias["FunctionVersion"],
               "weights": alias.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})}
    except lam.exceptions.ResourceNotFoundException:
        out = None
elif command == "versions":
    pages = client("lambda").get_paginator("list_versions_by_function").paginate(FunctionName=args[0])
    out = [v["Version"] for page in pages for v in page["Versions"] if v["Version"] != "$LATEST"]
elif command == "update-alias":
    client("lambda").update_alias(FunctionName=args[0], Name=args[1], FunctionVersion=args[2])
    out = True
elif command == "publish":
    out = client("lambda").publish_version(FunctionName=args[0])["Version"]
elif command == "create-alias":
    client("lambda").create_alias(FunctionName=args[0], Name=args[1], FunctionVersion=args[2])
    out = True
elif command == "policy":
    lam = client("lambda")
    try:
        out = json.loads(lam.get_policy(FunctionName=args[0], Qualifier=args[1])["Policy"])
    except lam.exceptions.ResourceNotFoundException:
        out = None
elif command == "gateway":
    gw = client("apigateway")
    apis = [a for a in gw.get_rest_apis(limit=500)["items"] if a["name"] == args[0]]
    out = {"apis": len(apis)}
    if apis:
        api = apis[0]["id"]
        out["id"] = api
        out["stages"] = {s["stageName"]: {"variables": s.get("variables", {}), "deploymentId": s.get("deploymentId")}
                         for s in gw.get_stages(restApiId=api)["item"]}
        out["deployments"] = len(gw.get_deployments(restApiId=api, limit=500)["items"])
        resources = gw.get_resources(restApiId=api, limit=500)["items"]
        out["resources"] = sorted(r["path"] for r in resources)
        methods = {}
        for r in resources:
            for m in r.get("resourceMethods", {}):
                integration = gw.get_integration(restApiId=api, resourceId=r["id"], httpMethod=m)
                methods[m + " " + r["path"]] = {"type": integration.get("type"), "uri": integration.get("uri")}
        out["methods"] = methods
else:
    sys.exit("unknown command " + command)
print(json.dumps(out))
"""#

func motoQuery(_ arguments: [String], endpoint: String) throws -> Any? {
    var env = ProcessInfo.processInfo.environment
    env["MOTO_ENDPOINT"] = endpoint
    let result = try run("python3", ["-c", motoProgram] + arguments, cwd: NSTemporaryDirectory(), env: env)
    guard result.status == 0 else { throw RunError(message: "boto3 \(arguments.joined(separator: " ")) failed: \(result.stderr)") }
    let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8), options: [.fragmentsAllowed])
    return object is NSNull ? nil : object
}

extension RunResult {
    /// The lines of stderr (without empty ones), for "one line" checks.
    var stderrLines: [Substring] { stderr.split(separator: "\n") }
}
