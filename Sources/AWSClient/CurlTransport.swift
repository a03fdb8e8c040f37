import Foundation

/// `HTTPTransport` over libcurl (the `CCurl` system library).
///
/// Every transport shares `CurlEngine`'s one thread and connection cache. A request is never
/// redirected, its body is read through a rewindable callback (files in pieces), its progress is
/// reported from libcurl's transfer callback, and its time bounds are `HTTPRequest.limits`.
/// Cancelling the calling task ends the request within one engine poll.
public final class CurlTransport: HTTPTransport {
    private let engine = CurlEngine.shared

    /// No proxy, the system's CAs (libcurl never reads the environment behind the caller's back).
    public init() {}

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let transfer = try CurlTransfer(request, proxy: "", noProxy: nil, caBundle: nil)
        let engine = self.engine
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.setContinuation(continuation)
                engine.submit(transfer)
            }
        } onCancel: {
            engine.cancel(transfer)
        }
    }
}
