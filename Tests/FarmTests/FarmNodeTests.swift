import Foundation
import GRDB
import Testing
import TestSupport
import Engine
import Farm
import Protocol

/// Nodes that join with nothing but the binary: they fetch the coordinator's weights (once),
/// workers with other weights or another engine are refused, tasks go only to workers that
/// announced the memory and the kind of work they need, and a revoked key is dropped at once.
/// Real `stylefarm` processes on loopback.
@Suite(.serialized)
struct FarmNodeTests {
    /// The coordinator's status document, as `stylefarm status` prints it.
    static func status(_ farm: FarmHarness, extra: [String] = []) throws -> FarmStatusDocument {
        let (code, output) = try farm.run(["status", "--coordinator", farm.endpoint] + extra)
        guard code == 0 else { throw TestFailure("status failed: \(output)") }
        return try JSONDecoder().decode(FarmStatusDocument.self, from: Data(output.utf8))
    }

    @Test func aNodeWithoutWeightsFetchesTheCoordinatorsOnceAndRenders() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        let node = farm.dir.path("node")
        let served = WeightsStore.fromEnvironment().weightsPath
        try farm.startWorkers(1, name: "bare", environment: ["STYLEFARM_HOME": node])
        let job = try farm.submitSweep(gamma: "0:1:0.5", iterations: 40)

        // While it renders, the status says where, with what, and how fast.
        var seen: WorkerStatus?
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, seen == nil {
            seen = try Self.status(farm).workers.first { $0.task != nil && ($0.iterationsPerSecond ?? 0) > 0 }
            Thread.sleep(forTimeInterval: 0.2)
        }
        let worker = try #require(seen, "no worker was seen rendering")
        #expect(worker.name == "bare" && worker.host == ProcessInfo.processInfo.hostName)
        #expect((worker.memoryBytes ?? 0) > 1 << 28)
        #expect(worker.task?.hasPrefix(job + "/") == true)
        // The work orders it runs, that it sends previews with its progress, and that a stopped
        // exact shard asks its gang for a checkpoint first.
        #expect(Set(worker.capabilities ?? []) == Set(WorkerCapability.allCases.map(\.rawValue)
                                                      + [PreviewOffer.capability, ShardExchange.checkpointOnStopCapability]))

        let (code, output) = try farm.wait(job)
        #expect(code == 0, "\(output)")
        let fetched = node + "/weights/" + WeightsStore.fileName
        #expect(try StreamingSHA256.hex(ofFileAt: fetched) == StreamingSHA256.hex(ofFileAt: served))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: node + "/weights").filter { $0.hasSuffix(".partial") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        #expect(farm.log("worker-0").contains("fetching the weights from the coordinator"))
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: farm.data + "/jobs/" + job + "/job.json"))) as? [String: Any]
        #expect(manifest?["weights_sha256"] as? String == (try StreamingSHA256.hex(ofFileAt: served)))

        // Restarted, the node uses what it fetched: it says hello with the weights' digest.
        farm.workers[0].terminate()
        farm.workers[0].waitUntilExit()
        try farm.startWorkers(1, name: "bare-again", environment: ["STYLEFARM_HOME": node])
        let second = try farm.submitSweep(gamma: "0.5", iterations: 2)
        #expect(try farm.wait(second).status == 0)
        #expect(!farm.log("worker-1").contains("fetching the weights"), "\(farm.log("worker-1"))")
    }

    @Test func workersWithOtherWeightsOrAnotherEngineAreRefusedWithTheReason() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        let served = try #require(RawPeer.localWeights)

        let stranger = try RawPeer(farm.endpoint)
        try stranger.send(.hello(Hello(workerName: "stranger", threads: 1, capabilities: ["render"],
                                       weightsSHA256: SHA256Digest(hex: String(repeating: "1", count: 64)),
                                       engineVersion: StyleFarmBuild.engineVersion)))
        guard case .refused(let refusal)? = try stranger.receive(until: { if case .refused = $0 { true } else { false } }) else {
            Issue.record("a worker with other weights was not refused")
            return
        }
        #expect(refusal.reason.contains("differ") && refusal.reason.contains(served.hex), "\(refusal.reason)")

        let old = try RawPeer(farm.endpoint)
        try old.send(.hello(Hello(workerName: "old", threads: 1, capabilities: ["render"], weightsSHA256: served, engineVersion: "0.0.1")))
        guard case .refused(let engine)? = try old.receive(until: { if case .refused = $0 { true } else { false } }) else {
            Issue.record("a worker of another engine was not refused")
            return
        }
        #expect(engine.reason.contains("engine 0.0.1"), "\(engine.reason)")

        // A worker with no weights is offered the coordinator's, and gets any range of them.
        let bare = try RawPeer(farm.endpoint)
        try bare.send(.hello(Hello(workerName: "bare", threads: 1, capabilities: ["render"], weightsSHA256: nil,
                                   engineVersion: StyleFarmBuild.engineVersion)))
        guard case .welcome(let welcome)? = try bare.receive(until: { if case .welcome = $0 { true } else { false } }) else {
            Issue.record("a worker without weights was not welcomed")
            return
        }
        let offer = try #require(welcome.weights)
        #expect(offer.sha256 == served)
        try bare.send(.blobRequest(BlobRequest(sha256: offer.sha256, offset: offer.bytes - 10, length: 100)))
        guard case .blob(let chunk)? = try bare.receive(until: { if case .blob = $0 { true } else { false } }) else {
            Issue.record("no chunk")
            return
        }
        let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: WeightsStore.fromEnvironment().weightsPath))
        try file.seek(toOffset: UInt64(offer.bytes - 10))
        #expect(chunk.bytes == (try file.readToEnd()) && chunk.offset == offer.bytes - 10 && chunk.totalBytes == offer.bytes)
        #expect(farm.log("coordinator").contains("refused a worker"))
    }

    @Test func tasksGoOnlyToWorkersWithTheMemoryAndTheCapabilityForThem() throws {
        let farm = try FarmHarness()
        // A slow heartbeat: the raw peers below answer none.
        try farm.startCoordinator(heartbeatMilliseconds: 5000)
        // 48² pixels need ~7 MB by the footprint model: 1 MB is too little.
        let small = try RawPeer(farm.endpoint)
        try small.send(RawPeer.hello("small", memoryBytes: 1 << 20))
        _ = try small.receive(until: { if case .welcome = $0 { true } else { false } })
        try small.send(.ready(Ready(credit: 1, holding: [], lastAssignment: 0)))
        let job = try farm.submitSweep(gamma: "0.5", iterations: 2)
        // The status says why the job waits while no connected worker can hold its tasks.
        let waiting = try Self.status(farm).jobs.first { $0.id == job }?.waiting
        #expect(waiting?.contains("needs about") == true && waiting?.contains("has 1 MB") == true, "\(waiting ?? "nil")")
        let tilesOnly = try RawPeer(farm.endpoint)
        try tilesOnly.send(RawPeer.hello("tiles-only", memoryBytes: 8 << 30, capabilities: [WorkerCapability.tile.rawValue]))
        _ = try tilesOnly.receive(until: { if case .welcome = $0 { true } else { false } })
        try tilesOnly.send(.ready(Ready(credit: 1, holding: [], lastAssignment: 0)))
        for peer in [small, tilesOnly] {
            let assigned = try peer.receive(timeout: .seconds(2), until: { if case .assign = $0 { true } else { false } })
            #expect(assigned == nil, "a task went to a worker that cannot run it")
        }
        let able = try RawPeer(farm.endpoint)
        try able.send(RawPeer.hello("able", memoryBytes: 8 << 30))
        _ = try able.receive(until: { if case .welcome = $0 { true } else { false } })
        try able.send(.ready(Ready(credit: 1, holding: [], lastAssignment: 0)))
        guard case .assign(let assignment)? = try able.receive(until: { if case .assign = $0 { true } else { false } }) else {
            Issue.record("the worker that can run the task did not get it")
            return
        }
        #expect(assignment.jobID == job)
    }

    @Test func aRevokedKeyLosesItsSessionAndItsTaskGoesBack() throws {
        let farm = try FarmHarness()
        let keys = farm.dir.path("keys")
        for name in ["coordinator", "node1", "node2", "client"] {
            #expect(try farm.run(["keys", "generate", name, "--dir", keys]).status == 0)
        }
        for name in ["node1", "node2"] { #expect(try farm.run(["keys", "authorize", keys + "/\(name).key", "--data", farm.data]).status == 0) }
        #expect(try farm.run(["keys", "authorize", keys + "/client.key", "--data", farm.data, "--role", "client"]).status == 0)
        try farm.startCoordinator(extra: ["--keys", keys])
        let server = ["--server-key", keys + "/coordinator.key"]
        let client = ["--key", keys + "/client.key_secret"] + server
        try farm.startWorkers(1, extra: ["--key", keys + "/node1.key_secret"] + server, name: "node1")
        let job = try farm.submitSweep(gamma: "0.5", iterations: 400, extra: client)
        var rendering = false
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !rendering {
            rendering = try Self.status(farm, extra: client).workers.contains { $0.name == "node1" && $0.task != nil }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(rendering)
        let revoke = try farm.run(["keys", "revoke", "node1", "--data", farm.data])
        #expect(revoke.status == 0 && revoke.output.contains("revoked node1"), "\(revoke.output)")
        var gone = false
        let until = Date().addingTimeInterval(10)
        while Date() < until, !gone {
            gone = try !Self.status(farm, extra: client).workers.contains { $0.name == "node1" }
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(gone, "the revoked worker is still connected")
        // Its attempt is lost (not failed) and its task goes to a worker whose key is good.
        let db = try DatabaseQueue(path: farm.data + "/farm.sqlite")
        let lost = try db.read { try String.fetchAll($0, sql: "SELECT reason FROM attempt WHERE outcome = 'lost'") }
        #expect(lost.contains { $0.contains("key revoked") }, "\(lost)")
        try farm.startWorkers(1, extra: ["--key", keys + "/node2.key_secret"] + server, name: "node2")
        var taken = false
        let later = Date().addingTimeInterval(60)
        while Date() < later, !taken {
            taken = try Self.status(farm, extra: client).workers.contains { $0.name == "node2" && $0.task?.hasPrefix(job + "/") == true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(taken, "the revoked worker's task did not go to another worker")
        #expect(try farm.run(["cancel", job, "--coordinator", farm.endpoint] + client).status == 0)
        #expect(farm.log("coordinator").contains("revoked key"))
        // Revoking again is not an error.
        #expect(try farm.run(["keys", "revoke", "node1", "--data", farm.data]).output.contains("nothing to revoke"))
    }
}
