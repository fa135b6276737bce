import Foundation
import GRDB
import Testing
import TestSupport
@testable import Coordinator
import Engine
import Protocol

/// The farm as users run it: real processes, real sockets on loopback, a real SQLite file.
@Suite(.serialized)
struct FarmEndToEndTests {
    @Test func aSweepOnThreeWorkersProducesEveryOutputAndRecord() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        try farm.startWorkers(3)
        let job = try farm.submitSweep()
        let (status, output) = try farm.wait(job)
        #expect(status == 0, "\(output)")
        let folder = farm.data + "/jobs/" + job
        for name in ["gamma-0.png", "gamma-0.5.png", "gamma-1.png", "contact_sheet.png", "relative_improvement.svg", "losses.csv", "job.json",
                     "index.html", "losses/gamma-0.svg", "losses/gamma-0.5.svg", "losses/gamma-1.svg"] {
            #expect(FileManager.default.fileExists(atPath: folder + "/" + name), "\(name) is missing")
        }
        // The page links only to files in the folder, and shows every point.
        let page = try String(contentsOfFile: folder + "/index.html", encoding: .utf8)
        for link in FarmHarness.localLinks(in: page) {
            #expect(FileManager.default.fileExists(atPath: folder + "/" + link), "index.html links to \(link), which is missing")
        }
        for point in ["γ = 0<", "γ = 0.5<", "γ = 1<", "href=\"losses.csv\"", "<svg "] { #expect(page.contains(point), "\(point)") }
        let records = try FarmRecords(path: farm.data + "/farm.sqlite")
        #expect(try records.tasks(ofJob: job).map(\.state) == ["done", "done", "done"])
        #expect(try records.counts()["loss_line"] == 15, "5 lines (iterations 0…4) for each of 3 tasks")
        let csv = try String(contentsOfFile: folder + "/losses.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 16)
        #expect(try farm.attempts().filter { $0.outcome == "succeeded" }.count == 3)
        let watched = try farm.run(["watch", job, "--coordinator", farm.endpoint])
        #expect(watched.status == 0 && watched.output.contains("succeeded: 3/3 tasks done"), "\(watched.output)")
        let workers = try farm.run(["workers", "--coordinator", farm.endpoint]).output
        // A worker that reconnects under heavy load may be listed twice until its old session
        // times out; what matters is that each of the three is there.
        let names = Set(workers.split(separator: "\n").map { $0.split(separator: "-").first.map(String.init) ?? "" })
        #expect(names == ["w0", "w1", "w2"], "\(workers)")
    }

    @Test func masksAndPerStyleLayersTravelToWorkersAndJobJSONReRendersThem() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        try farm.startWorkers(1)
        let mask = farm.dir.path("left.png")
        try ImageFile.writePNG(RGBImage(width: 8, height: 6, pixels: (0..<48).flatMap { i -> [Float] in
            let v: Float = i % 8 < 4 ? 255 : 0; return [v, v, v] }), path: mask)
        let job = try farm.submitSweep(gamma: "0.5", extra: ["--mask", mask, "--mask", "none",
                                                             "--style-layers", "block1_relu1,block2_relu1", "--style-layers", "block3_relu1"])
        let (status, output) = try farm.wait(job)
        #expect(status == 0, "\(output)\n\(farm.log("worker"))")

        // job.json's command names the mask by its stored blob and repeats each per-style flag.
        let folder = farm.data + "/jobs/" + job
        let manifest = try JobManifest.decode(Data(contentsOf: URL(fileURLWithPath: folder + "/job.json")))
        let command = try #require(manifest.tasks.first?.command)
        #expect(command.contains(" --style-layers block1_relu1,block2_relu1 --style-layers block3_relu1 "), "\(command)")
        #expect(command.contains(" --mask \(farm.data)/blobs/") && command.contains(" --mask none "), "\(command)")

        // Run it as a user would (our binary for `stylefarm`) and check it renders the same settings.
        let rerun = Process()
        rerun.executableURL = URL(fileURLWithPath: "/bin/sh")
        rerun.arguments = ["-c", farm.binary + command.dropFirst("stylefarm".count) + " --summary check.json"]
        rerun.currentDirectoryURL = farm.dir.url
        try rerun.run()
        rerun.waitUntilExit()
        #expect(rerun.terminationStatus == 0)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: farm.dir.path("check.json")))) as? [String: Any]
        let settings = try #require(summary?["settings"] as? [String: Any])
        let layers = (settings["style_layers"] as? [[[String: Any]]])?.map { $0.compactMap { $0["layer"] as? String } }
        #expect(layers == [["block1_relu1", "block2_relu1"], ["block3_relu1"]])
        let masks = settings["mask_paths"] as? [Any]
        #expect((masks?.first as? String)?.hasPrefix(farm.data + "/blobs/") == true && masks?.last is NSNull, "\(masks ?? [])")
    }

    @Test func aWorkerKilledMidTaskCostsOnlyItsAttempt() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        try farm.startWorkers(2)
        let job = try farm.submitSweep(iterations: 60)
        // Wait until both workers hold a task, then kill one outright.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, try farm.attempts().filter({ $0.outcome == "running" }).count < 2 { Thread.sleep(forTimeInterval: 0.05) }
        farm.kill9(farm.workers[0])
        let (status, output) = try farm.wait(job)
        #expect(status == 0, "\(output)")
        let all = try farm.attempts()
        let succeeded = all.filter { $0.outcome == "succeeded" }.map(\.key)
        #expect(succeeded.sorted() == ["gamma=0", "gamma=0.5", "gamma=1"], "each task exactly once: \(all)")
        #expect(all.contains { $0.outcome == "lost" }, "the killed worker's attempt is recorded as lost: \(all)")
    }

    @Test func aCoordinatorKilledMidJobResumesWithoutRedoingFinishedTasks() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        let port = Int(farm.endpoint.split(separator: ":").last!)!
        try farm.startWorkers(1)
        let job = try farm.submitSweep(iterations: 30)
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, !(try farm.attempts().contains { $0.outcome == "succeeded" }) { Thread.sleep(forTimeInterval: 0.05) }
        farm.kill9(farm.coordinator!)
        let finishedBefore = try farm.attempts().filter { $0.outcome == "succeeded" }.map(\.key)
        #expect(!finishedBefore.isEmpty)
        try farm.startCoordinator(port: port)
        let (status, output) = try farm.wait(job)
        #expect(status == 0, "\(output)")
        let all = try farm.attempts()
        for key in finishedBefore {
            #expect(all.filter { $0.key == key }.count == 1, "\(key) was rendered again: \(all)")
        }
        #expect(all.filter { $0.outcome == "succeeded" }.count == 3)
    }

    @Test func malformedMessagesGetAnErrorAndTheCoordinatorKeepsServing() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        let context = try ZMQContext()
        let socket = try ZMQSocket(context, type: .dealer)
        defer { socket.close() }
        try socket.connect(farm.endpoint)
        let good = try Message.status(StatusQuery()).wireMessage().frames
        var wrongVersion = good
        wrongVersion[0] = WireMessage.tagFrame(version: 99)
        let cases: [(String, [Data])] = [
            ("garbage", [Data("hello".utf8)]),
            ("wrong version", wrongVersion),
            ("truncated", Array(good.prefix(2))),
            ("broken JSON", [good[0], good[1], Data("{\"jobID\":".utf8)]),
            ("oversized header", [good[0], good[1], Data(repeating: 0x20, count: 70_000)]),
        ]
        for (name, frames) in cases {
            try socket.send(frames)
            #expect(try socket.poll(.readable, timeout: .seconds(10)).contains(.readable), "\(name): no answer")
            let reply = try #require(try socket.receiveMessage(wait: false))
            guard case .success(.error) = reply else {
                Issue.record("\(name): expected an error reply, got \(reply)")
                continue
            }
        }
        try socket.send(good)
        #expect(try socket.poll(.readable, timeout: .seconds(10)).contains(.readable))
        guard case .success(.statusReply) = try #require(try socket.receiveMessage(wait: false)) else {
            Issue.record("the coordinator stopped answering after malformed messages")
            return
        }
    }

    @Test func withKeysAnAuthorisedWorkerRendersAndAnUnknownKeyIsRefused() throws {
        let farm = try FarmHarness()
        let keys = farm.dir.path("keys")
        for name in ["coordinator", "node1", "client", "intruder"] {
            #expect(try farm.run(["keys", "generate", name, "--dir", keys]).status == 0)
        }
        #expect(try farm.run(["keys", "authorize", keys + "/node1.key", "--data", farm.data]).status == 0)
        #expect(try farm.run(["keys", "authorize", keys + "/client.key", "--data", farm.data, "--role", "client"]).status == 0)
        try farm.startCoordinator(extra: ["--keys", keys])
        let server = ["--server-key", keys + "/coordinator.key"]
        try farm.startWorkers(1, extra: ["--key", keys + "/intruder.key_secret"] + server, name: "intruder")
        try farm.startWorkers(1, extra: ["--key", keys + "/node1.key_secret"] + server, name: "node1")
        let client = ["--key", keys + "/client.key_secret"] + server
        let job = try farm.submitSweep(gamma: "0.5", extra: client)
        let (status, output) = try farm.wait(job, extra: client)
        #expect(status == 0, "\(output)")
        let workers = try farm.run(["status", "--coordinator", farm.endpoint] + client).output
        #expect(workers.contains("node1-") && !workers.contains("intruder"), "\(workers)")
        #expect(farm.log("coordinator").contains("refused a connection"), "the refusal is logged")

        // Keys carry roles: a client's key cannot act as a worker, a worker's cannot submit.
        try farm.startWorkers(1, extra: ["--key", keys + "/client.key_secret"] + server, name: "impostor")
        let worker = ["--key", keys + "/node1.key_secret"] + server
        let refused = try farm.run(["submit", "sweep", "--coordinator", farm.endpoint, "--content", farm.samples.content,
                                    "--style", farm.samples.style1, "--style", farm.samples.style2, "--gamma", "0.5", "--size", "48",
                                    "--iterations", "2"] + worker)
        #expect(refused.status != 0 && refused.output.contains("may not send 'submit'"), "\(refused.output)")
        let second = try farm.submitSweep(gamma: "1", extra: client)
        #expect(try farm.wait(second, extra: client).status == 0)
        let all = try farm.run(["status", "--coordinator", farm.endpoint] + client).output
        #expect(!all.contains("impostor"), "\(all)")
        #expect(farm.log("coordinator").contains("refused a message the key's role does not allow"))
    }
}
