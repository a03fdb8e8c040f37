import Foundation

/// `HTTPTransport` over libcurl (the `CCurl` system library), with the proxy and CA settings of
/// `NetworkSettings`.
///
/// Every transport shares `CurlEngine`'s one thread and connection cache. A request is never
/// redirected, its body is read through a rewindable callback (files in pieces), its progress is
/// reported from libcurl's transfer callback, and its time bounds are `HTTPRequest.limits`.
/// Cancelling the calling task ends the request within one engine poll.
public final class CurlTransport: HTTPTransport {
    public let settings: NetworkSettings
    private let engine: CurlEngine

    /// `settings` default to none: no proxy, the system's CAs (the environment is read by
    /// `NetworkSettings.resolve`, never behind the caller's back).
    public convenience init(settings: NetworkSettings = NetworkSettings()) {
        self.init(settings: settings, engine: .shared)
    }

    init(settings: NetworkSettings, engine: CurlEngine) {
        self.settings = settings
        self.engine = engine
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let secure = request.url.scheme?.lowercased() == "https"
        let transfer = try CurlTransfer(
            request, proxy: (secure ? settings.httpsProxy : settings.httpProxy)?.url ?? "", noProxy: settings.noProxy?.value,
            caBundle: settings.caBundle?.value)
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
