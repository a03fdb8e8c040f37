import ArgumentParser
import Foundation
import Workflow

struct HookInstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install the pre-push hook in this repository (chains an existing hook).",
        discussion: """
            Finds the hooks directory as git does (core.hooksPath honoured). An existing pre-push \
            hook is kept and run first (its failure stops the push, e.g. git-lfs). When a hook \
            manager owns the hooks (husky, lefthook, pre-commit), prints the lines to add to it \
            instead. Running it again changes nothing.
            """)

    @Flag(help: "Rewrite lambda-deploy's hook even if it looks installed.")
    var force = false

    @OptionGroup var project: ProjectOptions

    func run() throws {
        try project.reportingErrors { loaded in
            Render.report(try HookManager(project: loaded).install(force: force, executable: currentExecutablePath()), json: project.json)
        }
    }
}

/// The absolute path of the running binary, so the installed hook runs this same build.
func currentExecutablePath() -> String {
    let link = "/proc/self/exe"
    if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: link) { return resolved }
    return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
}
