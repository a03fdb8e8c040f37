import ArgumentParser

@main
struct LambdaDeploy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lambda-deploy")
    func run() async throws {}
}
