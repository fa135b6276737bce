import Foundation
import GRDB
import Testing
import TestSupport
@testable import Coordinator
import Engine
import Protocol

/// Tiled jobs on a real farm: coordinator and workers as processes on loopback.
@Suite(.serialized)
struct FarmTiledTests {
    /// 80×60 content at 128×96 in 64-pixel tiles: a 2×2 grid, small enough for a debug build.
    func submitTiled(_ farm: FarmHarness, iterations: Int, extra: [String] = []) throws -> String {
        let (status, output) = try farm.run(["submit", "tiled", "--coordinator", farm.endpoint, "--content", farm.samples.content,
                                             "--style", farm.samples.style1, "--size", "128", "--tile", "64", "--halo", "16",
                                             "--coarse-size", "64", "--iterations", String(iterations)] + extra)
        #expect(status == 0, "\(output)")
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aTiledJobRendersEveryTileOnceAndStitchesThem() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        try farm.startWorkers(2)
        let job = try submitTiled(farm, iterations: 3, extra: ["--bit-depth", "16"])
        let (status, output) = try farm.wait(job)
        #expect(status == 0, "\(output)\n\(farm.log("coordinator"))")

        let folder = farm.data + "/jobs/" + job
        let all = try farm.attempts()
        let tiles = ["tile-r0-c0", "tile-r0-c1", "tile-r1-c0", "tile-r1-c1"]
        #expect(all.filter { $0.outcome == "succeeded" }.map(\.key).sorted() == (["coarse", "stitch", "style-targets"] + tiles).sorted(),
                "every task once: \(all)")

        // The output is the stored tiles blended by the grid the job was cut by.
        let grid = try TileGrid(width: 128, height: 96, tileSize: 64, halo: 16, alignment: 16)
        let sink = MemoryRows(width: 128)
        let stitcher = try BandStitcher(grid: grid, sink: sink)
        for tile in grid.tiles {
            let window = try ImageFile.read(path: folder + "/tiles/\(tile.position.key).png")
            #expect(window.width == tile.window.width && window.height == tile.window.height)
            try stitcher.add(window, at: tile.position)
        }
        let stitched = try ImageFile.read(path: folder + "/output.png")
        #expect(stitched.width == 128 && stitched.height == 96)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "/output.png")))
        #expect(bytes[24] == 16, "a 16-bit PNG was asked for")
        let difference = zip(stitched.pixels, sink.rows).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference <= 0.01, "output.png differs from the tiles stitched here by \(difference)")

        // Records: each tile's loss lines in losses.csv, every task in job.json.
        let csv = try String(contentsOfFile: folder + "/losses.csv", encoding: .utf8)
        for key in ["coarse"] + tiles { #expect(csv.contains("\n\(key),"), "losses.csv has \(key)'s lines") }
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/job.json"))) as? [String: Any]
        #expect((manifest?["tasks"] as? [Any])?.count == 7)
        #expect(FileManager.default.fileExists(atPath: folder + "/style-targets.grams"))

        // The page: the output (small: no preview), the coarse pass, each tile and its curves.
        let page = try String(contentsOfFile: folder + "/index.html", encoding: .utf8)
        let links = FarmHarness.localLinks(in: page)
        for link in links { #expect(FileManager.default.fileExists(atPath: folder + "/" + link), "index.html links to \(link), which is missing") }
        for file in ["output.png", "coarse.png", "losses/coarse.svg", "job.json"] + tiles.flatMap({ ["tiles/\($0).png", "losses/\($0).svg"] }) {
            #expect(links.contains(file), "index.html links \(file)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder + "/preview.png"), "a 128×96 output is its own preview")

        // The status document gives the finished grid as state codes; watch draws it.
        let statusText = try farm.run(["status", job, "--coordinator", farm.endpoint]).output
        #expect(statusText.contains("\"dd\""), "\(statusText)")
        let watched = try farm.run(["watch", job, "--coordinator", farm.endpoint]).output
        #expect(watched.contains("  ██\n  ██"), "\(watched)")
    }

    @Test func aWorkerKilledDuringTheTilesCostsOnlyItsTile() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        try farm.startWorkers(2)
        let job = try submitTiled(farm, iterations: 40)
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline,
              try farm.attempts().filter({ $0.outcome == "running" && $0.key.hasPrefix("tile-") }).count < 2 {
            Thread.sleep(forTimeInterval: 0.05)
        }
        farm.kill9(farm.workers[0])
        let (status, output) = try farm.wait(job)
        #expect(status == 0, "\(output)\n\(farm.log("coordinator"))")
        let all = try farm.attempts()
        #expect(all.contains { $0.outcome == "lost" && $0.key.hasPrefix("tile-") }, "the killed worker's tile was lost: \(all)")
        for key in ["coarse", "style-targets", "tile-r0-c0", "tile-r0-c1", "tile-r1-c0", "tile-r1-c1", "stitch"] {
            #expect(all.filter { $0.key == key && $0.outcome == "succeeded" }.count == 1, "\(key) succeeded once: \(all)")
        }
        #expect(all.filter { $0.key == "coarse" || $0.key == "style-targets" }.count == 2, "finished work is not redone: \(all)")
        let stitched = try ImageFile.read(path: farm.data + "/jobs/\(job)/output.png")
        #expect(stitched.width == 128 && stitched.height == 96)
    }

    /// Independent tiles on real images: the stitched output's seam score stays within 0.15 of
    /// its coarse pass's (resized to the output, seamless by construction). A fixed bound such
    /// as the issue's 1.15 at 1024 px needs many borders (scripts/tiled-study.sh measures it);
    /// 256 px in 64-pixel tiles has 17, and seamless images score 1.0–1.2 on so few.
    @Test func independentTilesAddNoSeamsToTheirCoarsePass() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        try farm.startWorkers(2)
        let (submitted, output) = try farm.run(["submit", "tiled", "--coordinator", farm.endpoint,
                                                "--content", try SharedImages.path("tubingen.jpg"),
                                                "--style", try SharedImages.path("starry_night.jpg"), "--size", "256", "--tile", "64",
                                                "--halo", "16", "--coarse-size", "128", "--iterations", "8"])
        #expect(submitted == 0, "\(output)")
        let job = output.trimmingCharacters(in: .whitespacesAndNewlines)
        let (status, waited) = try farm.wait(job)
        #expect(status == 0, "\(waited)\n\(farm.log("coordinator"))")
        let tiled = try ImageFile.read(path: farm.data + "/jobs/\(job)/output.png")
        let coarse = Resampler.resize(try ImageFile.read(path: farm.data + "/jobs/\(job)/coarse.png"),
                                      width: tiled.width, height: tiled.height, filter: .bilinear)
        let seams = try SeamScore.measure(tiled, tileSize: 64).score, reference = try SeamScore.measure(coarse, tileSize: 64).score
        #expect(seams <= reference + 0.15, "seam score \(seams); the coarse pass scores \(reference)")
    }

    /// Options shared by the exact job and the whole-image render it must match.
    func exactOptions(_ farm: FarmHarness, iterations: Int) -> [String] {
        ["--content", farm.samples.content, "--style", farm.samples.style1, "--init", "content", "--optimizer", "adam", "--lr", "1",
         "--iterations", String(iterations), "--style-layers", "block1_relu1,block2_relu1", "--size", "128"]
    }

    @Test(arguments: ["wide-halo", "gradient-exchange"])
    func anExactJobAcrossTwoWorkersMatchesAWholeImageRender(scheme: String) throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        try farm.startWorkers(2)
        let (submitted, job) = try farm.run(["submit", "tiled", "--coordinator", farm.endpoint, "--tile", "64", "--mode", "exact", "--exact-scheme", scheme,
                                             "--shards", "2", "--bit-depth", "16"] + exactOptions(farm, iterations: 6))
        #expect(submitted == 0, "\(job)")
        let (status, output) = try farm.wait(job.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(status == 0, "\(output)\n\(farm.log("coordinator"))")
        let whole = farm.dir.path("whole.png")
        let rendered = try farm.run(["render", "--threads", "1", "--bit-depth", "16", "--out", whole] + exactOptions(farm, iterations: 6))
        #expect(rendered.status == 0, "\(rendered.output)")

        let tiled = try ImageFile.read(path: farm.data + "/jobs/\(job.trimmingCharacters(in: .whitespacesAndNewlines))/output.png")
        let reference = try ImageFile.read(path: whole)
        #expect(tiled.width == reference.width && tiled.height == reference.height)
        // Both stored as 16 bits; the issue's bound is 2/255 after 50 steps, this is 6 (see
        // scripts/exact-vs-render.sh for 256² and 50 steps in a release build).
        let difference = zip(tiled.pixels, reference.pixels).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference <= 0.1, "exact tiled output differs from the whole-image render by \(difference)/255")
        // Shards that used stale or misplaced edge rows would leave steps along the borders.
        let seams = try SeamScore.measure(tiled, tileSize: 64).score, wholeSeams = try SeamScore.measure(reference, tileSize: 64).score
        #expect(abs(seams - wholeSeams) <= 0.05, "seam score \(seams) against \(wholeSeams) for the whole-image render")
        let all = try farm.attempts()
        #expect(all.filter { $0.key.hasPrefix("shard-") && $0.outcome == "succeeded" }.count == 2, "\(all)")
        // job.json says how the shards ran (the scheme asked for, its halo, the estimates).
        let folder = farm.data + "/jobs/" + job.trimmingCharacters(in: .whitespacesAndNewlines)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/job.json"))) as? [String: Any]
        let exact = manifest?["exact"] as? [String: Any]
        #expect(exact?["scheme"] as? String == scheme && exact?["shards"] as? Int == 2 && exact?["checkpointEvery"] as? Int == 10, "\(exact ?? [:])")
        #expect((exact?["halo"] as? Int ?? 0) > 0 && (exact?["estimatedWindowPixels"] as? [String: Int])?.count == 2, "\(exact ?? [:])")
    }

    /// L-BFGS across two shards is `render --optimizer lbfgs` up to rounding. The first
    /// iteration agrees to 1e-6; after it, L-BFGS amplifies the rounding of the sums' order the
    /// way it amplifies a different thread count in the render (a factor of about 2 per
    /// iteration, then an Armijo step halved in one run and not the other). Measured here:
    /// 0.64 % after 20. At 256 px with the default preset and four styles (`STYLE=…
    /// OPTIMIZER=lbfgs scripts/exact-vs-render.sh 256 128 20`) the exact job ends 0.045–3.8 %
    /// from the render, and the render with 2 threads 0.10–4.1 % from itself with 1.
    @Test func exactLBFGSAcrossTwoWorkersReachesTheWholeImageRendersLoss() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        try farm.startWorkers(2)
        var options = exactOptions(farm, iterations: 20)
        options[options.firstIndex(of: "adam")!] = "lbfgs"
        let (submitted, output) = try farm.run(["submit", "tiled", "--coordinator", farm.endpoint, "--tile", "64", "--mode", "exact",
                                                "--shards", "2"] + options)
        #expect(submitted == 0, "\(output)")
        let job = output.trimmingCharacters(in: .whitespacesAndNewlines)
        let (status, waited) = try farm.wait(job)
        #expect(status == 0, "\(waited)\n\(farm.log("coordinator"))")
        let summaryPath = farm.dir.path("whole.json")
        let logPath = farm.dir.path("whole.csv")
        let rendered = try farm.run(["render", "--threads", "1", "--out", farm.dir.path("whole.png"), "--summary", summaryPath, "--log", logPath] + options)
        #expect(rendered.status == 0, "\(rendered.output)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: summaryPath))) as? [String: Any]
        let render = (summary?["render"] as? [String: Any]) ?? summary
        let wholeLoss = try #require(((render?["final_losses"] ?? render?["finalLosses"]) as? [String: Any])?["total"] as? Double, "\(summary ?? [:])")

        let db = try DatabaseQueue(path: farm.data + "/farm.sqlite")
        let finals = try db.read { db in
            try Double.fetchAll(db, sql: """
                SELECT l.total FROM loss_line l JOIN attempt a ON a.id = l.attempt_id JOIN task t ON t.id = a.task_id
                WHERE t.job_id = ? AND t.kind = 'shard' AND a.outcome = 'succeeded'
                  AND l.iteration = (SELECT MAX(iteration) FROM loss_line WHERE attempt_id = a.id)
                """, arguments: [job])
        }
        let firstIteration = try db.read { db in
            try Double.fetchOne(db, sql: """
                SELECT l.total FROM loss_line l JOIN attempt a ON a.id = l.attempt_id JOIN task t ON t.id = a.task_id
                WHERE t.job_id = ? AND t.key = 'shard-1' AND a.outcome = 'succeeded' AND l.iteration = 1
                """, arguments: [job])
        }
        // The render's log: "iteration,total,…", iteration 1 on the third line.
        let logLines = try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n")
        let renderFirst = try #require(logLines.dropFirst(2).first.flatMap { Double($0.split(separator: ",")[1]) })
        let exactFirst = try #require(firstIteration)
        #expect(abs(exactFirst - renderFirst) <= 1e-6 * renderFirst, "iteration 1: exact \(exactFirst), render \(renderFirst)")
        #expect(finals.count == 2 && finals[0] == finals[1], "both shards report the one global loss: \(finals)")
        let exactLoss = try #require(finals.first)
        #expect(abs(exactLoss - wholeLoss) <= 1e-2 * wholeLoss, "exact L-BFGS ends at \(exactLoss), the render at \(wholeLoss)")
    }

    @Test func anExactJobWhoseWorkerDiesRestartsItsShardsTogether() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        try farm.startWorkers(3)
        let (submitted, output) = try farm.run(["submit", "tiled", "--coordinator", farm.endpoint, "--tile", "64", "--mode", "exact", "--exact-scheme", "wide-halo",
                                                "--shards", "2"] + exactOptions(farm, iterations: 30))
        #expect(submitted == 0, "\(output)")
        let job = output.trimmingCharacters(in: .whitespacesAndNewlines)
        let db = try DatabaseQueue(path: farm.data + "/farm.sqlite")
        var victim: String?
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, victim == nil {
            // A shard that has logged a few steps: the gang is exchanging.
            victim = try db.read { db in
                try String.fetchOne(db, sql: """
                    SELECT a.worker_id FROM attempt a JOIN task t ON t.id = a.task_id
                    WHERE t.kind = 'shard' AND a.outcome = 'running'
                      AND (SELECT COUNT(*) FROM loss_line l WHERE l.attempt_id = a.id) >= 3 LIMIT 1
                    """)
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        // Worker ids are "<name>-<peer>", and the harness names workers w0, w1, …
        let victimID = try #require(victim)
        let index = try #require(Int(victimID.split(separator: "-")[0].dropFirst()))
        farm.kill9(farm.workers[index])
        let (status, waited) = try farm.wait(job)
        #expect(status == 0, "\(waited)\n\(farm.log("coordinator"))")
        let all = try farm.attempts()
        #expect(all.contains { $0.key.hasPrefix("shard-") && $0.outcome == "lost" }, "\(all)")
        #expect(all.filter { $0.key.hasPrefix("shard-") && $0.outcome == "succeeded" }.count == 2, "\(all)")
        #expect(all.filter { $0.key == "style-targets" }.count == 1, "finished work is not redone: \(all)")
    }

    @Test func aTiledJobTheFarmCannotRenderIsRefusedWithAReason() throws {
        let farm = try FarmHarness()
        try farm.startCoordinator()
        let cases: [([String], String)] = [
            (["--size", "128", "--tile", "100"], "multiple of 16"),
            (["--size", "128", "--tile", "64", "--mask", farm.samples.style2], "masks"),
            (["--size", "64x0", "--tile", "64"], "out of range"),
            (["--size", "128", "--tile", "64", "--mode", "exact", "--shards", "3"], "--shards 3 must be 1…2"),
            (["--size", "128", "--tile", "64", "--mode", "exact", "--exact-scheme", "sideways"], "sideways"),
            (["--size", "128", "--tile", "64", "--mode", "exact", "--checkpoint-every", "-1"], "--checkpoint-every"),
        ]
        for (arguments, reason) in cases {
            let (status, output) = try farm.run(["submit", "tiled", "--coordinator", farm.endpoint, "--content", farm.samples.content,
                                                 "--style", farm.samples.style1] + arguments)
            #expect(status != 0 && output.contains(reason), "\(arguments): \(output)")
        }
        #expect(try farm.run(["status", "--coordinator", farm.endpoint]).status == 0, "the coordinator keeps serving")
    }
}

/// Collects stitched rows in memory.
final class MemoryRows: ImageRowSink {
    let width: Int
    var rows: [Float] = []

    init(width: Int) { self.width = width }

    func write(row: UnsafeBufferPointer<Float>) throws(EngineError) { rows += row }
}
