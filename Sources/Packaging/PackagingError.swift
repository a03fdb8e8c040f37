public import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Safety

/// Everything that can stop `lambda-deploy package`, each case carrying the path a user must fix.
///
/// `errorDescription` is one line: what is wrong, with which file, and what to do about it. Paths
/// are kept raw in the cases and escaped when shown (a file name can hold a newline or an ESC).
public enum PackagingError: LocalizedError, Equatable, Sendable {
    case directoryNotFound(String)
    case notADirectory(String)
    case nothingToPackage(String)
    /// Permission denied (EACCES/EPERM): the only case that says "fix its permissions".
    case unreadable(path: String, reason: String)
    /// Any other failure of the file system (EIO, ENOMEM, ...), with the system's words.
    case readFailed(path: String, reason: String)
    case tooManyOpenFiles(path: String, limit: Int)
    case pathTooLong(path: String, bytes: Int, limit: Int)
    case unsupportedFileType(path: String, kind: String)
    case symlinkEscapes(path: String, target: String)
    case symlinkDangling(path: String, target: String)
    case symlinkAbsolute(path: String, target: String)
    case symlinkLoop(path: String, target: String)
    /// The link resolves on disk, but through `missing`, which the package leaves out.
    case symlinkTargetExcluded(path: String, target: String, missing: String)
    case nonUTF8Name(String)
    case ignoreFileNotRegular(path: String, kind: String)
    case ignoreFileTooLarge(path: String, limit: Int)
    case ignorePatternTooLong(path: String, line: Int, limit: Int)
    case outputNotWritable(path: String, reason: String)
    case outputInsideDirectory(output: String, directory: String)
    case outputNotOurs(path: String, kind: String)
    case writeFailed(path: String, reason: String)
    case fileChanged(String)
    case fileTooLarge(path: String, bytes: Int64, limit: Int64)
    case tooLarge(unzippedBytes: Int64, limit: Int64)
    case invalidLevel(Int)
    /// Lint errors (each finding is one line of its own); nothing was written.
    case lintRefused([LintFinding])

    public var errorDescription: String? {
        func shown(_ path: String) -> String { DisplayText.excerpt(path, limit: 300) }
        switch self {
        case .directoryNotFound(let path):
            return "function directory \(shown(path)) does not exist; pass the directory that holds your handler"
        case .notADirectory(let path):
            return "\(shown(path)) is a file, not a directory; pass the directory that holds your handler"
        case .nothingToPackage(let path):
            return "\(shown(path)) has no files to package (empty, or everything is ignored); check .lambdaignore and --exclude"
        case .unreadable(let path, let reason):
            return "cannot read \(shown(path)) (\(reason)); fix its permissions or add it to .lambdaignore"
        case .readFailed(let path, let reason):
            return "reading \(shown(path)) failed (\(reason)); check the disk and run again, or add it to .lambdaignore"
        case .tooManyOpenFiles(let path, let limit):
            return "cannot open \(shown(path)): this process may have at most \(limit) files open (ulimit -n); raise the limit and run again"
        case .pathTooLong(let path, let bytes, let limit):
            return "path \(shown(path)) is \(bytes) bytes, longer than the \(limit) bytes a file under /var/task may have in Lambda (PATH_MAX); shorten the names or add it to .lambdaignore"
        case .unsupportedFileType(let path, let kind):
            return "\(shown(path)) is a \(kind), which a zip cannot carry; remove it or add it to .lambdaignore"
        case .symlinkEscapes(let path, let target):
            return "symlink \(shown(path)) -> \(shown(target)) points outside the function directory; copy the target in or add the link to .lambdaignore"
        case .symlinkDangling(let path, let target):
            return "symlink \(shown(path)) -> \(shown(target)) points to nothing; fix or remove the link, or add it to .lambdaignore"
        case .symlinkAbsolute(let path, let target):
            return "symlink \(shown(path)) -> \(shown(target)) is absolute and would break inside Lambda; make it relative or add it to .lambdaignore"
        case .symlinkLoop(let path, let target):
            return "symlink \(shown(path)) -> \(shown(target)) never resolves: it is part of a loop of links (more than \(DirectoryWalker.maximumLinkHops) to follow); fix or remove the link, or add it to .lambdaignore"
        case .symlinkTargetExcluded(let path, let target, let missing):
            return "symlink \(shown(path)) -> \(shown(target)) needs \(shown(missing)), which the package leaves out (.lambdaignore, --exclude or .git), so the link would dangle in Lambda; stop excluding \(shown(missing)) or add the link to .lambdaignore"
        case .nonUTF8Name(let path):
            return "file name \(shown(path)) is not valid UTF-8, which Lambda cannot unpack; rename it or add it to .lambdaignore"
        case .ignoreFileNotRegular(let path, let kind):
            return "\(shown(path)) is a \(kind), not a file of ignore patterns; replace it with a regular file or remove it"
        case .ignoreFileTooLarge(let path, let limit):
            return "\(shown(path)) is larger than \(limit) bytes, more than any set of ignore patterns needs; shorten it"
        case .ignorePatternTooLong(let path, let line, let limit):
            return "line \(line) of \(shown(path)) is longer than \(limit) bytes, longer than any path Lambda can unpack; shorten the pattern"
        case .outputNotWritable(let path, let reason):
            return "cannot write the zip at \(shown(path)) (\(reason)); choose another --output location"
        case .outputInsideDirectory(let output, let directory):
            return "the zip \(shown(output)) would be written inside the function directory \(shown(directory)) and end up in later packages; choose an --output outside it"
        case .outputNotOurs(let path, let kind):
            return "\(shown(path)) already exists and is \(kind), not a zip lambda-deploy wrote; choose another --output or delete it first"
        case .writeFailed(let path, let reason):
            return "writing the zip \(shown(path)) failed (\(reason)); check free disk space and try again"
        case .fileChanged(let path):
            return "\(shown(path)) changed while it was being packaged; run the command again once writes have finished"
        case .fileTooLarge(let path, let bytes, let limit):
            // Worded like .tooLarge (scripts match it), naming the one file that is enough.
            return "the package is \(bytes) bytes unzipped but Lambda accepts at most \(limit) bytes (250 MB): \(shown(path)) alone is \(bytes) bytes; exclude files with .lambdaignore or --exclude, or use a container image"
        case .tooLarge(let unzipped, let limit):
            return "the package is \(unzipped) bytes unzipped but Lambda accepts at most \(limit) bytes (250 MB); exclude files with .lambdaignore or --exclude, or use a container image"
        case .invalidLevel(let level):
            return "compression level \(level) is out of range; use a level from 0 (store) to 12 (smallest)"
        case .lintRefused(let findings):
            guard let first = findings.first else { return "lint refused the package" }
            if findings.count == 1 { return first.line }
            return "lint found \(findings.count) problems, the first: \(first.line)"
        }
    }

    /// The error for a failed system call on `path`, named for what actually went wrong.
    static func fileSystem(_ code: Int32, path: String) -> PackagingError {
        switch code {
        case EACCES, EPERM:
            return .unreadable(path: path, reason: String(cString: strerror(code)))
        case ENAMETOOLONG:
            return .pathTooLong(path: path, bytes: path.utf8.count, limit: DirectoryWalker.maximumNameBytes)
        case EMFILE, ENFILE:
            var limit = rlimit()
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            return .tooManyOpenFiles(path: path, limit: Int(clamping: limit.rlim_cur))
        case ENOENT, ENOTDIR, ESTALE:
            // It was there when the directory was listed.
            return .fileChanged(path)
        default:
            return .readFailed(path: path, reason: String(cString: strerror(code)))
        }
    }
}
