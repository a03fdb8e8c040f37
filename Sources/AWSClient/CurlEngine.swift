internal import CCurl
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// The one thread that talks to libcurl: a multi handle driven by `curl_multi_poll`.
///
/// Why one thread and the multi interface: every request of the process shares the multi
/// handle's connection cache, so calls to one endpoint reuse their keep-alive connection (and
/// concurrent calls share one HTTP/2 connection where TLS negotiates it); no Swift task ever
/// blocks in libcurl, and a request is cancelled by taking its easy handle out of the multi
/// handle between two polls — nothing can deadlock, because nothing but this thread touches a
/// handle. Callers hand transfers over through a locked queue and `curl_multi_wakeup`; the thread
/// resumes each caller's continuation exactly once.
///
/// Easy handles are kept in a small pool and reset between transfers (`curl_easy_reset` keeps
/// neither options nor state, and connections live in the multi handle anyway).
final class CurlEngine: @unchecked Sendable {
    static let shared = CurlEngine()

    /// Idle easy handles kept for reuse.
    private static let poolSize = 16

    private let multi: UnsafeMutableRawPointer?
    private let lock = NSLock()
    // Guarded by `lock`.
    private var incoming: [CurlTransfer] = []
    private var cancellations: [CurlTransfer] = []
    private var started = false
    // Only touched on the engine's thread.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var pool: [UnsafeMutableRawPointer] = []

    /// A process uses `shared`; tests that measure the connection cache take an engine of their own.
    init() {
        _ = ccurl_global_init()
        multi = curl_multi_init()
        if let multi {
            _ = ccurl_multi_set_long(multi, CURLMOPT_MAXCONNECTS, 16)
            // HTTP/2 streams of concurrent calls share one connection where the server speaks it.
            _ = ccurl_multi_set_long(multi, CURLMOPT_PIPELINING, 2 /* CURLPIPE_MULTIPLEX */)
        }
    }

    /// Starts a transfer; its continuation is resumed on the engine's thread.
    func submit(_ transfer: CurlTransfer) {
        guard let multi else {
            transfer.complete(.failure(TransportFailure(.other, "libcurl could not be initialised", requestSent: false)))
            return
        }
        let start = lock.withLock { () -> Bool in
            incoming.append(transfer)
            defer { started = true }
            return !started
        }
        if start {
            let thread = Thread { [self] in run() }
            thread.name = "lambda-deploy curl"
            thread.start()
        }
        _ = curl_multi_wakeup(multi)
    }

    /// Asks the engine to stop a transfer (the caller's task was cancelled); it ends with
    /// `CancellationError` unless it has already finished.
    func cancel(_ transfer: CurlTransfer) {
        lock.withLock {
            transfer.cancelRequested = true
            cancellations.append(transfer)
        }
        if let multi { _ = curl_multi_wakeup(multi) }
    }

    private func run() {
        guard let multi else { return }
        while true {
            let (new, cancelled) = lock.withLock { () -> ([CurlTransfer], [CurlTransfer]) in
                defer {
                    incoming.removeAll()
                    cancellations.removeAll()
                }
                return (incoming, cancellations)
            }
            for transfer in new {
                if lock.withLock({ transfer.cancelRequested }) {
                    transfer.complete(.failure(CancellationError()))
                } else {
                    start(transfer, multi: multi)
                }
            }
            for transfer in cancelled {
                guard let handle = transfer.handle, active[handle] === transfer else { continue }
                finish(handle, multi: multi, with: .failure(CancellationError()))
            }

            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle, let transfer = active[handle] else {
                    continue
                }
                finish(handle, multi: multi, with: transfer.outcome(code: ccurl_message_result(message)))
            }

            // Our own bound: the answer must arrive whole in time once the request is sent.
            let now = ContinuousClock.now
            var nextDeadline: ContinuousClock.Instant?
            for (handle, transfer) in active {
                guard let deadline = transfer.answerDeadline else { continue }
                if deadline <= now {
                    finish(handle, multi: multi, with: .failure(transfer.answerTimedOut()))
                } else if nextDeadline.map({ deadline < $0 }) ?? true {
                    nextDeadline = deadline
                }
            }

            var wait: Int32 = active.isEmpty ? 60_000 : 1_000
            if let nextDeadline {
                let (seconds, attoseconds) = (nextDeadline - now).components
                wait = min(wait, Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1))
            }
            _ = curl_multi_poll(multi, nil, 0, wait, nil)
        }
    }

    private func start(_ transfer: CurlTransfer, multi: UnsafeMutableRawPointer) {
        guard let handle = pool.popLast() ?? curl_easy_init() else {
            transfer.complete(.failure(TransportFailure(.other, "libcurl could not create a handle", requestSent: false)))
            return
        }
        if let failure = transfer.configure(handle) {
            recycle(handle)
            transfer.complete(.failure(failure))
            return
        }
        guard curl_multi_add_handle(multi, handle) == CURLM_OK else {
            transfer.release(handle)
            recycle(handle)
            transfer.complete(.failure(TransportFailure(.other, "libcurl refused the request", requestSent: false)))
            return
        }
        transfer.handle = handle
        active[handle] = transfer
    }

    private func finish(_ handle: UnsafeMutableRawPointer, multi: UnsafeMutableRawPointer, with outcome: Result<HTTPResponse, any Error>) {
        guard let transfer = active.removeValue(forKey: handle) else { return }
        _ = curl_multi_remove_handle(multi, handle)
        transfer.release(handle)
        recycle(handle)
        transfer.complete(outcome)
    }

    private func recycle(_ handle: UnsafeMutableRawPointer) {
        if pool.count < Self.poolSize {
            curl_easy_reset(handle)
            pool.append(handle)
        } else {
            curl_easy_cleanup(handle)
        }
    }
}
