import Digest
import ReleasePolicy

/// What decides whether a build can be reused: a SHA-256 over the files the build reads (each
/// path with its content's SHA-256), the command text, the output folder, the function and the
/// tool's version.
///
/// Every field and every path is length-prefixed, and each file contributes a fixed-size digest,
/// so two different trees (or a path and a content that swap bytes across a boundary) never
/// produce the same input to the hash.
struct BuildDigest: Equatable, Sendable {
    /// Hex SHA-256: the name of the cache entry.
    var value: String
    /// How many input files were hashed.
    var files: Int
    /// `inputs` patterns that matched no file (a typo would otherwise make the cache blind to
    /// the file it meant).
    var unmatched: [String]

    /// Changes whenever the layout of what is hashed changes, so old cache entries are never
    /// mistaken for new ones.
    static let format = "lambda-deploy build inputs v1"

    /// Hashes the inputs of `step` in `directory` (canonical). `.git` and the output folder are
    /// never inputs.
    static func compute(step: BuildStep, directory: String, function: String, toolVersion: String) throws(BuildTreeFailure) -> BuildDigest {
        let output = Array(step.output.utf8)
        let patterns = InputPatterns(step.inputs)
        let git = Array(".git".utf8)
        let entries = try BuildTree.walk(directory) { path, _ in
            path == output || path.split(separator: 47).last.map(Array.init) == git
        }

        let hasher = SHA256Hasher()
        field(hasher, Array(format.utf8))
        field(hasher, Array(function.utf8))
        field(hasher, Array(step.command.utf8))
        field(hasher, output)
        field(hasher, Array(toolVersion.utf8))

        var matched = Set<Int>()
        var files = 0
        for entry in entries where entry.kind != .directory {
            guard let pattern = patterns.match(entry.displayPath) else { continue }
            matched.insert(pattern)
            let content: [UInt8]
            let tag: UInt8
            switch entry.kind {
            case .file:
                tag = entry.mode & 0o111 != 0 ? UInt8(ascii: "x") : UInt8(ascii: "f")
                content = try BuildTree.sha256(ofFile: BuildTree.join(Array(directory.utf8), entry.path))
            case .symlink(let target):
                tag = UInt8(ascii: "l")
                content = SHA256.hash(target)
            case .special, .directory:
                // A pipe or device is never read (it could block); that it exists is the input.
                tag = UInt8(ascii: "s")
                content = [UInt8](repeating: 0, count: 32)
            }
            hasher.update([tag])
            field(hasher, entry.path)
            hasher.update(content)
            files += 1
        }
        hasher.update([UInt8(ascii: "$")])
        let unmatched = patterns.patterns.indices.filter { !matched.contains($0) }.map { step.inputs[$0] }
        return BuildDigest(value: Hex.encode(hasher.finalize()), files: files, unmatched: patterns.isEverything ? [] : unmatched)
    }

    /// `bytes` preceded by its length as 8 bytes, big-endian.
    private static func field(_ hasher: SHA256Hasher, _ bytes: [UInt8]) {
        let count = UInt64(bytes.count)
        hasher.update((0..<8).reversed().map { UInt8(truncatingIfNeeded: count >> (UInt64($0) * 8)) })
        hasher.update(bytes)
    }
}

/// `build.inputs` as matchers over paths relative to the function directory: ReleasePolicy's
/// `Glob` (`*` stops at `/`, `**` does not); a pattern without wildcards that names a folder
/// takes everything under it (`src` is `src/**`), and `.` (or no pattern at all) every file.
struct InputPatterns {
    let patterns: [Glob]
    /// For each pattern without wildcards, the glob of everything under it.
    private let folders: [Glob?]
    let isEverything: Bool

    init(_ inputs: [String]) {
        let normalized = inputs.map(Self.normalized)
        isEverything = normalized.isEmpty || normalized.contains("")
        patterns = normalized.map(Glob.init)
        folders = zip(normalized, patterns).map { text, glob in glob.isLiteral ? Glob(text + "/**") : nil }
    }

    /// `./src/` is `src`; `.` is the empty pattern (everything).
    static func normalized(_ pattern: String) -> String {
        pattern.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }.joined(separator: "/")
    }

    /// The index of the first pattern taking `path`, or nil; with no patterns, 0 for every path.
    func match(_ path: String) -> Int? {
        if isEverything { return 0 }
        return patterns.indices.first { patterns[$0].matches(path) || folders[$0]?.matches(path) == true }
    }
}
