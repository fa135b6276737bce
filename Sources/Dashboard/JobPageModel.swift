import Coordinator
import Engine
import Farm
import Foundation
import Protocol
import Synchronization

/// Everything a job's page shows, read from the records (and the loop's live previews) at one
/// moment: the status the CLI sees, each task with its parameters and results, the running
/// attempts' loss logs, and for a tiled job where each tile goes in the picture.
struct JobPageModel: Sendable {
    struct Task: Sendable {
        var index: Int
        var key: String
        var kind: String
        var state: String
        var attempts: Int
        /// Sweep points: γ, style weights and swept options.
        var parameters: [PlannedTask.Parameter]
        /// The output file, relative to the job's folder, once it exists.
        var output: String?
        var finalLosses: LossBreakdown?
        var relativeImprovement: [Double]?
        var running: Running?
    }

    /// A task rendering now.
    struct Running: Sendable {
        var attemptID: Int64
        var worker: String
        var iteration: Int
        var iterations: Int
        var elapsed: Double
        var lines: [LossLine]
        /// The iteration of the latest live preview the worker sent, if any.
        var previewIteration: Int?
    }

    /// A tiled job's picture: tiles placed by their interiors, or exact shards' bands in order.
    struct Picture: Sendable {
        var width: Int
        var height: Int
        var tiles: [PlacedTile]
        /// Exact mode: the bands are whole-width, stacked top to bottom.
        var exact: Bool
    }

    struct PlacedTile: Sendable {
        var key: String
        var interior: PixelRect
        var window: PixelRect
    }

    var status: JobStatus
    var tasks: [Task]
    var styleNames: [String]
    /// Whether the sweep crossfades γ (and so has an RI-vs-γ plot).
    var sweepsGamma: Bool
    var picture: Picture?
    /// Estimated seconds to the job's end, from its finished attempts' mean duration.
    var etaSeconds: Double?
    var directory: String

    /// Loss lines kept per running attempt for its plot.
    static let plottedLines = 400
    /// Running tasks whose loss curves a page draws.
    static let plottedTasks = 8
    /// Tasks a page shows at most (the first ones; the counts cover them all), so that a
    /// 20 000-point sweep costs a page what a 1 000-point one does.
    static let shownTasks = 1000

    static func load(jobID: String, service: CoordinatorService, plans: PlanCache) throws -> JobPageModel? {
        guard let status = try service.statusDocument(StatusQuery(jobID: jobID)).jobs.first else { return nil }
        return try load(jobID: jobID, status: status, service: service, plans: plans)
    }

    /// The page for a status already read.
    static func load(jobID: String, status: JobStatus, service: CoordinatorService, plans: PlanCache) throws -> JobPageModel? {
        let records = service.records
        let stored = try records.dashboardTasks(ofJob: jobID, limit: shownTasks)
        let running = Dictionary(status.running.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let plan = try plans.plan(jobID: jobID, kind: status.kind, records: records)
        let directory = status.directory
        let previews = Dictionary(service.livePreviews(job: jobID).map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        var tasks: [Task] = []
        var plotted = 0
        for (index, task) in stored.enumerated() {
            let summary = task.result.flatMap { plans.summary(jobID: jobID, key: task.key, result: $0) }
            var live: Running? = nil
            if task.state == TaskState.leased.rawValue, let attempt = task.currentAttempt, let progress = running[task.key] {
                // The loss logs of the first few running tasks only: a farm of 200 workers on
                // one job would otherwise read 200 logs and draw 200 plots every second.
                plotted += 1
                let lines = plotted <= plottedTasks ? try records.lossLines(ofAttempt: attempt, limit: plottedLines) : []
                live = Running(attemptID: attempt, worker: progress.worker, iteration: progress.iteration, iterations: progress.iterations,
                               elapsed: progress.elapsed, lines: lines,
                               previewIteration: previews[task.key].flatMap { $0.attemptID == attempt ? $0.iteration : nil })
            }
            tasks.append(Task(index: index, key: task.key, kind: task.kind, state: task.state, attempts: task.attempts,
                              parameters: plan.parameters[task.key] ?? [],
                              output: task.state == TaskState.done.rawValue ? task.outputPath.flatMap { relative($0, to: directory) } : nil,
                              finalLosses: summary?.losses, relativeImprovement: summary?.ri, running: live))
        }
        var picture: Picture? = nil
        if status.kind == "tiled", let data = try records.taskRequest(TiledPlanner.stitchKey, ofJob: jobID),
           let stitch = try? JSONDecoder().decode(StitchPlan.self, from: data) {
            picture = Self.picture(stitch)
        }
        return JobPageModel(status: status, tasks: tasks, styleNames: plan.styleNames, sweepsGamma: plan.sweepsGamma, picture: picture,
                            etaSeconds: try eta(jobID: jobID, status: status, records: records), directory: directory)
    }

    static func picture(_ stitch: StitchPlan) -> Picture? {
        if let bands = stitch.bands {
            let rect = PixelRect(x: 0, y: 0, width: stitch.width, height: stitch.height)
            return Picture(width: stitch.width, height: stitch.height, tiles: bands.map { PlacedTile(key: $0, interior: rect, window: rect) },
                           exact: true)
        }
        guard let grid = try? stitch.grid() else { return nil }
        return Picture(width: stitch.width, height: stitch.height,
                       tiles: grid.tiles.map { PlacedTile(key: $0.position.key, interior: $0.interior, window: $0.window) }, exact: false)
    }

    /// Remaining work over the job's recent pace: the tasks not started take the mean attempt
    /// time each, running ones what is left of it, and they share the workers now rendering.
    /// From the status alone, so that the farm page can afford it for every job.
    static func eta(status: JobStatus, meanSeconds: Double?) -> Double? {
        guard status.state.isActive, let mean = meanSeconds, mean > 0 else { return nil }
        let runningLeft = status.running.reduce(0.0) { sum, running in
            let fraction = running.iterations > 0 ? min(1, Double(running.iteration) / Double(running.iterations)) : 0
            return sum + (1 - fraction) * mean
        }
        let lanes = max(1, status.running.count)
        return (Double(status.count(.ready)) * mean + runningLeft) / Double(lanes)
    }

    static func eta(jobID: String, status: JobStatus, records: FarmRecords) throws -> Double? {
        guard status.state.isActive else { return nil }
        let durations = try records.succeededAttemptDurations(ofJob: jobID)
        return eta(status: status, meanSeconds: durations.count > 0 ? durations.meanSeconds : nil)
    }

    /// `path` relative to `directory`, or nil when it lies elsewhere.
    static func relative(_ path: String, to directory: String) -> String? {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : nil
    }
}

/// What a job's spec says that never changes (each sweep point's parameters, the style names),
/// planned once per job rather than at every page update. Bounded: the oldest entries go first.
final class PlanCache: Sendable {
    struct Plan: Sendable {
        var parameters: [String: [PlannedTask.Parameter]]
        var styleNames: [String]
        var sweepsGamma: Bool
    }

    /// A finished task's final losses and RIᵢ: its stored result never changes once done.
    struct Summary: Sendable {
        var losses: LossBreakdown
        var ri: [Double]
    }

    private let plans = Mutex<(byJob: [String: Plan], order: [String])>(([:], []))
    private let summaries = Mutex<[String: [String: Summary]]>([:])
    let capacity: Int

    init(capacity: Int = 64) { self.capacity = max(1, capacity) }

    func plan(jobID: String, kind: String, records: FarmRecords) throws -> Plan {
        if let known = plans.withLock({ $0.byJob[jobID] }) { return known }
        let plan = try Self.make(kind: kind, spec: try records.jobSpec(jobID))
        plans.withLock { cache in
            if cache.byJob.updateValue(plan, forKey: jobID) == nil { cache.order.append(jobID) }
            while cache.order.count > capacity {
                let evicted = cache.order.removeFirst()
                cache.byJob[evicted] = nil
                summaries.withLock { $0[evicted] = nil }
            }
        }
        return plan
    }

    /// `result` decoded once per job and task (for the jobs whose plans are kept).
    func summary(jobID: String, key: String, result: Data) -> Summary? {
        if let known = summaries.withLock({ $0[jobID]?[key] }) { return known }
        guard let decoded = try? JSONDecoder().decode(RenderSummary.self, from: result) else { return nil }
        let summary = Summary(losses: decoded.finalLosses, ri: decoded.relativeImprovement)
        // Only for a job whose plan is kept (evicting the plan drops these); the locks are
        // taken one after the other, never one inside the other in this order.
        guard plans.withLock({ $0.byJob[jobID] != nil }) else { return summary }
        summaries.withLock { $0[jobID, default: [:]][key] = summary }
        return summary
    }

    static func make(kind: String, spec data: Data?) throws -> Plan {
        guard let data, kind == "tiled" || kind == "sweep" else { return Plan(parameters: [:], styleNames: [], sweepsGamma: false) }
        if kind == "tiled" {
            let spec = try JSONDecoder().decode(TiledSpec.self, from: data)
            return Plan(parameters: [:], styleNames: names(spec.styleNames, count: spec.base.stylePaths.count), sweepsGamma: false)
        }
        let spec = try JSONDecoder().decode(SweepSpec.self, from: data)
        let planned = try SweepPlanner.plan(spec, maximumTasks: .max)   // accepted under the coordinator's limit
        return Plan(parameters: Dictionary(planned.map { ($0.key, $0.parameters) }, uniquingKeysWith: { a, _ in a }),
                    styleNames: names(spec.styleNames, count: spec.base.stylePaths.count), sweepsGamma: spec.gammas != nil)
    }

    static func names(_ given: [String]?, count: Int) -> [String] {
        (0..<count).map { i in given.flatMap { i < $0.count ? $0[i] : nil } ?? "style \(i + 1)" }
    }
}
