import Dispatch
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals
import Synchronization

/// A long-running part whose loop owns its sockets on a thread of its own (the coordinator's
/// loop, a worker's session), run as a `Service`: graceful shutdown (SIGTERM or SIGINT) and
/// cancellation both call `stop`, which asks the loop to drain and return.
struct ThreadService: Service {
    let name: String
    let body: @Sendable () throws -> Void
    let stop: @Sendable () -> Void

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let thread = Thread {
                        do {
                            try body()
                            continuation.resume()
                        } catch {
                            continuation.resume(throwing: error)
                        }
                    }
                    thread.name = name
                    thread.stackSize = 8 << 20
                    thread.start()
                }
            } onCancel: { stop() }
        } onGracefulShutdown: { stop() }
    }
}

/// Runs services in one `ServiceGroup` until they end: the first SIGTERM or SIGINT drains them
/// (a coordinator records what it has, a worker hands its task back and says goodbye); a
/// second one forces the process out at once.
func runServices(_ services: [ThreadService], logger: Logger) throws {
    let signals = Atomic<Int>(0)
    var sources: [any DispatchSourceSignal] = []
    for signo in [SIGTERM, SIGINT] {
        signal(signo, SIG_IGN)   // delivered to the dispatch sources (ours and the group's) instead
        let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
        source.setEventHandler {
            if signals.add(1, ordering: .relaxed).newValue >= 2 {
                FileHandle.standardError.write(Data("second signal: stopping now\n".utf8))
                _exit(130)
            }
        }
        source.resume()
        sources.append(source)
    }
    defer { sources.forEach { $0.cancel() } }
    var configuration = ServiceGroupConfiguration(services: services.map { .init(service: $0) },
                                                  gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    configuration.maximumGracefulShutdownDuration = .seconds(60)
    let group = ServiceGroup(configuration: configuration)
    let outcome = Mutex<Result<Void, any Error>>(.success(()))
    let done = DispatchSemaphore(value: 0)
    Task {
        do { try await group.run() } catch { outcome.withLock { $0 = .failure(error) } }
        done.signal()
    }
    done.wait()
    try outcome.withLock { $0 }.get()
}
