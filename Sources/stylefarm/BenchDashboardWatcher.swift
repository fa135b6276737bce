import ArgumentParser
import Coordinator
import Dashboard
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// `bench farm --http … [--browser PATH]`: the dashboard served beside the benchmark's
/// coordinator, and headless browser pages kept open on `/` and on the benchmark job's page for
/// the whole run, so that the figures say what being watched costs the loop.
struct BenchDashboardWatcher: Sendable {
    var host: String
    var port: Int
    var browser: String?
    /// The registry the benchmark's coordinator records into, scraped at `/metrics`.
    var metrics: FarmMetrics

    func start(service: CoordinatorService, jobID: String) throws -> @Sendable () -> Void {
        let events = LiveEvents()
        let bound = BoundPort()
        let application = DashboardServer.application(service: service, host: host, port: port,
                                                      access: HTTPAccess(token: nil, tokenNeededToRead: false),
                                                      logger: Logger(label: "stylefarm.http"), events: events, metrics: metrics) { bound.set($0) }
        let group = ServiceGroup(configuration: .init(services: [.init(service: application)], logger: Logger(label: "stylefarm.http")))
        let stopped = DispatchSemaphore(value: 0)
        Task {
            try? await group.run()
            stopped.signal()
        }
        let stopServer: @Sendable () -> Void = {
            Task { await group.triggerGracefulShutdown() }
            stopped.wait()
        }
        guard let port = bound.wait(seconds: 30) else {
            stopServer()
            throw ValidationError("the dashboard did not start on \(host)")
        }
        let base = "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        var pages: [Process] = []
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("stylefarm-bench-browser-\(UInt32.random(in: 0...UInt32.max))")
        if let browser {
            for (index, url) in [base + "/", base + "/jobs/" + jobID].enumerated() {
                let page = Process()
                page.executableURL = URL(fileURLWithPath: browser)
                page.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                                  "--user-data-dir=" + profile.appendingPathComponent("\(index)").path, url]
                page.standardOutput = FileHandle.nullDevice
                page.standardError = FileHandle.nullDevice
                try page.run()
                pages.append(page)
            }
            // The pages count once their event streams are open: measure only from there.
            let deadline = Date().addingTimeInterval(60)
            while events.openStreams < pages.count, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            guard events.openStreams >= pages.count else {
                pages.forEach { $0.terminate() }
                stopServer()
                throw ValidationError("the browser's pages did not open their event streams within 60 s")
            }
        }
        let opened = pages
        return {
            for page in opened where page.isRunning { page.terminate() }
            for page in opened { page.waitUntilExit() }
            stopServer()
            try? FileManager.default.removeItem(at: profile)
        }
    }
}

/// The port the server bound, handed from its callback to the thread that waits for it.
final class BoundPort: @unchecked Sendable {
    // Safe: `port` is only touched under `lock`.
    private let lock = NSCondition()
    private var port: Int?

    func set(_ value: Int) {
        lock.lock()
        port = value
        lock.broadcast()
        lock.unlock()
    }

    func wait(seconds: Double) -> Int? {
        let deadline = Date().addingTimeInterval(seconds)
        lock.lock()
        defer { lock.unlock() }
        while port == nil, lock.wait(until: deadline) {}
        return port
    }
}
