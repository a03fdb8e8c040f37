public import Foundation

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
        do {
            _ = try await core.send(operation("HeadObject", "HEAD", bucket: bucket, key: key, resource: "object s3://\(bucket)/\(key)"))
            return true
        } catch let error as AWSError where error.httpStatus == 404 && error.code != "NoSuchBucket" {
            return false
        }
    }

    /// Uploads an object in one PUT (S3 accepts up to 5 GB that way; Lambda packages are at most 250 MB unzipped).
    public func putObject(
        bucket: String, key: String, data: Data, contentType: String = "application/zip", progress: UploadProgress? = nil
    ) async throws {
        var operation = operation("PutObject", "PUT", bucket: bucket, key: key, resource: "object s3://\(bucket)/\(key)")
        operation.body = data
        operation.headers = [("Content-Type", contentType)]
        operation.isUpload = true
        operation.progress = progress
        _ = try await core.send(operation)
    }

    /// Uploads a file (read once, memory-mapped when possible).
    public func putObject(
        bucket: String, key: String, fileURL: URL, contentType: String = "application/zip", progress: UploadProgress? = nil
    ) async throws {
        let data: Data
        do {
            data = try Data(contentsOf: fileURL, options: .mappedIfSafe)
        } catch {
            throw AWSError.unreadableFile(path: fileURL.path, problem: "cannot read the file to upload (\(error.localizedDescription))")
        }
        try await putObject(bucket: bucket, key: key, data: data, contentType: contentType, progress: progress)
    }

    /// Creates a bucket in the client's region; an existing bucket we own counts as success.
    public func createBucket(_ bucket: String) async throws {
        var operation = operation("CreateBucket", "PUT", bucket: bucket, key: nil, resource: "bucket '\(bucket)'")
        operation.safety = .idempotent
        if core.configuration.region != "us-east-1" {
            operation.body = Data(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(XMLText.escape(core.configuration.region))</LocationConstraint></CreateBucketConfiguration>"
                    .utf8)
            operation.headers = [("Content-Type", "application/xml")]
        }
        do {
            _ = try await core.send(operation)
        } catch let error as AWSError where error.code == "BucketAlreadyOwnedByYou" {
            return
        }
    }
}
