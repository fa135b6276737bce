public import Engine
public import Farm
public import Foundation

/// A γ sweep and/or a grid over render options, as submitted (`stylefarm submit sweep`).
public struct SweepSpec: Sendable, Codable, Equatable {
    public enum Balance: String, Sendable, Codable, CaseIterable { case off, auto }

    /// Content, styles and every fixed render option.
    public var base: RenderRequest
    /// γ values (two styles), or nil for no γ axis.
    public var gammas: [Float]?
    /// Further swept options, e.g. beta=1e3,1e4.
    public var axes: [SweepAxis]
    public var balance: Balance
    public var priority: Int
    /// The style images' file names as the submitter knew them (the paths become blob
    /// references), for legends and labels.
    public var styleNames: [String]?

    public init(base: RenderRequest, gammas: [Float]?, axes: [SweepAxis] = [], balance: Balance = .off, priority: Int = 0) {
        self.base = base
        self.gammas = gammas
        self.axes = axes
        self.balance = balance
        self.priority = priority
    }
}

/// One task of a job's DAG.
public struct PlannedTask: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case calibrate, render
        /// A tiled job's tasks (`TiledPlanner`); `stitch` runs on the coordinator itself.
        case coarse, styleTargets = "style-targets", tile, shard, stitch
    }

    public struct Parameter: Sendable, Codable, Equatable {
        public var name: String
        public var value: Float
    }

    /// Unique within the job and stable across restarts: "calibrate", or "gamma=0.3,beta=1000".
    public var key: String
    public var kind: Kind
    public var parameters: [Parameter]
    public var request: RenderRequest
    /// Keys of the tasks that must finish first (a render waits for the σ calibration).
    public var dependsOn: [String]
    /// The file this task's image is stored as in the job's folder.
    public var outputName: String
    /// What is stored and sent as the task's request when it is not `request` itself: a tiled
    /// job's work orders and its stitch plan.
    public var storedRequest: Data? = nil
    /// `TaskFootprint.pixels` of the work order `storedRequest` encodes, taken from the order
    /// itself when it is planned (never decoded again to find it).
    public var orderPixels: Int? = nil
}

extension PlannedTask {
    init(key: String, kind: Kind, parameters: [Parameter], request: RenderRequest, dependsOn: [String], outputName: String,
         order: WorkOrder) throws {
        self.init(key: key, kind: kind, parameters: parameters, request: request, dependsOn: dependsOn, outputName: outputName,
                  storedRequest: try order.encoded(), orderPixels: TaskFootprint.pixels(of: order))
    }
}

/// Turns a sweep into tasks: the Cartesian product of the γ values and every axis, each
/// point's request validated up front (a bad point refuses the whole sweep at submission), and
/// with `--balance auto` a calibration render at γ = 0.5 that every point depends on.
public enum SweepPlanner {
    public static let maximumTasks = 10_000

    /// - Parameter check: called with each point's resolved settings (the coordinator's limits).
    public static func plan(_ spec: SweepSpec, maximumTasks: Int = maximumTasks,
                            check: (RenderSettings, String) throws -> Void = { _, _ in }) throws -> [PlannedTask] {
        var axes = spec.axes
        if let gammas = spec.gammas {
            guard spec.base.stylePaths.count == 2 else {
                throw EngineError(.invalidArgument, "a γ sweep crossfades exactly two styles; \(spec.base.stylePaths.count) given")
            }
            guard !axes.contains(where: { $0.option == "gamma" }) else {
                throw EngineError(.invalidArgument, "γ is given both by --gamma and by --sweep gamma=…; give it once")
            }
            axes.insert(SweepAxis(option: "gamma", values: gammas), at: 0)
        }
        guard !axes.isEmpty else {
            throw EngineError(.invalidArgument, "a sweep needs --gamma START:STOP:STEP|LIST or at least one --sweep OPTION=VALUES")
        }
        let names = axes.map(\.option)
        guard Set(names).count == names.count else {
            throw EngineError(.invalidArgument, "an option is swept twice: \(names.prefix(20).joined(separator: ", "))")
        }
        // Names first (a made-up option is refused by name), then the point count, multiplied
        // with overflow checked: 70 axes of two values is 2⁷⁰ points, not a trap.
        for name in names where !SweepAxis.sweepable.contains(name) {
            throw EngineError(.invalidArgument, "'\(name.prefix(40))' cannot be swept; sweepable options are \(SweepAxis.sweepable.joined(separator: ", "))")
        }
        var count = 1
        for axis in axes {
            guard !axis.values.isEmpty else {
                throw EngineError(.invalidArgument, "--sweep \(axis.option) has no values; give at least one")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: axis.values.count)
            guard !overflow, product <= maximumTasks else {
                throw EngineError(.invalidArgument, "the sweep has more than \(maximumTasks) points; at most \(maximumTasks)")
            }
            count = product
        }

        var tasks: [PlannedTask] = []
        var dependsOn: [String] = []
        if spec.balance == .auto {
            guard spec.base.stylePaths.count >= 2 else {
                throw EngineError(.invalidArgument, "--balance auto balances two or more styles; \(spec.base.stylePaths.count) given")
            }
            var calibration = spec.base
            calibration.sigmas = nil
            if calibration.stylePaths.count == 2 && calibration.styleWeights == nil { calibration.gamma = 0.5 }
            try check(try calibration.resolve(), "the calibration")
            tasks.append(PlannedTask(key: "calibrate", kind: .calibrate, parameters: [], request: calibration,
                                     dependsOn: [], outputName: "calibration.png"))
            dependsOn = ["calibrate"]
        }

        for index in 0..<count {
            var remainder = index
            var parameters: [PlannedTask.Parameter] = []
            // The last axis varies fastest, so tasks come out in reading order of the grid.
            for axis in axes.reversed() {
                parameters.insert(.init(name: axis.option, value: axis.values[remainder % axis.values.count]), at: 0)
                remainder /= axis.values.count
            }
            var request = spec.base
            for p in parameters { try SweepAxis.apply(p.name, p.value, to: &request) }
            do {
                try check(try request.resolve(), "sweep point \(describe(parameters))")
            } catch let error as EngineError {
                throw EngineError(error.code, "sweep point \(describe(parameters)): \(error.message)", cause: error.cause)
            }
            tasks.append(PlannedTask(key: parameters.map { "\($0.name)=\(format($0.value))" }.joined(separator: ","),
                                     kind: .render, parameters: parameters, request: request, dependsOn: dependsOn,
                                     outputName: parameters.map { "\($0.name)-\(format($0.value))" }.joined(separator: "_") + ".png"))
        }
        return tasks
    }

    static func describe(_ parameters: [PlannedTask.Parameter]) -> String {
        parameters.map { "\($0.name) = \(format($0.value))" }.joined(separator: ", ")
    }

    /// Shortest form that reads back to the same Float: 0.3, 1000, 1e-05.
    public static func format(_ value: Float) -> String { value.shortDescription }
}

extension PlannedTask {
    /// The pixels this task renders at once (`TaskFootprint`), recorded with it so that the
    /// coordinator sends it only to a worker with the memory for it; 0 for stitches, which the
    /// coordinator runs itself.
    public var peakPixels: Int {
        if kind == .stitch { return 0 }
        return orderPixels ?? TaskFootprint.pixels(of: .render(request))
    }
}
