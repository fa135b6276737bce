import Foundation
import GRDB
import Testing
import TestSupport
@testable import Coordinator
import Engine
import Farm
import Protocol

/// The faults and messages of issue 10, each against real processes: peers that vanish, forge
/// or repeat themselves, jobs that name files or absurd numbers, a coordinator killed between a
/// job's last result and its outputs, clients that outlive the coordinator.
@Suite(.serialized)
struct FarmTrustTests {
    func runningAttempt(_ farm: FarmHarness, timeout: Double = 120) throws -> Int64 {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let db = try DatabaseQueue(path: farm.data + "/farm.sqlite")
            if let id = try db.read({ try Int64.fetchOne($0, sql: "SELECT id FROM attempt WHERE outcome = 'running' ORDER BY id LIMIT 1") }) {
                return id
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestFailure("no attempt started")
    }

    func jobCount(_ farm: FarmHarness) throws -> Int {
        try DatabaseQueue(path: farm.data + "/farm.sqlite").read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM job") ?? 0 }
    }

    @Test func aPeerThatTakesCreditAndVanishesFailsNoJob() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        do {
            let ghost = try RawPeer(farm.endpoint)
            _ = try ghost.join(as: "ghost")
            try ghost.send(.ready(Ready(credit: 4)))
            Thread.sleep(forTimeInterval: 0.2)
        }
        Thread.sleep(forTimeInterval: 0.3)   // its socket is closed now; the coordinator has not noticed yet
        let job = try farm.submitSweep(gamma: "0:1:0.5")
        try farm.startWorkers(1)
        let (status, output) = try farm.wait(job)
        #expect(status == 0, "\(output)\n\(farm.log("coordinator"))")
        let attempts = try farm.attempts()
        #expect(!attempts.contains { $0.outcome == "failed" }, "\(attempts)")
    }

    @Test func messagesAboutAnotherWorkersAttemptAreRefused() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        try farm.startWorkers(1)
        let job = try farm.submitSweep(gamma: "0.5", iterations: 30)
        let attempt = try runningAttempt(farm)
        // Same name as the real worker: still another identity.
        let forger = try RawPeer(farm.endpoint)
        let welcome = try forger.join(as: "w0")
        #expect(!(try farm.attempts().isEmpty))
        let png = try [UInt8](Data(contentsOf: URL(fileURLWithPath: farm.samples.style1)))
        let losses = LossLine(iteration: 1, total: 1, content: 1, styles: [1, 1], tv: 0, elapsed: 1)
        try forger.send(.result(TaskResult(taskID: "1", attemptID: attempt, finalLosses: losses, summary: .object([:]), image: Data(png))))
        #expect(try forger.errorCode() == FarmErrorCode.notYourAttempt.rawValue)
        try forger.send(.progress(TaskProgress(taskID: "1", attemptID: attempt, lines: [losses])))
        #expect(try forger.errorCode() == FarmErrorCode.notYourAttempt.rawValue)
        try forger.send(.failure(TaskFailure(taskID: "1", attemptID: attempt, reason: "forged", retryable: false)))
        #expect(try forger.errorCode() == FarmErrorCode.notYourAttempt.rawValue)
        try forger.send(.goodbye(Goodbye(reason: "forged")))
        let (status, output) = try farm.wait(job)
        #expect(status == 0, "\(output)")
        let all = try farm.attempts()
        #expect(all.map(\.outcome) == ["succeeded"], "the real worker's attempt alone, untouched: \(all)")
        let stored = try [UInt8](Data(contentsOf: URL(fileURLWithPath: farm.data + "/jobs/\(job)/gamma-0.5.png")))
        #expect(stored != png, "the output is the real worker's render")
        #expect(!welcome.workerID.isEmpty && farm.log("coordinator").contains("refused a message about another worker's attempt"))
        let ids = try DatabaseQueue(path: farm.data + "/farm.sqlite").read { try String.fetchAll($0, sql: "SELECT id FROM worker") }
        #expect(Set(ids).count == 2 && ids.allSatisfy { $0.hasPrefix("w0-") }, "one id per session, never shared: \(ids)")
    }

    /// A valid submission's spec as JSON, its images as blobs.
    func submission(_ farm: FarmHarness, extra: [Data] = [], mutate: (inout [String: Any]) -> Void) throws -> SubmitJob {
        var blobs: [SHA256Digest] = [], data: [Data] = []
        for bytes in extra {
            blobs.append(SHA256Digest(hex: BlobStore.hash([UInt8](bytes)))!)
            data.append(bytes)
        }
        func blob(_ path: String) throws -> String {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            let sha = BlobStore.hash(bytes)
            if !blobs.contains(where: { $0.hex == sha }) { blobs.append(SHA256Digest(hex: sha)!); data.append(Data(bytes)) }
            return "blob:" + sha
        }
        var base = RenderRequest(contentPath: try blob(farm.samples.content), stylePaths: [try blob(farm.samples.style1), try blob(farm.samples.style2)])
        base.size = 48
        base.iterations = 2
        let spec = SweepSpec(base: base, gammas: [0, 1])
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(spec)) as? [String: Any] ?? [:]
        mutate(&json)
        let value = try JSONDecoder().decode(JSONValue.self, from: JSONSerialization.data(withJSONObject: json))
        return SubmitJob(spec: value, kind: "sweep", blobs: blobs, blobData: data)
    }

    static let badSpecs: [String] = [
        "content /etc/passwd", "style /proc/self/environ", "style blob:../../x", "content empty", "mask ~/.ssh/id_rsa",
        "init /etc/passwd", "init unsent blob", "iterations near 2^63", "scale iterations near 2^63", "size 100000",
        "70 made-up axes", "no gamma", "gamma 5", "empty axis", "content not an image", "content 12000x12000",
        "misspelt spec field", "misspelt render option",
    ]

    /// A PNG that declares `width`×`height` but carries almost nothing: only its header is read.
    static func hugePNGHeader(width: UInt32, height: UInt32) -> Data {
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let length = UInt32(body.count)
            return withUnsafeBytes(of: length.bigEndian, Array.init) + Array(type.utf8) + body + [0, 0, 0, 0]
        }
        let ihdr = withUnsafeBytes(of: width.bigEndian, Array.init) + withUnsafeBytes(of: height.bigEndian, Array.init) + [8, 2, 0, 0, 0]
        return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00]) + chunk("IEND", []))
    }

    static let notAnImage = Data("#!/bin/sh\necho this is not a picture\n".utf8)

    @Test func submissionsThatBreakTheRulesAreRefusedAndNothingIsStored() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        let client = try RawPeer(farm.endpoint)
        for name in Self.badSpecs {
            let extra = name == "content not an image" ? [Self.notAnImage]
                : name == "content 12000x12000" ? [Self.hugePNGHeader(width: 12_000, height: 12_000)] : []
            let submit = try submission(farm, extra: extra) { spec in
                var base = spec["base"] as? [String: Any] ?? [:]
                switch name {
                case "content /etc/passwd": base["contentPath"] = "/etc/passwd"
                case "style /proc/self/environ": base["stylePaths"] = ["/proc/self/environ", (base["stylePaths"] as? [String])?[1] ?? ""]
                case "style blob:../../x": base["stylePaths"] = ["blob:../../x", (base["stylePaths"] as? [String])?[1] ?? ""]
                case "content empty": base["contentPath"] = ""
                case "mask ~/.ssh/id_rsa": base["maskPaths"] = ["~/.ssh/id_rsa", "none"]
                case "init /etc/passwd": base["initialization"] = "/etc/passwd"
                case "init unsent blob": base["initialization"] = "blob:" + String(repeating: "ab", count: 32)
                case "iterations near 2^63": base["iterations"] = Int.max - 1
                case "scale iterations near 2^63": base["scaleSizes"] = [24, 48]; base["scaleIterations"] = [Int.max / 2 + 1, Int.max / 2 + 1]
                case "size 100000": base["size"] = 100_000; base["maxPixels"] = 1_000_000_000_000
                case "70 made-up axes": spec["axes"] = (0..<70).map { ["option": "made-up-\($0)", "values": [1, 2]] }
                case "no gamma": spec["gammas"] = [Float]()
                case "gamma 5": spec["gammas"] = [5]
                case "empty axis": spec["axes"] = [["option": "beta", "values": [Float]()]]
                case "misspelt spec field": spec["gama"] = [0.5]
                case "misspelt render option": base["iteratoins"] = 3
                case "content not an image": base["contentPath"] = "blob:" + BlobStore.hash([UInt8](Self.notAnImage))
                case "content 12000x12000": base["contentPath"] = "blob:" + BlobStore.hash([UInt8](Self.hugePNGHeader(width: 12_000, height: 12_000)))
                default: break
                }
                spec["base"] = base
            }
            try client.send(.submit(submit))
            let reply = try client.receive(timeout: .seconds(20)) { if case .error = $0 { true } else if case .submitted = $0 { true } else { false } }
            guard case .error(let error)? = reply else {
                Issue.record("\(name): accepted (\(String(describing: reply)))")
                continue
            }
            #expect(error.code == FarmErrorCode.invalidJob.rawValue, "\(name): \(error.code) \(error.message)")
        }
        try client.send(.status(StatusQuery()))
        #expect(try client.receive(until: { if case .statusReply = $0 { true } else { false } }) != nil, "still serving")
        #expect(try jobCount(farm) == 0, "nothing refused was stored")
        // Only headers were read: the coordinator never held a 12000×12000 image.
        let status = try String(contentsOfFile: "/proc/\(farm.coordinator?.processIdentifier ?? 0)/status", encoding: .utf8)
        let peakKB = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        #expect(peakKB > 0 && peakKB < 300_000, "coordinator peak RSS \(peakKB) kB")
        // The same submission, untouched, is accepted.
        try client.send(.submit(try submission(farm) { _ in }))
        #expect(try client.receive(until: { if case .submitted = $0 { true } else { false } }) != nil)
    }

    @Test func aCalibrationResultWithoutSettingsIsRefusedAndTheTaskRetried() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        let job = try farm.submitSweep(gamma: "0,1", extra: ["--balance", "auto"])
        let fake = try RawPeer(farm.endpoint)
        _ = try fake.join(as: "liar")
        try fake.send(.ready(Ready(credit: 1, holding: [], lastAssignment: 0)))
        guard case .assign(let assignment)? = try fake.receive(until: { if case .assign = $0 { true } else { false } }) else {
            throw TestFailure("no calibration task")
        }
        let png = try Data(contentsOf: URL(fileURLWithPath: farm.samples.style1))
        try fake.send(.result(TaskResult(taskID: assignment.taskID, attemptID: assignment.attemptID,
                                         finalLosses: LossLine(iteration: 1, total: 1, content: 1, styles: [1, 1], tv: 0, elapsed: 1),
                                         summary: .object([:]), image: png)))
        try fake.send(.ready(Ready(credit: 1, holding: [], lastAssignment: assignment.attemptID)))
        guard case .assign(let again)? = try fake.receive(until: { if case .assign = $0 { true } else { false } }) else {
            throw TestFailure("the calibration was not retried")
        }
        #expect(again.taskID == assignment.taskID && again.attemptID != assignment.attemptID)
        let first = try DatabaseQueue(path: farm.data + "/farm.sqlite").read {
            try Row.fetchOne($0, sql: "SELECT outcome, reason FROM attempt WHERE id = ?", arguments: [assignment.attemptID])
        }
        #expect(first?["outcome"] == "failed" && (first?["reason"] as String?)?.contains("gives no σ") == true, "\(String(describing: first))")
        #expect(farm.coordinator?.isRunning == true, "the coordinator keeps serving")
        #expect(try farm.run(["cancel", job, "--coordinator", farm.endpoint]).status == 0)
    }

    @Test func aRepeatedReadyNeverGetsASecondTask() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        _ = try farm.submitSweep(gamma: "0:1:0.5")
        let worker = try RawPeer(farm.endpoint)
        _ = try worker.join(as: "twice")
        let ready = Message.ready(Ready(credit: 1, holding: [], lastAssignment: 0))
        try worker.send(ready)
        #expect(try worker.receive(until: { if case .assign = $0 { true } else { false } }) != nil)
        try worker.send(ready)   // as a worker that rejoins sends it again, before it saw the assignment
        let second = try worker.receive(timeout: .seconds(2)) { if case .assign = $0 { true } else { false } }
        #expect(second == nil, "a second task for one slot: \(String(describing: second))")
    }

    @Test func aJobWhoseOutputsWereNotWrittenGetsThemAfterARestart() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        try farm.startWorkers(1)
        let job = try farm.submitSweep(gamma: "0,1")
        #expect(try farm.wait(job).status == 0)
        // The instant between the last result and the outputs, made to last: kill, roll back.
        farm.kill9(try #require(farm.coordinator))
        let folder = farm.data + "/jobs/" + job
        // A result file lost too (as a power cut before it reached the disk would lose it).
        for name in ["contact_sheet.png", "losses.csv", "job.json", "relative_improvement.svg", "index.html", "gamma-0.png"] {
            try FileManager.default.removeItem(atPath: folder + "/" + name)
        }
        try DatabaseQueue(path: farm.data + "/farm.sqlite").write {
            try $0.execute(sql: "UPDATE job SET state = 'finishing' WHERE id = ?", arguments: [job])
        }
        let waiting = try farm.launch(["wait", job, "--coordinator", farm.endpoint, "--timeout", "120"], log: "wait.log")
        Thread.sleep(forTimeInterval: 1)   // `wait` finds no coordinator and keeps asking
        let port = Int(farm.endpoint.split(separator: ":").last ?? "") ?? 0
        try farm.startCoordinator(port: port)
        try farm.startWorkers(1)   // the lost result is rendered again
        waiting.waitUntilExit()
        #expect(waiting.terminationStatus == 0, "\(farm.log("wait"))")
        for name in ["contact_sheet.png", "losses.csv", "job.json", "relative_improvement.svg", "index.html", "gamma-0.png"] {
            #expect(FileManager.default.fileExists(atPath: folder + "/" + name), "\(name) is missing")
        }
        let all = try farm.attempts()
        #expect(all.filter { $0.outcome == "succeeded" }.map(\.key).sorted() == ["gamma=0", "gamma=1"], "one success per task: \(all)")
    }

    @Test func waitExitsThreeWhenTheCoordinatorStaysUnreachable() throws {
        let farm = try FarmHarness()
        let (status, output) = try farm.run(["wait", "abcdef", "--coordinator", "tcp://127.0.0.1:9", "--timeout", "2"])
        #expect(status == 3, "\(output)")
        #expect(try farm.run(["wait", "--coordinator", "tcp://127.0.0.1:9"]).status == 64, "usage")
    }

    @Test func theStatusOfAFarmWithManyJobsFitsInOneReply() throws {
        let farm = try FarmHarness()
        try FileManager.default.createDirectory(atPath: farm.data, withIntermediateDirectories: true)
        let records = try FarmRecords(path: farm.data + "/farm.sqlite")
        let task = PlannedTask(key: "k", kind: .render, parameters: [], request: RenderRequest(contentPath: "c", stylePaths: ["s"]),
                               dependsOn: [], outputName: "k.png")
        for _ in 0..<1500 { _ = try records.createJob(kind: "sweep", spec: Data("{}".utf8), priority: 0, tasks: [task]) }
        try farm.startCoordinator()
        let (status, output) = try farm.run(["status", "--coordinator", farm.endpoint])
        #expect(status == 0, "\(output.prefix(500))")
        #expect(output.contains("\"jobsOmitted\" : 1400"), "\(output.suffix(300))")
    }

    @Test func sigtermDrainsAWorkerWhoseTaskIsHandedBackNotFailed() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        try farm.startWorkers(1)
        let job = try farm.submitSweep(gamma: "0.5", iterations: 60)
        _ = try runningAttempt(farm)
        let worker = farm.workers[0]
        kill(worker.processIdentifier, SIGTERM)
        worker.waitUntilExit()
        #expect(worker.terminationStatus == 0, "a drained worker exits cleanly: \(farm.log("worker"))")
        try farm.startWorkers(1)
        let (status, output) = try farm.wait(job)
        #expect(status == 0, "\(output)")
        let reasons = try DatabaseQueue(path: farm.data + "/farm.sqlite").read {
            try Row.fetchAll($0, sql: "SELECT outcome, reason FROM attempt ORDER BY id").map { "\($0["outcome"] as String): \(($0["reason"] as String?) ?? "")" }
        }
        #expect(reasons.first?.hasPrefix("lost: handed back") == true && reasons.last == "succeeded: ", "\(reasons)")

        // The coordinator drains too: it exits by itself, not by the signal.
        let coordinator = try #require(farm.coordinator)
        kill(coordinator.processIdentifier, SIGTERM)
        coordinator.waitUntilExit()
        #expect(coordinator.terminationReason == .exit && coordinator.terminationStatus == 0, "\(farm.log("coordinator"))")
    }

    @Test func aWorkerStoppedWhileItLoadsItsWeightsExitsCleanly() throws {
        let farm = try FarmHarness()
        farm.endpoint = "tcp://127.0.0.1:9"
        try farm.startWorkers(1)
        let worker = farm.workers[0]
        // Signal it once it handles SIGTERM (a dispatch source takes it): before that, any
        // process dies of it, and a fixed delay is too short on a loaded machine.
        let deadline = Date().addingTimeInterval(20)
        while !Self.handles(SIGTERM, pid: worker.processIdentifier), worker.isRunning, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.005)
        }
        Thread.sleep(forTimeInterval: 0.05)   // into the weight load
        kill(worker.processIdentifier, SIGTERM)
        worker.waitUntilExit()
        #expect(worker.terminationReason == .exit && worker.terminationStatus == 0, "\(farm.log("worker"))")
    }

    /// Whether process `pid` no longer takes `signal`'s default action: it ignores or catches it
    /// (the SigIgn and SigCgt masks in /proc; libdispatch's signal sources catch it).
    static func handles(_ signal: Int32, pid: Int32) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
        return status.split(separator: "\n").contains { line in
            guard line.hasPrefix("SigIgn:") || line.hasPrefix("SigCgt:"),
                  let mask = UInt64(line.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) else { return false }
            return mask & (1 << UInt64(signal - 1)) != 0
        }
    }
}
