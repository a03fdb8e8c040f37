import ArgumentParser

struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Set up API Gateway in front of the function, one stage per alias.",
        subcommands: [GatewaySetupCommand.self]
    )
}
