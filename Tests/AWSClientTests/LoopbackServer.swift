import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// A scripted HTTP peer on 127.0.0.1 for transport tests: every accepted connection runs
/// `handler` on its own thread, which reads requests and answers however the test wants
/// (properly, late, never, with garbage, with a reset). Stopped (and every connection closed)
/// when the value goes away.
final class LoopbackServer: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// One request as it arrived: the head (request line and headers) and the body.
    struct Request: Sendable {
        var head: String
        var body: Data
        var requestLine: String { head.components(separatedBy: "\r\n").first ?? "" }
        func header(_ name: String) -> String? {
            for line in head.components(separatedBy: "\r\n").dropFirst() {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == name.lowercased() {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }
    }

    /// One accepted connection.
    final class Peer: @unchecked Sendable {
        let descriptor: Int32
        private var buffer = Data()

        init(_ descriptor: Int32) { self.descriptor = descriptor }

        /// The next request (head, then a Content-Length body), or nil when the client closed.
        func readRequest() -> Request? {
            while true {
                if let end = buffer.range(of: Data("\r\n\r\n".utf8)) {
                    let head = String(decoding: buffer[buffer.startIndex..<end.lowerBound], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex..<end.upperBound)
                    let length = Request(head: head, body: Data()).header("content-length").flatMap { Int($0) } ?? 0
                    while buffer.count < length { guard fill() else { return nil } }
                    let body = Data(buffer.prefix(length))
                    buffer.removeFirst(length)
                    return Request(head: head, body: body)
                }
                guard fill() else { return nil }
            }
        }

        private func fill() -> Bool {
            var chunk = [UInt8](repeating: 0, count: 256 << 10)
            let count = recv(descriptor, &chunk, chunk.count, 0)
            guard count > 0 else { return false }
            buffer.append(contentsOf: chunk[0..<count])
            return true
        }

        /// Writes everything; false once the client is gone.
        @discardableResult
        func write(_ data: Data) -> Bool {
            data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let sent = send(descriptor, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                    if sent <= 0 { return false }
                    offset += sent
                }
                return true
            }
        }

        @discardableResult
        func write(_ text: String) -> Bool { write(Data(text.utf8)) }

        /// A complete answer with a Content-Length.
        @discardableResult
        func answer(_ status: Int, _ body: String = "", headers: [String] = []) -> Bool {
            let head = (["HTTP/1.1 \(status) Status"] + headers + ["Content-Length: \(body.utf8.count)"]).joined(separator: "\r\n")
            return write(head + "\r\n\r\n" + body)
        }

        /// Closes with a TCP reset (SO_LINGER 0) instead of an orderly close.
        func reset() {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            shutdown(descriptor, Int32(SHUT_RDWR))
        }

        /// Waits up to `seconds`, returning early (false) once the client has closed.
        func hold(_ seconds: Double) -> Bool {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let until = Date().addingTimeInterval(seconds)
            while Date() < until {
                let ready = poll(&poller, 1, Int32(max(1, min(100, until.timeIntervalSinceNow * 1000))))
                if ready > 0 {
                    var byte: UInt8 = 0
                    if recv(descriptor, &byte, 1, Int32(MSG_PEEK)) <= 0 { return false }
                    usleep(10_000)
                }
            }
            return true
        }
    }

    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var peers: [Int32] = []
    private var accepted = 0

    /// Connections accepted so far.
    var connections: Int { lock.withLock { accepted } }

    var url: URL { URL(string: "http://127.0.0.1:\(port)/")! }

    init(_ handler: @escaping @Sendable (Peer) -> Void) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw Failure(description: "socket() failed") }
        var reuse: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(listener, pointer, length) == 0, listen(listener, 128) == 0 else { return -1 }
                return getsockname(listener, pointer, &length)
            }
        }
        guard bound == 0 else {
            close(listener)
            throw Failure(description: "cannot listen on loopback")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = listener
        Thread.detachNewThread { [weak self] in
            while true {
                let descriptor = accept(listener, nil, nil)
                guard descriptor >= 0 else {
                    // Only this thread closes the listener: a number closed elsewhere could be
                    // reused by another server's socket, and this loop would accept from it.
                    close(listener)
                    return
                }
                guard let self else {
                    close(descriptor)
                    return
                }
                self.lock.withLock {
                    self.accepted += 1
                    self.peers.append(descriptor)
                }
                Thread.detachNewThread { [weak self] in
                    handler(Peer(descriptor))
                    shutdown(descriptor, Int32(SHUT_RDWR))
                    // Out of the list before the number can be reused, so deinit never shuts another socket.
                    self?.lock.withLock { self?.peers.removeAll { $0 == descriptor } }
                    close(descriptor)
                }
            }
        }
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        // Under the lock: a handler thread takes its socket out of the list (under the lock)
        // before closing it, so no number here belongs to anyone else yet.
        lock.withLock { for peer in peers { shutdown(peer, Int32(SHUT_RDWR)) } }
    }
}

/// A task executor with a thread of its own, for tests that time a call: the caller resumes
/// here as soon as the transport answers, even when other suites' tests block every thread of
/// the shared pool (the end-to-end tests wait for child processes synchronously).
final class DedicatedExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = DedicatedExecutor()

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    private init() {
        let thread = Thread { [self] in run() }
        thread.name = "test executor"
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.withLock {
            jobs.append(job)
            condition.signal()
        }
    }

    private func run() {
        while true {
            let job = condition.withLock { () -> UnownedJob in
                while jobs.isEmpty { condition.wait() }
                return jobs.removeFirst()
            }
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }

    /// Runs `body` with this executor preferred, so its awaits resume on the dedicated thread.
    static func run<T: Sendable>(_ body: @Sendable () async -> T) async -> T {
        await withTaskExecutorPreference(shared) { await body() }
    }
}
