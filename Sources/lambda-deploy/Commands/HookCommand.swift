import ArgumentParser

struct HookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook",
        abstract: "Deploy dev when you push: install, remove or run the git pre-push hook.",
        subcommands: [HookInstallCommand.self, HookUninstallCommand.self, HookPrePushCommand.self]
    )
}
