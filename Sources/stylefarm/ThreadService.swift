import Dispatch
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A long-running part whose loop owns its sockets on a thread of its own (the coordinator's
/// loop, a worker's session), run as a `Service`: graceful shutdown and cancellation both call
/// `stop`, which asks the loop to drain and return.
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

/// SIGTERM and SIGINT, caught from the moment a command starts (a worker still loading its
/// weights is stopped cleanly too): the first asks for a graceful shutdown, a later one forces
/// the process out at once. A repeat within `repeatWindow` of the first is not a second request:
/// Slurm at a job's time limit signals every process of a step twice, milliseconds apart, and a
/// worker must still hand its task back (scripts/test-slurm.sh).
final class ShutdownSignals: @unchecked Sendable {
    // @unchecked Sendable: `sources` is set in init and never changed (dispatch sources are
    // thread-safe); the rest is an Atomic and a Mutex.
    private let count = Atomic<Int>(0)
    private let first = Mutex<ContinuousClock.Instant?>(nil)
    static let repeatWindow: Duration = .seconds(2)
    private let onFirst = Mutex<(@Sendable () -> Void)?>(nil)
    /// Kept for the life of the process.
    private let sources: [any DispatchSourceSignal]

    init() {
        var sources: [any DispatchSourceSignal] = []
        for signo in [SIGTERM, SIGINT] {
            signal(signo, SIG_IGN)   // delivered to the dispatch source instead
            sources.append(DispatchSource.makeSignalSource(signal: signo, queue: .global()))
        }
        self.sources = sources
        for source in sources {
            source.setEventHandler { [self] in
                let now = ContinuousClock.now
                let firstAt = first.withLock { at -> ContinuousClock.Instant in
                    if at == nil { at = now }
                    return at ?? now
                }
                if count.add(1, ordering: .relaxed).newValue >= 2 {
                    guard now - firstAt >= Self.repeatWindow else { return }
                    FileHandle.standardError.write(Data("second signal: stopping now\n".utf8))
                    _exit(130)
                }
                onFirst.withLock { $0 }?()
            }
            source.resume()
        }
    }

    var received: Bool { count.load(ordering: .relaxed) > 0 }

    /// Runs `action` on the first signal, or now if it has already come.
    func whenReceived(_ action: @escaping @Sendable () -> Void) {
        onFirst.withLock { $0 = action }
        if received { action() }
    }
}

/// Runs services in one `ServiceGroup` until they end; the first signal drains them (a
/// coordinator records what it has, a worker hands its task back and says goodbye).
func runServices(_ services: [any Service], signals: ShutdownSignals, logger: Logger) throws {
    var configuration = ServiceGroupConfiguration(services: services.map { .init(service: $0) }, logger: logger)
    configuration.maximumGracefulShutdownDuration = .seconds(60)
    let group = ServiceGroup(configuration: configuration)
    signals.whenReceived { Task { await group.triggerGracefulShutdown() } }
    let outcome = Mutex<Result<Void, any Error>>(.success(()))
    let done = DispatchSemaphore(value: 0)
    Task {
        do { try await group.run() } catch { outcome.withLock { $0 = .failure(error) } }
        done.signal()
    }
    done.wait()
    try outcome.withLock { $0 }.get()
}
