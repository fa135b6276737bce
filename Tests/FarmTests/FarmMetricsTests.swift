import Foundation
import GRDB
import Testing
import TestSupport

/// `/metrics` after real farm runs: every histogram parses (prometheus_client) and is
/// consistent (cumulative buckets, +Inf = count), `promtool check metrics` finds nothing, and
/// the figures agree with the database — attempt durations counted once per ended attempt,
/// one dispatch latency per lease, one assign sent per delivered attempt, result bytes at least
/// the result files, lost attempts by cause as the records' reasons say. The Grafana dashboard's
/// expressions use only names that the scrape shows.
@Suite(.serialized)
struct FarmMetricsTests {
    /// The repository (deploy/ and scripts/), from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Sums every sample of `name` whose labels contain all of `labels` ("k=v").
    static func sum(_ metrics: [String: Double], _ name: String, _ labels: String...) -> Double {
        metrics.filter { key, _ in
            guard key.hasPrefix(name + "{") else { return false }
            let present = Set(key.dropFirst(name.count + 1).dropLast().split(separator: ",").map(String.init))
            return labels.allSatisfy(present.contains)
        }.values.reduce(0, +)
    }

    /// Every histogram series in `text`: its buckets cumulative, its +Inf bucket equal to its count.
    static func histogramProblems(_ metrics: [String: Double]) -> [String] {
        var problems: [String] = []
        for (key, count) in metrics where key.contains("_count{") {
            let name = String(key[..<key.range(of: "_count{")!.lowerBound])
            let labels = key[key.range(of: "_count{")!.upperBound...].dropLast()
            let buckets = metrics.compactMap { bucketKey, value -> (Double, Double)? in
                guard bucketKey.hasPrefix(name + "_bucket{") else { return nil }
                var rest = Set(bucketKey.dropFirst(name.count + 8).dropLast().split(separator: ",").map(String.init))
                guard let le = rest.first(where: { $0.hasPrefix("le=") }) else { return nil }
                rest.remove(le)
                guard rest == Set(labels.split(separator: ",").map(String.init)) else { return nil }
                return (Double(le.dropFirst(3)) ?? .infinity, value)
            }.sorted { $0.0 < $1.0 }
            if buckets.count < 2 { problems.append("\(key): \(buckets.count) buckets") }
            if zip(buckets, buckets.dropFirst()).contains(where: { $0.1 > $1.1 }) { problems.append("\(key): buckets not cumulative \(buckets)") }
            if buckets.last?.0 != .infinity || buckets.last?.1 != count { problems.append("\(key): +Inf bucket \(buckets.last.map { "\($0)" } ?? "none") ≠ count \(count)") }
        }
        return problems
    }

    /// The checks every scrape must pass: promtool's linter, the catalogue (names, types, help
    /// text), and the Grafana dashboard's names against what this scrape shows.
    static func checkExposition(_ text: Data, in farm: FarmHarness) throws {
        let file = farm.dir.path("metrics.txt")
        try text.write(to: URL(fileURLWithPath: file))
        let promtool = "/usr/bin/promtool"
        guard FileManager.default.isExecutableFile(atPath: promtool) else {
            throw TestFailure("promtool is missing: scripts/install-deps.sh installs Debian's prometheus package")
        }
        let lint = try FarmHarness.run("/bin/sh", ["-c", "\(promtool) check metrics < \(file)"])
        #expect(lint.status == 0 && lint.output.isEmpty, "promtool check metrics: \(lint.output)")
        let rules = root.appendingPathComponent("scripts/deploy-check/metrics_rules.py").path
        let catalogue = try FarmHarness.run("/usr/bin/env", ["python3", rules, "scrape", file])
        #expect(catalogue.status == 0, "\(catalogue.output)")
        let grafana = try FarmHarness.run("/usr/bin/env", ["python3", rules, "grafana", root.appendingPathComponent("deploy/grafana/stylefarm-dashboard.json").path,
                                               "--scrape", file])
        #expect(grafana.status == 0, "\(grafana.output)")
    }

    @Test func afterAFarmRunWithAKilledWorkerTheMetricsAgreeWithTheRecords() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator(extra: ["--http", "127.0.0.1:0"])
        let base = try FarmHTTPTests.httpBase(farm)
        try farm.startWorkers(2)
        let job = try farm.submitSweep(iterations: 60)

        // While both workers render: iterations per second, for the farm and for each worker.
        var live: [String: Double] = [:]
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            live = try FarmHTTPTests.parseMetrics(try FarmHTTPTests.get(base + "/metrics").body)
            if (live["stylefarm_worker_iterations_per_second{worker=w0}"] ?? 0) > 0,
               (live["stylefarm_worker_iterations_per_second{worker=w1}"] ?? 0) > 0 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let perWorker = Self.sum(live, "stylefarm_worker_iterations_per_second")
        #expect(perWorker > 0, "\(live)")
        // The total and the sum of the workers come from one scrape; 1e-9 is rounding in the text.
        #expect(abs((live["stylefarm_iterations_per_second{}"] ?? -1) - perWorker) < 1e-9)

        farm.kill9(farm.workers[0])
        let (status, output) = try farm.wait(job)
        #expect(status == 0, "\(output)")
        // The killed worker's session has ended once the survivor is the only one connected.
        let text = try FarmHTTPTests.get(base + "/metrics").body
        let metrics = try FarmHTTPTests.parseMetrics(text)
        try Self.checkExposition(text, in: farm)
        #expect(Self.histogramProblems(metrics).isEmpty, "\(Self.histogramProblems(metrics))")

        let db = try DatabaseQueue(path: farm.data + "/farm.sqlite")
        func count(_ sql: String) throws -> Double { Double(try db.read { try Int.fetchOne($0, sql: sql) } ?? -1) }
        let ended = try count("SELECT COUNT(*) FROM attempt WHERE outcome IN ('succeeded', 'failed', 'lost', 'cancelled')")
        #expect(ended >= 4, "three tasks and the killed worker's attempt")
        #expect(Self.sum(metrics, "stylefarm_attempt_duration_seconds_count") == ended)
        #expect(Self.sum(metrics, "stylefarm_attempt_duration_seconds_count", "kind=render", "outcome=succeeded")
                == (try count("SELECT COUNT(*) FROM attempt a JOIN task t ON t.id = a.task_id WHERE t.kind = 'render' AND a.outcome = 'succeeded'")))
        let recordedSeconds = try db.read {
            try Double.fetchOne($0, sql: "SELECT SUM(finished_at - started_at) FROM attempt WHERE outcome IN ('succeeded', 'failed', 'lost', 'cancelled')")
        } ?? -1
        // The histogram adds the same differences in nanoseconds: 1 ms is far above rounding.
        #expect(abs(Self.sum(metrics, "stylefarm_attempt_duration_seconds_sum") - recordedSeconds) < 0.001)

        let attempts = try count("SELECT COUNT(*) FROM attempt")
        #expect(metrics["stylefarm_dispatch_latency_seconds_count{}"] == attempts, "one latency per lease")
        #expect(metrics["stylefarm_messages_sent_total{kind=assign}"] == (try count("SELECT COUNT(*) FROM attempt WHERE outcome != 'undelivered'")))
        #expect(metrics["stylefarm_messages_received_total{kind=hello}"] == 2)
        #expect((metrics["stylefarm_messages_received_total{kind=ready}"] ?? 0) > 0)
        #expect((metrics["stylefarm_messages_received_total{kind=result}"] ?? 0) >= (try count("SELECT COUNT(*) FROM attempt WHERE outcome = 'succeeded'")))
        let outputs = try db.read { try String.fetchAll($0, sql: "SELECT output_path FROM task WHERE state = 'done'") }
        let outputBytes = try outputs.reduce(0) { $0 + ((try FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
        #expect(outputBytes > 0 && (metrics["stylefarm_received_bytes_total{kind=result}"] ?? 0) >= Double(outputBytes),
                "results carry the images written")
        #expect((metrics["stylefarm_sent_bytes_total{kind=assign}"] ?? 0) > 0)
        #expect(Self.sum(metrics, "stylefarm_received_bytes_total") > Self.sum(metrics, "stylefarm_received_bytes_total", "kind=result"))
        #expect((metrics["stylefarm_sqlite_transaction_seconds_count{}"] ?? 0) > 0)

        // Lost attempts by cause, classified here from the reasons the records hold.
        let lost = try count("SELECT COUNT(*) FROM attempt WHERE outcome = 'lost'")
        #expect(lost >= 1, "the killed worker's attempt")
        #expect(Self.sum(metrics, "stylefarm_attempts_lost") == lost)
        #expect(metrics["stylefarm_attempts_lost{cause=connection_gone}"]
                == (try count("SELECT COUNT(*) FROM attempt WHERE outcome = 'lost' AND reason LIKE 'worker lost: its connection is gone%'")))
        #expect(metrics["stylefarm_attempts_lost{cause=heartbeat_timeout}"]
                == (try count("SELECT COUNT(*) FROM attempt WHERE outcome = 'lost' AND reason LIKE 'worker lost: silent for%'")))
        #expect(metrics["stylefarm_attempts_lost{cause=handed_back}"]
                == (try count("SELECT COUNT(*) FROM attempt WHERE outcome = 'lost' AND reason LIKE 'handed back%'")))
        #expect(metrics["stylefarm_workers_connected{}"] == 1)
        #expect(metrics["stylefarm_worker_iterations_per_second{worker=w0}"] == nil, "a worker gone has no series")
        #expect(metrics["stylefarm_worker_iterations_per_second{worker=w1}"] == 0, "an idle worker renders nothing")
    }

    @Test func anExactJobsExchangeRoundsAreTimed() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator(extra: ["--http", "127.0.0.1:0"])
        let base = try FarmHTTPTests.httpBase(farm)
        try farm.startWorkers(2)
        let iterations = 4
        let (submitted, output) = try farm.run(["submit", "tiled", "--coordinator", farm.endpoint, "--tile", "64", "--mode", "exact",
                                                "--shards", "2", "--content", farm.samples.content, "--style", farm.samples.style1,
                                                "--optimizer", "adam", "--iterations", String(iterations),
                                                "--style-layers", "block1_relu1", "--size", "128"])
        #expect(submitted == 0, "\(output)")
        let (status, waited) = try farm.wait(output.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(status == 0, "\(waited)")
        let text = try FarmHTTPTests.get(base + "/metrics").body
        let metrics = try FarmHTTPTests.parseMetrics(text)
        try Self.checkExposition(text, in: farm)
        #expect(Self.histogramProblems(metrics).isEmpty, "\(Self.histogramProblems(metrics))")
        // Each step exchanges at least once (the sums); rounds are counted once per gang, not per shard.
        let rounds = metrics["stylefarm_exchange_round_seconds_count{}"] ?? 0
        let exchanges = metrics["stylefarm_messages_received_total{kind=exchange}"] ?? 0
        #expect(rounds >= Double(iterations), "\(rounds) rounds")
        #expect(exchanges == 2 * rounds, "two shards contribute to every round")
        #expect(metrics["stylefarm_messages_sent_total{kind=exchanged}"] == exchanges)
        #expect(Self.sum(metrics, "stylefarm_attempt_duration_seconds_count", "kind=shard", "outcome=succeeded") == 2)
    }
}
