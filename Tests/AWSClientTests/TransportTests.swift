import Foundation
import Testing
@testable import AWSClient

/// The libcurl transport against a scripted loopback server: every way an answer can go wrong,
/// each ending within its own time bound (asserted with a generous margin: these are hang
/// detectors, not performance targets).
@Suite("libcurl transport", .serialized)
struct TransportTests {
    /// Bounds small enough that a fault ends in seconds.
    static let tight = TransferLimits(connect: .seconds(2), stall: .seconds(2), answer: .seconds(1), total: .seconds(20))

    struct Sent {
        var result: Result<HTTPResponse, any Error>
        var took: Duration

        var response: HTTPResponse? { try? result.get() }
        var failure: TransportFailure? {
            if case .failure(let error) = result { return error as? TransportFailure }
            return nil
        }
    }

    func send(
        _ server: LoopbackServer, _ method: String = "GET", path: String = "/", body: HTTPBody = .empty,
        headers: [(name: String, value: String)] = [], limits: TransferLimits = tight, progress: UploadProgress? = nil,
        transport: CurlTransport = CurlTransport()
    ) async -> Sent {
        var request = HTTPRequest(method: method, url: URL(string: "http://127.0.0.1:\(server.port)\(path)")!, headers: headers, body: body, limits: limits)
        request.progress = progress
        let prepared = request
        // Timed on a thread of its own: the measure is the transport's, not the shared pool's queue.
        return await DedicatedExecutor.run {
            let started = ContinuousClock.now
            do {
                let response = try await transport.send(prepared)
                return Sent(result: .success(response), took: .now - started)
            } catch {
                return Sent(result: .failure(error), took: .now - started)
            }
        }
    }

    // MARK: Answers that work

    @Test func anAnswerArrivesWithItsHeadersAndConnectionsAreKeptAlive() async throws {
        let server = try LoopbackServer { peer in
            while let request = peer.readRequest() {
                peer.answer(200, "hello \(request.requestLine)", headers: ["X-Amzn-RequestId: abc", "Content-Type: text/plain"])
            }
        }
        // An engine of its own: the shared cache holds 16 connections, and the suites running
        // beside this one can push the first connection out of it between the two calls.
        let transport = CurlTransport(settings: NetworkSettings(), engine: CurlEngine())
        let first = await send(server, path: "/one", transport: transport)
        let second = await send(server, path: "/two?x=1", transport: transport)
        #expect(first.response?.status == 200)
        #expect(String(decoding: first.response?.body ?? Data(), as: UTF8.self) == "hello GET /one HTTP/1.1")
        #expect(first.response?.header("x-amzn-requestid") == "abc")
        #expect(String(decoding: second.response?.body ?? Data(), as: UTF8.self) == "hello GET /two?x=1 HTTP/1.1")
        #expect(server.connections == 1, "the second call reuses the first one's connection")
        #expect(first.took < .seconds(10) && second.took < .seconds(10))
    }

    @Test func aFileBodyIsStreamedWithProgressAndArrivesWhole() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("transport-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("package.zip")
        var content = Data(count: 6 << 20)
        for index in stride(from: 0, to: content.count, by: 4096) { content[index] = UInt8(truncatingIfNeeded: index / 4096) }
        let bytes = content
        try bytes.write(to: file)
        let server = try LoopbackServer { peer in
            while let request = peer.readRequest() {
                peer.answer(200, "\(request.body.count) \(request.body == bytes) \(request.header("content-type") ?? "none")")
            }
        }
        let reports = ProgressLog()
        let sent = await send(
            server, "PUT", body: .file(path: file.path, size: Int64(bytes.count)), headers: [("Content-Type", "application/zip")],
            progress: { sent, total in reports.add(sent, total) })
        #expect(String(decoding: sent.response?.body ?? Data(), as: UTF8.self) == "\(bytes.count) true application/zip")
        #expect(reports.last.map { $0 == (Int64(bytes.count), Int64(bytes.count)) } == true)
        #expect(reports.count > 1, "progress is reported while the body goes out")
        #expect(sent.took < .seconds(20))
    }

    @Test func aFileThatIsShorterThanDeclaredFailsInsteadOfSendingSomethingElse() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("short-\(UUID().uuidString)")
        try Data(count: 1000).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let server = try LoopbackServer { peer in
            while let request = peer.readRequest() { peer.answer(200, "\(request.body.count)") }
        }
        let sent = await send(server, "PUT", body: .file(path: file.path, size: 5000))
        #expect(sent.failure?.detail.contains("became shorter") == true, "\(sent.result)")
        #expect(sent.took < .seconds(10))
    }

    @Test func postAndOtherMethodsSendTheirBodyAndNoFormContentType() async throws {
        let server = try LoopbackServer { peer in
            while let request = peer.readRequest() {
                peer.answer(200, "\(request.requestLine.split(separator: " ")[0]) \(String(decoding: request.body, as: UTF8.self)) \(request.header("content-type") ?? "none") \(request.header("expect") ?? "no-expect")")
            }
        }
        for method in ["POST", "PATCH", "DELETE"] {
            let sent = await send(server, method, body: .bytes(Data("{}".utf8)))
            #expect(String(decoding: sent.response?.body ?? Data(), as: UTF8.self) == "\(method) {} none no-expect")
        }
        let empty = await send(server, "PUT")
        #expect(String(decoding: empty.response?.body ?? Data(), as: UTF8.self) == "PUT  none no-expect")
        let head = await send(server, "HEAD")
        #expect(head.response?.status == 200)
    }

    // MARK: Faults

    @Test func aResetBeforeTheAnswerIsALostConnection() async throws {
        let server = try LoopbackServer { peer in
            if peer.readRequest() != nil { peer.reset() }
        }
        let sent = await send(server, "PUT", body: .bytes(Data("{}".utf8)))
        #expect(sent.failure?.kind == .connectionLost, "\(sent.result)")
        #expect(sent.failure?.requestMayHaveReachedServer == true)
        #expect(sent.took < .seconds(5))
    }

    @Test func aLostAnswerIsALostConnection() async throws {
        // The server reads the request (and may act on it), then closes without a word.
        let server = try LoopbackServer { peer in _ = peer.readRequest() }
        let sent = await send(server, "POST", body: .bytes(Data("{}".utf8)))
        #expect(sent.failure?.kind == .connectionLost, "\(sent.result)")
        #expect(sent.failure?.requestMayHaveReachedServer == true)
        #expect(sent.took < .seconds(5))
    }

    @Test func aTruncatedBodyIsALostConnection() async throws {
        let server = try LoopbackServer { peer in
            if peer.readRequest() != nil { peer.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + String(repeating: "x", count: 50)) }
        }
        let sent = await send(server)
        #expect(sent.failure?.kind == .connectionLost, "\(sent.result)")
        #expect(sent.took < .seconds(5))
    }

    @Test func aContentLengthLongerThanTheBodyOnAnOpenConnectionTimesOut() async throws {
        let server = try LoopbackServer { peer in
            if peer.readRequest() != nil {
                peer.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + String(repeating: "x", count: 10))
                _ = peer.hold(30)
            }
        }
        let sent = await send(server)
        #expect(sent.failure?.kind == .timedOut, "\(sent.result)")
        #expect(sent.took < .seconds(8))
    }

    @Test func aContentLengthShorterThanTheBodyIsNotReadPastAndTheConnectionIsNotReused() async throws {
        let server = try LoopbackServer { peer in
            while peer.readRequest() != nil {
                peer.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello, and then some bytes that belong to no answer")
            }
        }
        let first = await send(server)
        let second = await send(server)
        #expect(String(decoding: first.response?.body ?? Data(), as: UTF8.self) == "hello")
        #expect(String(decoding: second.response?.body ?? Data(), as: UTF8.self) == "hello", "\(second.result)")
        #expect(first.took + second.took < .seconds(10))
    }

    @Test func aSlowlorisBodyIsCutAtTheAnswerBound() async throws {
        // Headers at once, then one byte every half second: never a stall, never an end.
        let server = try LoopbackServer { peer in
            if peer.readRequest() != nil {
                guard peer.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n") else { return }
                for _ in 0..<120 {
                    guard peer.hold(0.5), peer.write("x") else { return }
                }
            }
        }
        let sent = await send(server, limits: TransferLimits(connect: .seconds(2), stall: .seconds(5), answer: .seconds(2), total: .seconds(60)))
        #expect(sent.failure?.kind == .timedOut, "\(sent.result)")
        #expect(sent.failure?.bound == .answer)
        #expect(sent.took < .seconds(10))
    }

    @Test func slowHeadersAreCutAtTheAnswerBound() async throws {
        let server = try LoopbackServer { peer in
            if peer.readRequest() != nil {
                for byte in "HTTP/1.1 200 OK\r\nX-Slow: " + String(repeating: "s", count: 100) {
                    guard peer.hold(0.3), peer.write(String(byte)) else { return }
                }
            }
        }
        let sent = await send(server, limits: TransferLimits(connect: .seconds(2), stall: .seconds(5), answer: .seconds(2), total: .seconds(60)))
        #expect(sent.failure?.kind == .timedOut, "\(sent.result)")
        #expect(sent.took < .seconds(10))
    }

    @Test func aSilentServerIsAStall() async throws {
        let server = try LoopbackServer { peer in
            if peer.readRequest() != nil { _ = peer.hold(30) }
        }
        let sent = await send(server, limits: TransferLimits(connect: .seconds(2), stall: .seconds(1), answer: .seconds(30), total: .seconds(60)))
        #expect(sent.failure?.kind == .timedOut, "\(sent.result)")
        #expect(sent.failure?.bound == .stall)
        #expect(sent.took < .seconds(8))
    }

    @Test func aTransferThatKeepsMovingIsCutAtItsTotalBound() async throws {
        let server = try LoopbackServer { peer in
            if peer.readRequest() != nil {
                guard peer.write("HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n") else { return }
                for _ in 0..<200 {
                    guard peer.hold(0.1), peer.write(String(repeating: "x", count: 100)) else { return }
                }
            }
        }
        let sent = await send(server, limits: TransferLimits(connect: .seconds(2), stall: .seconds(5), answer: .seconds(30), total: .milliseconds(1500)))
        #expect(sent.failure?.kind == .timedOut, "\(sent.result)")
        #expect(sent.failure?.bound == .budget)
        #expect(sent.took < .seconds(8))
    }

    @Test("a 100 MB answer is refused, not held in memory", arguments: [true, false])
    func aHugeAnswerIsRefused(withContentLength: Bool) async throws {
        let server = try LoopbackServer { peer in
            if peer.readRequest() != nil {
                let length = withContentLength ? "Content-Length: 100000000\r\n" : "Connection: close\r\n"
                guard peer.write("HTTP/1.1 200 OK\r\n\(length)\r\n") else { return }
                let chunk = Data(count: 1 << 20)
                for _ in 0..<100 { guard peer.write(chunk) else { return } }
            }
        }
        let sent = await send(server, limits: TransferLimits(connect: .seconds(2), stall: .seconds(5), answer: .seconds(30), total: .seconds(60)))
        #expect(sent.failure?.kind == .malformedAnswer, "\(sent.result)")
        #expect(sent.failure?.detail.contains("larger than") == true)
        #expect(sent.took < .seconds(15))
    }

    @Test func aRedirectIsReturnedNotFollowed() async throws {
        let elsewhere = try LoopbackServer { peer in
            while peer.readRequest() != nil { peer.answer(200, "stolen") }
        }
        let server = try LoopbackServer { peer in
            while peer.readRequest() != nil {
                peer.answer(301, "", headers: ["Location: http://127.0.0.1:\(elsewhere.port)/stolen"])
            }
        }
        let sent = await send(server, "PUT", body: .bytes(Data("{}".utf8)), headers: [("Authorization", "AWS4-HMAC-SHA256 secret")])
        #expect(sent.response?.status == 301)
        #expect(sent.response?.header("location")?.hasSuffix("/stolen") == true)
        #expect(elsewhere.connections == 0, "nothing went to the Location")
        #expect(sent.took < .seconds(5))
    }

    @Test("garbage that is not HTTP is a malformed answer", arguments: ["SSH-2.0-OpenSSH_9.2\r\n", "\u{0}\u{1}\u{2}binary garbage\r\n\r\n", "HTTP/1.1 abc\r\n\r\n"])
    func garbageIsAMalformedAnswer(_ garbage: String) async throws {
        let server = try LoopbackServer { peer in
            if peer.readRequest() != nil {
                peer.write(garbage)
                _ = peer.hold(0.5)
            }
        }
        let sent = await send(server)
        #expect(sent.failure?.kind == .malformedAnswer, "\(sent.result)")
        #expect(sent.took < .seconds(5))
    }

    @Test func nothingListeningIsARefusedConnectionThatCertainlyDidNotArrive() async throws {
        let port = try MotoServer.freePort()
        let request = HTTPRequest(method: "POST", url: URL(string: "http://127.0.0.1:\(port)/")!, body: .bytes(Data("{}".utf8)), limits: Self.tight)
        let (result, took) = await DedicatedExecutor.run { () -> (Result<HTTPResponse, any Error>, Duration) in
            let started = ContinuousClock.now
            do { return (.success(try await CurlTransport().send(request)), .now - started) } catch { return (.failure(error), .now - started) }
        }
        let error = Sent(result: result, took: took).failure
        #expect(error?.kind == .connectionRefused)
        #expect(error?.requestMayHaveReachedServer == false)
        #expect(took < .seconds(5))
    }

    @Test func aHeaderWithALineBreakIsNeverSent() async throws {
        let server = try LoopbackServer { peer in
            while peer.readRequest() != nil { peer.answer(200) }
        }
        let sent = await send(server, headers: [("X-Amz-Security-Token", "token\r\nX-Injected: yes")])
        #expect(sent.failure?.requestSent == false, "\(sent.result)")
        #expect(server.connections == 0)
    }

    @Test func cancellingTheCallerEndsTheRequestAtOnce() async throws {
        let server = try LoopbackServer { peer in
            if peer.readRequest() != nil { _ = peer.hold(30) }
        }
        let patient = TransferLimits(connect: .seconds(5), stall: .seconds(60), answer: .seconds(60), total: .seconds(60))
        // An engine of its own (the shared one serves the suites running beside this one), and a
        // bound far under the server's 30 s hold: a cancel that did not end the request shows.
        let transport = CurlTransport(settings: NetworkSettings(), engine: CurlEngine())
        let task = Task { await send(server, limits: patient, transport: transport) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let sent = await task.value
        #expect(sent.result.isCancellation, "\(sent.result)")
        #expect(sent.took < .seconds(10))
    }

    @Test func manyConcurrentCallsAllComeBack() async throws {
        let server = try LoopbackServer { peer in
            while let request = peer.readRequest() { peer.answer(200, request.requestLine) }
        }
        let sent = await withTaskGroup(of: Sent.self) { group in
            for index in 0..<40 { group.addTask { await send(server, path: "/\(index)") } }
            return await group.reduce(into: [Sent]()) { $0.append($1) }
        }
        #expect(sent.map { $0.response?.status ?? 0 } == Array(repeating: 200, count: 40))
        #expect(sent.allSatisfy { $0.took < .seconds(20) })
    }
}

/// Progress reports, as the transport's thread delivers them.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var reports: [(Int64, Int64)] = []
    func add(_ sent: Int64, _ total: Int64) { lock.withLock { reports.append((sent, total)) } }
    var count: Int { lock.withLock { reports.count } }
    var last: (Int64, Int64)? { lock.withLock { reports.last } }
}

extension Result {
    var isCancellation: Bool {
        if case .failure(let error) = self { return error is CancellationError }
        return false
    }
}
