import Foundation
import GRDB
import Testing
import TestSupport
@testable import Coordinator
import Protocol

/// Real `stylefarm` processes on loopback: a coordinator on an ephemeral port and workers.
final class FarmHarness {
    let dir: TemporaryDirectory
    let binary: String
    var coordinator: Process?
    var endpoint = ""
    var workers: [Process] = []
    let samples: (content: String, style1: String, style2: String)

    init() throws {
        dir = try TemporaryDirectory("stylefarm-farm")
        // The test bundle sits beside the built executables in .build/<config>/.
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidate = bundle.appendingPathComponent("stylefarm").path
        if !FileManager.default.fileExists(atPath: candidate) {
            candidate = bundle.deletingLastPathComponent().appendingPathComponent("stylefarm").path
        }
        binary = candidate
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestFixtureMissing(message: "the stylefarm executable is not at \(binary); run `swift build --build-tests` first")
        }
        samples = (try SampleImages.writePattern(in: dir, name: "content.png", width: 80, height: 60, seed: 1),
                   try SampleImages.writePattern(in: dir, name: "a.png", width: 64, height: 64, seed: 2),
                   try SampleImages.writePattern(in: dir, name: "b.png", width: 70, height: 50, seed: 3))
    }

    var data: String { dir.path("data") }

    /// Runs the stylefarm binary (or `executable`, e.g. `ip netns exec …`) with its output in `log`.
    func launch(_ arguments: [String], log: String, executable: String? = nil, environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable ?? binary)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        FileManager.default.createFile(atPath: dir.path(log), contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dir.path(log)))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// Starts the coordinator (on `port`, or an ephemeral one) and waits for its listening line.
    func startCoordinator(port: Int? = nil, host: String = "127.0.0.1", heartbeatMilliseconds: Int = 200, extra: [String] = []) throws {
        let bind = "tcp://\(host):\(port.map(String.init) ?? "*")"
        let process = try launch(["coordinator", "--bind", bind, "--data", data, "--heartbeat-ms", String(heartbeatMilliseconds)] + extra,
                                 log: "coordinator-\(Date().timeIntervalSince1970).log")
        coordinator = process
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.url.path) where name.hasPrefix("coordinator-") {
                let text = (try? String(contentsOfFile: dir.path(name), encoding: .utf8)) ?? ""
                if let range = text.range(of: "listening on "), let end = text[range.upperBound...].firstIndex(of: ",") {
                    let found = String(text[range.upperBound..<end])
                    if port == nil || found.hasSuffix(":\(port!)") { endpoint = found; return }
                }
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestFixtureMissing(message: "the coordinator did not start; see \(dir.url.path)")
    }

    func startWorkers(_ count: Int, extra: [String] = [], name: String? = nil, environment: [String: String] = [:]) throws {
        for _ in 0..<count {
            let index = workers.count
            workers.append(try launch(["worker", "--join", endpoint, "--threads", "1", "--name", name ?? "w\(index)"] + extra,
                                      log: "worker-\(index).log", environment: environment))
        }
    }

    /// Waits until `count` workers are connected (`stylefarm workers` lists them): an exact
    /// job's shards are as many as the connected workers when it is submitted.
    func waitForWorkers(_ count: Int, timeout: TimeInterval = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let (status, output) = try run(["workers", "--coordinator", endpoint])
            if status == 0, output.split(separator: "\n").filter({ !$0.hasPrefix("no workers") && !$0.hasPrefix("…") }).count >= count { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestFixtureMissing(message: "\(count) workers did not connect within \(Int(timeout)) s; see \(dir.url.path)")
    }

    func log(_ prefix: String) -> String {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.url.path)) ?? []
        return names.filter { $0.hasPrefix(prefix) }.sorted()
            .map { (try? String(contentsOfFile: dir.path($0), encoding: .utf8)) ?? "" }.joined()
    }

    func run(_ arguments: [String]) throws -> (status: Int32, output: String) { try Self.run(binary, arguments) }

    /// Runs a program and returns its status and output (stdout and stderr together).
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    func submitSweep(gamma: String = "0:1:0.5", iterations: Int = 4, extra: [String] = []) throws -> String {
        let (status, output) = try run(["submit", "sweep", "--coordinator", endpoint, "--content", samples.content,
                                        "--style", samples.style1, "--style", samples.style2, "--gamma", gamma,
                                        "--size", "48", "--iterations", String(iterations)] + extra)
        guard status == 0 else { throw TestFixtureMissing(message: "submit failed: \(output)") }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func wait(_ job: String, timeout: Int = 240, extra: [String] = []) throws -> (status: Int32, output: String) {
        try run(["wait", job, "--coordinator", endpoint, "--timeout", String(timeout)] + extra)
    }

    /// Waits up to `timeout` for `process` to exit; false if it is still running.
    func waitForExit(_ process: Process, timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { return false }
        process.waitUntilExit()
        return true
    }

    func kill9(_ process: Process) {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        for process in workers + [coordinator].compactMap({ $0 }) where process.isRunning {
            // SIGTERM reaches a worker started through `ip netns exec`, which execs it.
            process.terminate()
            process.waitUntilExit()
        }
    }
}

extension FarmHarness {
    /// Every attempt the coordinator recorded, oldest first: its task's key and its outcome.
    func attempts() throws -> [(key: String, outcome: String)] {
        let db = try DatabaseQueue(path: data + "/farm.sqlite")
        return try db.read { db in
            try Row.fetchAll(db, sql: "SELECT t.key, a.outcome FROM attempt a JOIN task t ON t.id = a.task_id ORDER BY a.id")
                .map { ($0["key"], $0["outcome"]) }
        }
    }
}
