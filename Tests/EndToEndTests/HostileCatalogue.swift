import Foundation

/// Issue 11's hostile inputs that must be refused: each a one-line error naming the problem and
/// the fix, exit 1, nothing changed in AWS or git (the catalogue test checks all of it), and
/// rendered into docs/bad-input.md with the rest of the catalogue.
extension BadInput {
    static let hostile: [BadInput] = hostileConfig + hostilePackaging

    static let hostileConfig: [BadInput] = [
        BadInput(
            name: "hostile config: notes.remote is a git option", arguments: ["notes", "fetch"],
            input: "`notes: {remote: \"--upload-pack=touch /tmp/pwned\"}`",
            expected: ["`notes.remote` value \"--upload-pack=touch {home}/pwned\" is invalid", "a remote cannot start with '-'"],
            setup: { try $0.config("function: {function}\ndirectory: src\nnotes: {remote: \"--upload-pack=touch {home}/pwned\"}\n") }),
        BadInput(
            name: "hostile config: hook.remote is an ssh option", arguments: ["plan"], input: "`hook: {remote: \"-oProxyCommand=id\"}`",
            expected: ["`hook.remote` value \"-oProxyCommand=id\" is invalid", "a remote cannot start with '-'"],
            setup: { try $0.config("function: {function}\ndirectory: src\nhook: {remote: \"-oProxyCommand=id\"}\n") }),
        BadInput(
            name: "hostile config: notes ref with ..", arguments: ["deploy", "--alias", "dev"], input: "`notes: {ref: refs/notes/a..b}`",
            expected: ["`notes.ref` value \"refs/notes/a..b\" is invalid", "a ref name cannot contain '..'"],
            setup: { try $0.config("function: {function}\ndirectory: src\nnotes: {ref: refs/notes/a..b}\n") }),
        BadInput(
            name: "hostile config: function is an option", arguments: ["deploy", "--alias", "dev"], input: "`function: \"-rf\"`",
            expected: ["`function` value \"-rf\" is invalid", "a function name cannot start with '-'"],
            setup: { try $0.config("function: \"-rf\"\ndirectory: src\n") }),
        BadInput(
            name: "hostile config: region is a host", arguments: ["deploy", "--alias", "dev"], input: "`region: \"evil.example/x\"`",
            expected: ["`region` value \"evil.example/x\" is invalid", "a region is written like us-east-1"],
            setup: { try $0.config("function: {function}\ndirectory: src\nregion: \"evil.example/x\"\n") }),
        BadInput(
            name: "hostile config: escape sequence in a value", arguments: ["plan"], input: "`directory: \"src\\e[2J\"`",
            expected: ["`directory` value \"src\\e[2J\" is invalid", "control character U+001B"],
            setup: { try $0.config("function: {function}\ndirectory: \"src\\e[2J\"\n") }),
        BadInput(
            name: "hostile config: branch pattern is an option", arguments: ["plan"], input: "`branches: {\"-x\": dev}`",
            expected: ["`branches.-x` value \"-x\" is invalid", "a branch name cannot start with '-'"],
            setup: { try $0.config("function: {function}\ndirectory: src\nbranches: {\"-x\": dev}\n") }),
        BadInput(
            name: "hostile config: 20,000 nested brackets", arguments: ["plan"], input: "`exclude: [[[...]]]`, 20,000 deep (overflowed Yams' stack)",
            expected: ["the YAML nests deeper than 64 levels", "flatten it"],
            setup: { try $0.config("function: {function}\ndirectory: src\nexclude: " + String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000) + "\n") }),
        BadInput(
            name: "hostile config: YAML alias", arguments: ["plan"], input: "`exclude: *patterns` (aliases can multiply without bound)",
            expected: ["YAML aliases (*name) are not supported"],
            setup: { try $0.config("function: {function}\ndirectory: src\nexclude: *patterns\n") }),
        BadInput(
            name: "hostile config: over 1 MiB", arguments: ["plan"], input: "a 1.1 MB comment",
            expected: ["over the 1048576-byte limit for a config file"],
            setup: { try $0.config("function: {function}\ndirectory: src\n#" + String(repeating: "x", count: 1_100_000) + "\n") }),
        BadInput(
            name: "hostile config: build output outside", arguments: ["plan"], input: "`build: {command: make, output: ../x}`",
            expected: ["`build.output` value \"../x\" is invalid", "cannot leave its directory"],
            setup: { try $0.config("function: {function}\ndirectory: src\nbuild: {command: make, output: ../x}\n") }),
        BadInput(
            name: "hostile config: --config is a FIFO", arguments: ["plan", "--config", "fifo.yml"], input: "`--config` naming a named pipe (would block forever)",
            expected: ["fifo.yml", "is not a regular file"], maxSeconds: 30,
            setup: { try $0.mkfifo("fifo.yml") }),
    ]

    static let hostilePackaging: [BadInput] = [
        BadInput(
            name: "hostile package: --output inside DIR", arguments: ["package", "src", "--output", "src/out.zip"],
            input: "`--output src/out.zip`",
            expected: ["would be written inside the function directory", "choose an --output outside it"]),
        BadInput(
            name: "hostile package: --output over the config", arguments: ["package", "src", "--output", "lambda-deploy.yml"],
            input: "`--output lambda-deploy.yml` (was replaced by a zip, exit 0)",
            expected: ["already exists and is another file, not a zip lambda-deploy wrote", "choose another --output"]),
        BadInput(
            name: "hostile package: link to an excluded file", arguments: ["package", "src"],
            input: "`src/link -> secret.txt` with secret.txt in .lambdaignore",
            expected: ["symlink link -> secret.txt needs secret.txt, which the package leaves out", "would dangle in Lambda"],
            setup: { scene in
                try scene.work.write("src/secret.txt", "x\n")
                try scene.work.write("src/.lambdaignore", "secret.txt\n")
                try scene.symlink("src/link", to: "secret.txt")
            }),
        BadInput(
            name: "hostile package: .lambdaignore is a FIFO", arguments: ["package", "src"], input: "a named pipe named `.lambdaignore`",
            expected: [".lambdaignore is a named pipe", "replace it with a regular file"], maxSeconds: 30,
            setup: { try $0.mkfifo("src/.lambdaignore") }),
        BadInput(
            name: "hostile package: symlink loop", arguments: ["package", "src"], input: "`src/loop -> loop`",
            expected: ["symlink loop -> loop never resolves", "part of a loop of links"],
            setup: { try $0.symlink("src/loop", to: "loop") }),
        BadInput(
            name: "hostile package: a secret file", arguments: ["package", "src"], input: "`src/.env`",
            expected: [".env looks like a secret", "lint.allow"],
            setup: { try $0.work.write("src/.env", "TOKEN=x\n") }),
        BadInput(
            name: "hostile deploy: escape sequence in the alias", arguments: ["deploy", "--alias", "dev\u{1B}[2J"], input: "`--alias $'dev\\e[2J'`",
            expected: ["invalid alias name 'dev\\e[2J'"]),
        BadInput(
            name: "hostile deploy: function directory outside the repository", arguments: ["deploy", "--alias", "dev", "--dir", "{home}"],
            input: "`--dir` outside the repository (was deployed and recorded as HEAD's code)",
            expected: ["is outside the repository", "--allow-outside-repo"],
            setup: { try $0.home.write("app.py", "x = 1\n") }),
    ]
}
