import Foundation
import GRDB
import Testing
import TestSupport
import Farm

/// The coordinator's HTTP side on a real farm: the JSON API is the status document the CLI
/// reads, `/metrics` parses with Prometheus's own parser and agrees with the database, reading
/// off loopback needs the token, and one SIGTERM stops both services.
@Suite(.serialized)
struct FarmHTTPTests {
    /// The port from the coordinator's "HTTP on http://HOST:PORT" line.
    static func httpBase(_ farm: FarmHarness) throws -> String {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let log = farm.log("coordinator")
            if let range = log.range(of: "HTTP on ") {
                return String(log[range.upperBound...].prefix { !$0.isNewline })
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestFailure("the coordinator printed no HTTP address")
    }

    /// GET `url` with an optional bearer token: status code and body.
    static func get(_ url: String, token: String? = nil) throws -> (status: Int, body: Data) {
        let reply = try Curl.run(url, token.map { ["-H", "Authorization: Bearer \($0)"] } ?? [])
        return (reply.status, reply.body)
    }

    /// The samples of a Prometheus exposition, parsed by prometheus_client: "name{k=v,…}" → value.
    static func parseMetrics(_ text: Data) throws -> [String: Double] {
        let script = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        out = {}
        for family in text_string_to_metric_families(sys.stdin.read()):
            for s in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
                out[s.name + "{" + labels + "}"] = s.value
        json.dump(out, sys.stdout)
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(text)
        try input.fileHandleForWriting.close()
        let parsed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("prometheus_client could not parse /metrics: \(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
        }
        return try JSONDecoder().decode([String: Double].self, from: parsed)
    }

    @Test func theAPIIsTheStatusDocumentAndMetricsAgreeWithTheRecords() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator(extra: ["--http", "127.0.0.1:0"])
        let base = try Self.httpBase(farm)
        try farm.startWorkers(2)
        let job = try farm.submitSweep(gamma: "0:1:0.5", iterations: 3)
        #expect(try farm.wait(job).status == 0)

        let (code, body) = try Self.get(base + "/api/v1/jobs/" + job)
        #expect(code == 200)
        let document = try JSONDecoder().decode(FarmStatusDocument.self, from: body)
        #expect(document.jobs.first?.id == job && document.jobs.first?.state == .succeeded)
        #expect(document.jobs.first?.count(.done) == 3)
        #expect(try Self.get(base + "/api/v1/jobs/no-such-job").status == 404)
        #expect(try Self.get(base + "/api/v1/status?limit=0").status == 400)
        let all = try JSONDecoder().decode(FarmStatusDocument.self, from: try Self.get(base + "/api/v1/status").body)
        #expect(all.workers.count == 2 && all.workers.allSatisfy { $0.host != nil })
        #expect(all.http == base, "clients learn the HTTP address from the status")
        let watched = try farm.run(["watch", job, "--coordinator", farm.endpoint]).output
        #expect(watched.contains(base + "/jobs/" + job), "\(watched)")

        let metrics = try Self.parseMetrics(try Self.get(base + "/metrics").body)
        let db = try DatabaseQueue(path: farm.data + "/farm.sqlite")
        let (done, succeeded) = try db.read {
            (try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM task WHERE state = 'done'") ?? -1,
             try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM attempt WHERE outcome = 'succeeded'") ?? -1)
        }
        #expect(metrics["stylefarm_tasks{state=done}"] == Double(done))
        #expect(metrics["stylefarm_attempts{outcome=succeeded}"] == Double(succeeded))
        #expect(metrics["stylefarm_jobs{state=succeeded}"] == 1)
        #expect(metrics["stylefarm_workers_connected{}"] == 2)
        #expect((metrics["stylefarm_messages_received_total{kind=result}"] ?? 0) >= Double(succeeded))

        // One SIGTERM stops the ZeroMQ loop and the HTTP server alike.
        let coordinator = try #require(farm.coordinator)
        coordinator.terminate()
        let deadline = Date().addingTimeInterval(20)
        while coordinator.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!coordinator.isRunning && coordinator.terminationStatus == 0)
    }

    @Test func offLoopbackReadingNeedsTheToken() throws {
        let farm = try FarmHarness()
        let refused = try farm.run(["coordinator", "--bind", "tcp://127.0.0.1:0", "--data", farm.data, "--http", "0.0.0.0:0"])
        #expect(refused.status != 0 && refused.output.contains("--http-token"), "\(refused.output)")
        let token = "t0ken-" + UUID().uuidString
        try Data((token + "\n").utf8).write(to: URL(fileURLWithPath: farm.dir.path("http.token")))
        try farm.startCoordinator(extra: ["--http", "0.0.0.0:0", "--http-token", farm.dir.path("http.token")])
        let port = try Self.httpBase(farm).split(separator: ":").last.map(String.init) ?? ""
        let base = "http://127.0.0.1:" + port
        #expect(try Self.get(base + "/api/v1/status").status == 401)
        #expect(try Self.get(base + "/metrics", token: "wrong-" + token).status == 401)
        #expect(try Self.get(base + "/api/v1/status", token: token).status == 200)
        #expect(try Self.get(base + "/metrics", token: token).status == 200)
    }
}
