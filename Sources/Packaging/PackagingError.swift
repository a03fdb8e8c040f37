public import Foundation

/// Everything that can stop `lambda-deploy package`, each case carrying the path a user must fix.
///
/// `errorDescription` is one line: what is wrong, with which file, and what to do about it.
public enum PackagingError: LocalizedError, Equatable, Sendable {
    case directoryNotFound(String)
    case notADirectory(String)
    case nothingToPackage(String)
    case unreadable(path: String, reason: String)
    case unsupportedFileType(path: String, kind: String)
    case symlinkEscapes(path: String, target: String)
    case symlinkDangling(path: String, target: String)
    case symlinkAbsolute(path: String, target: String)
    case nonUTF8Name(String)
    case outputNotWritable(path: String, reason: String)
    case writeFailed(path: String, reason: String)
    case fileChanged(String)
    case tooLarge(unzippedBytes: Int64, limit: Int64)
    case invalidLevel(Int)

    public var errorDescription: String? {
        switch self {
        case .directoryNotFound(let path):
            return "function directory \(path) does not exist; pass the directory that holds your handler"
        case .notADirectory(let path):
            return "\(path) is a file, not a directory; pass the directory that holds your handler"
        case .nothingToPackage(let path):
            return "\(path) has no files to package (empty, or everything is ignored); check .lambdaignore and --exclude"
        case .unreadable(let path, let reason):
            return "cannot read \(path) (\(reason)); fix its permissions or add it to .lambdaignore"
        case .unsupportedFileType(let path, let kind):
            return "\(path) is a \(kind), which a zip cannot carry; remove it or add it to .lambdaignore"
        case .symlinkEscapes(let path, let target):
            return "symlink \(path) -> \(target) points outside the function directory; copy the target in or add the link to .lambdaignore"
        case .symlinkDangling(let path, let target):
            return "symlink \(path) -> \(target) points to nothing; fix or remove the link, or add it to .lambdaignore"
        case .symlinkAbsolute(let path, let target):
            return "symlink \(path) -> \(target) is absolute and would break inside Lambda; make it relative or add it to .lambdaignore"
        case .nonUTF8Name(let path):
            return "file name \(path) is not valid UTF-8, which Lambda cannot unpack; rename it or add it to .lambdaignore"
        case .outputNotWritable(let path, let reason):
            return "cannot write the zip at \(path) (\(reason)); choose another --output location"
        case .writeFailed(let path, let reason):
            return "writing the zip \(path) failed (\(reason)); check free disk space and try again"
        case .fileChanged(let path):
            return "\(path) changed while it was being packaged; run the command again once writes have finished"
        case .tooLarge(let unzipped, let limit):
            return "the package is \(unzipped) bytes unzipped but Lambda accepts at most \(limit) bytes (250 MB); exclude files with .lambdaignore or --exclude, or use a container image"
        case .invalidLevel(let level):
            return "compression level \(level) is out of range; use a level from 0 (store) to 12 (smallest)"
        }
    }
}
