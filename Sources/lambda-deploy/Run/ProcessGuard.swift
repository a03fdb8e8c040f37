import Dispatch
import Foundation
import Workflow

/// Signals and deadlines for a running command, on their own dispatch queue so they work even
/// while Swift's cooperative threads are busy (a long packaging step).
///
/// Both first ask the workflow to stop at its next step boundary (``Interruption``), which keeps
/// AWS and the records consistent; only if the command does not get there within a grace period
/// does the process end on its own, after removing its temporary files.
enum ProcessGuard {
    private static let queue = DispatchQueue(label: "lambda-deploy.process-guard")
    /// Kept alive for the process's lifetime.
    nonisolated(unsafe) private static var sources: [any DispatchSourceProtocol] = []

    /// How long a signalled command may take to reach a safe point before the process exits.
    static let signalGrace: DispatchTimeInterval = .seconds(15)
    /// After a deadline, how long the command may take to reach a safe point.
    static let deadlineGrace: DispatchTimeInterval = .seconds(5)

    /// SIGINT and SIGTERM: stop at the next step, exit 130/143. A second signal exits at once.
    static func installSignalHandlers() {
        queue.sync {
            for number in [SIGINT, SIGTERM] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler {
                    if Interruption.requested != nil { exitNow(128 + number) }
                    Interruption.request(.signal(number))
                    Console.error("lambda-deploy: \(number == SIGINT ? "SIGINT" : "SIGTERM"): stopping after the AWS call in flight (again to stop at once)")
                    queue.asyncAfter(deadline: .now() + signalGrace) {
                        Console.error("lambda-deploy: the command did not reach a safe point in time; exiting (run `lambda-deploy verify` to see what AWS holds)")
                        exitNow(128 + number)
                    }
                }
                source.resume()
                sources.append(source)
            }
        }
    }

    /// After `seconds`, asks the command to stop (`setting` names the limit in messages); if it
    /// has not finished `deadlineGrace` later, prints what `expired` says and exits with its code.
    static func deadline(seconds: Int, setting: String, expired: @escaping @Sendable () -> Int32) {
        queue.asyncAfter(deadline: .now() + .seconds(seconds)) {
            Interruption.request(.deadline(seconds: seconds, setting: setting))
            queue.asyncAfter(deadline: .now() + deadlineGrace) {
                exitNow(expired())
            }
        }
    }

    /// Ends the process now, leaving no temporary files behind.
    static func exitNow(_ status: Int32) -> Never {
        TemporaryFiles.shared.removeAll()
        Startup.finishForExit()
        exit(status)
    }
}
