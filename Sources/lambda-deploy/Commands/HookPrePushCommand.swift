import ArgumentParser
import Foundation
import Workflow

struct HookPrePushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pre-push",
        abstract: "What the installed hook runs: read git's pushed refs on stdin and deploy dev if they match.",
        discussion: """
            git calls the hook as `pre-push REMOTE URL` with one line per pushed ref on stdin. \
            Deploys `hook.alias` (dev) when a pushed branch matches `hook.branches`, for the \
            configured remote only. hook.timeout bounds the whole run, packaging included. A failed \
            or timed-out deploy warns and lets the push go on unless hook.blockPushOnFailure is true. \
            LAMBDA_DEPLOY_SKIP=1 or `git push --no-verify` skips it.
            """)

    @Argument(help: "The remote's name, as git passes it.")
    var remote: String = ""

    @Argument(help: "The remote's URL, as git passes it.")
    var url: String = ""

    @OptionGroup var aws: AWSOptions
    @OptionGroup var project: ProjectOptions

    func run() async throws {
        let environment = RunEnvironment.current()
        if environment.flag("LAMBDA_DEPLOY_SKIP") {
            Console.error("lambda-deploy: LAMBDA_DEPLOY_SKIP is set: not deploying")
            return
        }
        let input = FileHandle.standardInput.readDataToEndOfFile()
        try await reportingErrors(json: project.json) {
            let loaded = try project.load(environment: environment)
            let settings = loaded.config.hook
            // The whole hook is bounded: at hook.timeout the deploy stops at its next step; if
            // it cannot (a long packaging step), the process ends a few seconds later, the push
            // going on unless the config blocks it.
            ProcessGuard.deadline(seconds: settings.timeout, setting: "hook.timeout") {
                Console.error("lambda-deploy: " + HookManager.timedOutMessage(alias: settings.alias, seconds: settings.timeout, block: settings.blockPushOnFailure))
                return settings.blockPushOnFailure ? ExitStatus.failure : 0
            }
            let hooks = try HookManager(project: loaded)
            let reporter = project.reporter
            let result = try await hooks.prePush(
                remote: remote, stdin: input, reporter: reporter, connect: aws.connector(loaded, reporter: reporter))
            if project.json { Console.json(result) } else if !result.message.isEmpty { Console.error("lambda-deploy: " + result.message) }
            if result.blockPush { throw ExitCode(ExitStatus.failure) }
        }
    }
}
