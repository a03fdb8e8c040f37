public import Foundation
internal import Digest

/// The three S3 REST-XML calls the deploy needs (large packages go through a bucket).
///
/// Addressing: virtual-hosted (`bucket.s3.region.amazonaws.com`) on AWS, path-style
/// (`endpoint/bucket/key`) on custom endpoints such as moto or LocalStack and for bucket names
/// with dots. Keys are percent-encoded once and signed as sent (S3's SigV4 path rule).
public final class S3Client: Sendable {
    let core: ClientCore

    public init(_ configuration: AWSConfiguration) { core = ClientCore(configuration) }

    private func operation(_ name: String, _ method: String, bucket: String, key: String?, resource: String) -> AWSOperation {
        let encodedKey = key.map { "/" + SigV4.uriEncode($0, keepSlash: true) } ?? ""
        let virtualHosted = !core.configuration.endpoints.isCustom(.s3) && !bucket.contains(".")
        return AWSOperation(
            service: .s3, name: name, method: method,
            path: virtualHosted ? (encodedKey.isEmpty ? "/" : encodedKey) : "/\(SigV4.uriEncode(bucket))\(encodedKey)",
            resource: resource, hostPrefix: virtualHosted ? "\(bucket)." : nil)
    }

    /// Whether the object exists (HEAD: 200 yes, 404 no).
    public func objectExists(bucket: String, key: String) async throws -> Bool {
        try await head(bucket: bucket, key: key) != nil
    }

    /// The object's headers, or nil when there is no such object.
    private func head(bucket: String, key: String) async throws -> HTTPResponse? {
        do {
            return try await core.send(operation("HeadObject", "HEAD", bucket: bucket, key: key, resource: "object s3://\(bucket)/\(key)"))
        } catch let error as AWSError where error.httpStatus == 404 && error.code != "NoSuchBucket" {
            return nil
        }
    }

    /// Uploads an object in one PUT (S3 accepts up to 5 GB that way; Lambda packages are at most 250 MB unzipped).
    public func putObject(
        bucket: String, key: String, data: Data, contentType: String = "application/zip", progress: UploadProgress? = nil
    ) async throws {
        try await put(bucket: bucket, key: key, body: .bytes(data), sha256: SHA256.hash(data), contentType: contentType, progress: progress)
    }

    /// Uploads a file, streamed from disk in pieces (never held in memory). `sha256Hex`, when the
    /// caller knows it (the packager does), spares reading the file once more to sign it.
    public func putObject(
        bucket: String, key: String, fileURL: URL, sha256Hex: String? = nil, contentType: String = "application/zip",
        progress: UploadProgress? = nil
    ) async throws {
        let path = fileURL.path
        let size: Int64
        let digest: [UInt8]
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            guard attributes[.type] as? FileAttributeType == .typeRegular, let bytes = attributes[.size] as? NSNumber else {
                throw AWSError.unreadableFile(path: path, problem: "is not a regular file")
            }
            size = bytes.int64Value
            if let sha256Hex, let known = Self.bytes(hex: sha256Hex), known.count == 32 {
                digest = known
            } else {
                digest = try Self.sha256(ofFile: path)
            }
        } catch let error as AWSError {
            throw error
        } catch {
            throw AWSError.unreadableFile(path: path, problem: "cannot read the file to upload (\(error.localizedDescription))")
        }
        try await put(bucket: bucket, key: key, body: .file(path: path, size: size), sha256: digest, contentType: contentType, progress: progress)
    }

    /// One PUT whose lost answer is settled by reading the object back: S3 keeps the SHA-256
    /// we send as `x-amz-meta-sha256` (and checks `x-amz-checksum-sha256` on arrival), so an
    /// object with our checksum means the upload landed; otherwise it is sent again.
    private func put(bucket: String, key: String, body: HTTPBody, sha256: [UInt8], contentType: String, progress: UploadProgress?) async throws {
        let hex = Hex.encode(sha256)
        var operation = operation("PutObject", "PUT", bucket: bucket, key: key, resource: "object s3://\(bucket)/\(key)")
        operation.body = body
        operation.payloadHash = hex
        operation.headers = [
            ("Content-Type", contentType), ("x-amz-checksum-sha256", Data(sha256).base64EncodedString()), ("x-amz-meta-sha256", hex),
        ]
        operation.isUpload = true
        operation.progress = progress
        let size = body.count
        _ = try await core.settle(operation) { [self] () async throws -> Bool? in
            guard let object = try await head(bucket: bucket, key: key) else { return nil }
            if let stored = object.header("x-amz-meta-sha256") { return stored == hex ? true : nil }
            // An object written without our checksum under this content-addressed key: its size must match.
            return object.header("content-length").flatMap { Int64($0) } == size ? true : nil
        }
    }

    /// The bytes a lower-case or upper-case hex string spells, or nil.
    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case 0x30...0x39: digit - 0x30
            case 0x61...0x66: digit - 0x61 + 10
            case 0x41...0x46: digit - 0x41 + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    /// SHA-256 of a file, read in 1 MiB pieces.
    static func sha256(ofFile path: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw AWSError.unreadableFile(path: path, problem: "cannot be opened")
        }
        defer { try? handle.close() }
        let hasher = SHA256Hasher()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(chunk)
        }
        return hasher.finalize()
    }

    /// Creates a bucket in the client's region; an existing bucket we own counts as success.
    public func createBucket(_ bucket: String) async throws {
        var operation = operation("CreateBucket", "PUT", bucket: bucket, key: nil, resource: "bucket '\(bucket)'")
        operation.safety = .idempotent
        if core.configuration.region != "us-east-1" {
            operation.body = .bytes(Data(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(XMLText.escape(core.configuration.region))</LocationConstraint></CreateBucketConfiguration>"
                    .utf8))
            operation.headers = [("Content-Type", "application/xml")]
        }
        do {
            _ = try await core.send(operation)
        } catch let error as AWSError where error.code == "BucketAlreadyOwnedByYou" {
            return
        }
    }
}
