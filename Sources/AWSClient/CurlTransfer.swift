internal import CCurl
import Foundation
internal import Safety
#if canImport(Glibc)
    import Glibc
#endif

/// One request on its way through libcurl: the options it is sent with, its body source, and
/// the answer as it arrives. Created by `CurlTransport.send`; after `CurlEngine.submit`, only the
/// engine's thread touches it (libcurl calls the callbacks below from `curl_multi_perform`).
final class CurlTransfer: @unchecked Sendable {
    /// Answers larger than this are refused: every AWS answer this tool reads is far smaller, and
    /// a server must not be able to make the process allocate without bound.
    static let maxAnswerBytes: Int64 = 32 << 20
    /// libcurl's upload buffer: fewer, larger socket writes for package uploads.
    static let uploadBufferBytes = 1 << 20

    let request: HTTPRequest
    let proxy: String
    let noProxy: String?
    let caBundle: String?

    /// Set under the engine's lock.
    var cancelRequested = false
    var handle: UnsafeMutableRawPointer?

    private var continuation: CheckedContinuation<HTTPResponse, any Error>?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    private let body: BodySource

    /// When libcurl took the request on (its own times count from there).
    private var started = ContinuousClock.now
    private var lastByte = ContinuousClock.now
    private var lastCounts: (Int64, Int64) = (0, 0)
    /// When the whole body had been sent (body-less requests: at submission).
    private var requestSentAt: ContinuousClock.Instant?
    /// A failure found by a callback, which then made libcurl stop.
    private var failure: TransportFailure?

    private var statusLine = ""
    private var headers: [String: String] = [:]
    private var answer = Data()

    init(_ request: HTTPRequest, proxy: String, noProxy: String?, caBundle: String?) throws {
        for (name, value) in request.headers {
            // Header injection: a value with a line break would add a header (or a request) of its own.
            guard !(name + value).utf8.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0 }), !name.isEmpty, !name.contains(":") else {
                throw TransportFailure(.other, "header \(DisplayText.escaped(name)) contains a line break or is malformed; nothing was sent", requestSent: false)
            }
        }
        self.request = request
        self.proxy = proxy
        self.noProxy = noProxy
        self.caBundle = caBundle
        body = try BodySource(request.body)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        errorBuffer.deallocate()
        if let headerList { curl_slist_free_all(headerList) }
    }

    func setContinuation(_ continuation: CheckedContinuation<HTTPResponse, any Error>) {
        self.continuation = continuation
    }

    /// Resumes the caller (once; later calls are ignored).
    func complete(_ outcome: Result<HTTPResponse, any Error>) {
        guard let continuation else { return }
        self.continuation = nil
        continuation.resume(with: outcome)
    }

    /// When the answer must have arrived whole (nil while the request is still being sent).
    var answerDeadline: ContinuousClock.Instant? {
        if requestSentAt == nil, request.body.count == 0, let handle {
            // A body-less request is sent once the connection is up: libcurl's pre-transfer time.
            var pretransfer: curl_off_t = 0
            if ccurl_get_offset(handle, CURLINFO_PRETRANSFER_TIME_T, &pretransfer) == CURLE_OK, pretransfer > 0 {
                requestSentAt = started + .microseconds(pretransfer)
            }
        }
        return requestSentAt.map { $0 + request.limits.answer }
    }

    func answerTimedOut() -> TransportFailure {
        TransportFailure(
            .timedOut, "no complete answer within \(Self.describe(request.limits.answer)) of sending the request", bound: .answer,
            requestSent: true)
    }

    // MARK: Options

    /// Sets every option of this request on a fresh (or reset) handle; a failure means the
    /// request cannot be sent as built, and nothing was sent.
    func configure(_ handle: UnsafeMutableRawPointer) -> TransportFailure? {
        let me = Unmanaged.passUnretained(self).toOpaque()
        started = .now
        lastByte = started
        var ok = true
        func check(_ code: CURLcode) { if code != CURLE_OK { ok = false } }

        check(ccurl_set_string(handle, CURLOPT_URL, request.url.absoluteString))
        check(ccurl_set_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
        check(ccurl_set_long(handle, CURLOPT_NOSIGNAL, 1))
        // Never follow a redirect: the signed request (Authorization, session token) must not
        // go to another host. A 3xx comes back to the client core as an answer.
        check(ccurl_set_long(handle, CURLOPT_FOLLOWLOCATION, 0))
        check(ccurl_set_long(handle, CURLOPT_HTTP_VERSION, ccurl_http_version_2tls()))
        check(ccurl_set_long(handle, CURLOPT_TCP_KEEPALIVE, 1))
        check(ccurl_set_string(handle, CURLOPT_USERAGENT, "lambda-deploy"))
        check(ccurl_set_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        check(ccurl_set_long(handle, CURLOPT_SSL_VERIFYPEER, 1))
        check(ccurl_set_long(handle, CURLOPT_SSL_VERIFYHOST, 2))

        // Proxy: always set, so libcurl never reads the environment behind the caller's back
        // (an empty string means no proxy).
        check(ccurl_set_string(handle, CURLOPT_PROXY, proxy))
        if let noProxy { check(ccurl_set_string(handle, CURLOPT_NOPROXY, noProxy)) }
        check(ccurl_set_long(handle, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1))
        if let caBundle {
            // The system's CA directory (CURLOPT_CAPATH) stays in use: the bundle adds to it.
            check(ccurl_set_string(handle, CURLOPT_CAINFO, caBundle))
            check(ccurl_set_string(handle, CURLOPT_PROXY_CAINFO, caBundle))
        }

        // Time bounds: connect, stall (no byte for N s; libcurl counts whole seconds), total.
        let limits = request.limits
        check(ccurl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(limits.connect)))
        check(ccurl_set_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1))
        check(ccurl_set_long(handle, CURLOPT_LOW_SPEED_TIME, max(1, (Self.milliseconds(limits.stall) + 999) / 1000)))
        if let total = limits.total { check(ccurl_set_long(handle, CURLOPT_TIMEOUT_MS, max(1, Self.milliseconds(total)))) }
        check(ccurl_set_offset(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(Self.maxAnswerBytes)))

        // Method and body. PUT uploads with its size; every other method with a body posts it
        // (with the method's own name); the body always comes from the read callback, which can
        // rewind when libcurl must send it again on a fresh connection.
        let method = request.method.uppercased()
        let size = request.body.count
        var extraHeaders: [String] = []
        switch method {
        case "GET" where size == 0:
            check(ccurl_set_long(handle, CURLOPT_HTTPGET, 1))
        case "HEAD" where size == 0:
            check(ccurl_set_long(handle, CURLOPT_NOBODY, 1))
        case "PUT":
            check(ccurl_set_long(handle, CURLOPT_UPLOAD, 1))
            check(ccurl_set_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(size)))
        default:
            check(ccurl_set_long(handle, CURLOPT_POST, 1))
            check(ccurl_set_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(size)))
            if method != "POST" { check(ccurl_set_string(handle, CURLOPT_CUSTOMREQUEST, method)) }
            // libcurl would add a form Content-Type of its own.
            if request.header("content-type") == nil { extraHeaders.append("Content-Type:") }
        }
        if size > 0 || method == "PUT" || method == "POST" {
            check(ccurl_set_pointer(handle, CURLOPT_READDATA, me))
            check(ccurl_set_read_function(handle) { buffer, size, count, me in
                guard let buffer, let me else { return ccurl_readfunc_abort() }
                return Unmanaged<CurlTransfer>.fromOpaque(me).takeUnretainedValue().read(into: buffer, capacity: size * count)
            })
            check(ccurl_set_pointer(handle, CURLOPT_SEEKDATA, me))
            check(ccurl_set_seek_function(handle) { me, offset, origin in
                guard let me else { return 1 /* CURL_SEEKFUNC_FAIL */ }
                return Unmanaged<CurlTransfer>.fromOpaque(me).takeUnretainedValue().seek(to: Int64(offset), origin: origin)
            })
            check(ccurl_set_long(handle, CURLOPT_UPLOAD_BUFFERSIZE, Self.uploadBufferBytes))
            // No "Expect: 100-continue": servers that do not answer it would hold every upload a second.
            extraHeaders.append("Expect:")
        }

        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in request.headers where name.lowercased() != "host" {
            list = curl_slist_append(list, "\(name): \(value)")
        }
        for line in extraHeaders { list = curl_slist_append(list, line) }
        headerList = list
        check(ccurl_set_headers(handle, list))

        check(ccurl_set_pointer(handle, CURLOPT_HEADERDATA, me))
        check(ccurl_set_header_function(handle) { buffer, size, count, me in
            guard let buffer, let me else { return 0 }
            return Unmanaged<CurlTransfer>.fromOpaque(me).takeUnretainedValue().header(buffer, size * count)
        })
        check(ccurl_set_pointer(handle, CURLOPT_WRITEDATA, me))
        check(ccurl_set_write_function(handle) { buffer, size, count, me in
            guard let buffer, let me else { return 0 }
            return Unmanaged<CurlTransfer>.fromOpaque(me).takeUnretainedValue().write(buffer, size * count)
        })
        check(ccurl_set_long(handle, CURLOPT_NOPROGRESS, 0))
        check(ccurl_set_pointer(handle, CURLOPT_XFERINFODATA, me))
        check(ccurl_set_xferinfo_function(handle) { me, _, downloaded, _, uploaded in
            guard let me else { return 0 }
            Unmanaged<CurlTransfer>.fromOpaque(me).takeUnretainedValue().progress(downloaded: Int64(downloaded), uploaded: Int64(uploaded))
            return 0
        })
        return ok ? nil : TransportFailure(.other, "libcurl does not support an option this request needs", requestSent: false)
    }

    /// Drops what the handle pointed at (called before the handle is reset or reused).
    func release(_ handle: UnsafeMutableRawPointer) {
        self.handle = nil
        if let headerList {
            _ = ccurl_set_headers(handle, nil)
            curl_slist_free_all(headerList)
            self.headerList = nil
        }
    }

    // MARK: Callbacks (engine thread)

    private func read(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        do {
            return try body.read(into: UnsafeMutableRawPointer(buffer), capacity: capacity)
        } catch let problem as TransportFailure {
            failure = problem
            return ccurl_readfunc_abort()
        } catch {
            failure = TransportFailure(.other, "cannot read the request body", requestSent: true)
            return ccurl_readfunc_abort()
        }
    }

    private func seek(to offset: Int64, origin: Int32) -> Int32 {
        guard origin == SEEK_SET, body.seek(to: offset) else { return 2 /* CURL_SEEKFUNC_CANTSEEK */ }
        return 0 /* CURL_SEEKFUNC_OK */
    }

    private func header(_ buffer: UnsafeMutablePointer<CChar>, _ count: Int) -> Int {
        let line = String(decoding: UnsafeRawBufferPointer(start: buffer, count: count), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            // A new answer (after "100 Continue", or on a resent request): start over.
            statusLine = line
            headers = [:]
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if headers[name] == nil { headers[name] = value }
        }
        return count
    }

    private func write(_ buffer: UnsafeMutablePointer<CChar>, _ count: Int) -> Int {
        guard Int64(answer.count) + Int64(count) <= Self.maxAnswerBytes else {
            failure = tooLarge()
            return 0
        }
        answer.append(UnsafeRawPointer(buffer).assumingMemoryBound(to: UInt8.self), count: count)
        return count
    }

    private func progress(downloaded: Int64, uploaded: Int64) {
        if (downloaded, uploaded) != lastCounts {
            lastCounts = (downloaded, uploaded)
            lastByte = .now
            if let progress = request.progress, request.body.count > 0 { progress(uploaded, request.body.count) }
        }
        let size = request.body.count
        if size > 0, uploaded >= size, requestSentAt == nil { requestSentAt = .now }
        if uploaded < size { requestSentAt = nil }  // rewound and sent again
    }

    private func tooLarge() -> TransportFailure {
        TransportFailure(.malformedAnswer, "the answer is larger than \(Self.maxAnswerBytes >> 20) MiB", requestSent: true)
    }

    // MARK: The end

    /// The response, or why there is none, once libcurl reports the transfer done.
    func outcome(code: CURLcode) -> Result<HTTPResponse, any Error> {
        var sentBytes = 0
        var connectTime: curl_off_t = 0
        if let handle {
            _ = ccurl_get_long(handle, CURLINFO_REQUEST_SIZE, &sentBytes)
            _ = ccurl_get_offset(handle, CURLINFO_CONNECT_TIME_T, &connectTime)
        }
        let sent = sentBytes > 0
        if let failure { return .failure(failure) }
        guard code == CURLE_OK else { return .failure(translate(code, sent: sent, connected: connectTime > 0)) }
        var status = 0
        if let handle { _ = ccurl_get_long(handle, CURLINFO_RESPONSE_CODE, &status) }
        guard (100...599).contains(status) else {
            return .failure(TransportFailure(.malformedAnswer, "no HTTP status in the answer", requestSent: sent))
        }
        return .success(HTTPResponse(status: status, headers: headers, body: answer))
    }

    private func translate(_ code: CURLcode, sent: Bool, connected: Bool) -> TransportFailure {
        let message = String(cString: errorBuffer)
        let detail = DisplayText.excerpt(message.isEmpty ? String(cString: curl_easy_strerror(code)) : message, limit: 160)
        switch code {
        case CURLE_COULDNT_CONNECT:
            return TransportFailure(.connectionRefused, detail, requestSent: false)
        case CURLE_COULDNT_RESOLVE_HOST:
            return TransportFailure(.unknownHost, detail, requestSent: false)
        case CURLE_COULDNT_RESOLVE_PROXY, CURLE_PROXY:
            return TransportFailure(.proxy, detail, requestSent: false)
        case CURLE_OPERATION_TIMEDOUT:
            let bound: TransportFailure.Bound
            if !connected {
                bound = .connect
            } else if message.contains("too slow") || ContinuousClock.now - lastByte >= request.limits.stall {
                bound = .stall
            } else {
                bound = .budget
            }
            return TransportFailure(.timedOut, detail, bound: bound, requestSent: sent)
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            return TransportFailure(.connectionLost, detail, requestSent: sent)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE,
            CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS:
            return TransportFailure(.tls, detail, requestSent: false)
        case CURLE_WEIRD_SERVER_REPLY, CURLE_UNSUPPORTED_PROTOCOL, CURLE_BAD_CONTENT_ENCODING:
            return TransportFailure(.malformedAnswer, detail, requestSent: sent)
        case CURLE_FILESIZE_EXCEEDED:
            return tooLarge()
        default:
            return TransportFailure(.other, detail, requestSent: sent)
        }
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    static func describe(_ duration: Duration) -> String {
        let milliseconds = milliseconds(duration)
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : String(format: "%.1f s", Double(milliseconds) / 1000)
    }
}

/// Where a request body's bytes come from, rewindable: memory, or a file read piece by piece.
private final class BodySource {
    private let data: Data?
    private let descriptor: Int32
    private let size: Int64
    private let path: String
    private var offset: Int64 = 0

    init(_ body: HTTPBody) throws {
        switch body {
        case .bytes(let bytes):
            data = bytes
            descriptor = -1
            size = Int64(bytes.count)
            path = ""
        case .file(let path, let size):
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw TransportFailure(.other, "cannot open \(DisplayText.escaped(path)) to send it: \(String(cString: strerror(errno)))", requestSent: false)
            }
            data = nil
            self.descriptor = descriptor
            self.size = size
            self.path = path
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    func seek(to offset: Int64) -> Bool {
        guard offset >= 0, offset <= size else { return false }
        self.offset = offset
        return true
    }

    func read(into buffer: UnsafeMutableRawPointer, capacity: Int) throws -> Int {
        let wanted = Int(min(Int64(capacity), size - offset))
        guard wanted > 0 else { return 0 }
        if let data {
            let start = data.startIndex + Int(offset)
            data.copyBytes(to: buffer.assumingMemoryBound(to: UInt8.self), from: start..<(start + wanted))
            offset += Int64(wanted)
            return wanted
        }
        var done = 0
        while done < wanted {
            let got = pread(descriptor, buffer + done, wanted - done, off_t(offset) + off_t(done))
            if got < 0, errno == EINTR { continue }
            guard got > 0 else {
                throw TransportFailure(
                    .other, "\(DisplayText.escaped(path)) became shorter while it was sent (it must not change during a deploy)", requestSent: true)
            }
            done += got
        }
        offset += Int64(done)
        return done
    }
}
