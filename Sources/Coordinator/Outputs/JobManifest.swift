public import Engine
public import Foundation
public import Protocol

/// `job.json`: what a job was and how to re-render any of its points on one machine — the
/// submitted spec, when it ran, with which StyleFarm and weights, and per task its parameters,
/// output, final losses, relative improvements and a `stylefarm render …` command line.
public struct JobManifest: Sendable, Codable, Equatable {
    public struct Task: Sendable, Codable, Equatable {
        public var key: String
        /// Swept parameters in sweep order, e.g. [gamma = 0.3, beta = 1000].
        public var parameters: [PlannedTask.Parameter]
        /// The image's file name in the job's folder.
        public var output: String
        /// Nil while the task has not finished (a failed or cancelled job).
        public var finalLosses: LossBreakdown?
        public var relativeImprovement: [Double]?
        /// The balancing factors σ the task rendered with (from the calibration under `--balance auto`).
        public var sigmas: [Float]?
        /// Re-renders this point on one machine, writing `output` in the current folder.
        public var command: String

        public init(key: String, parameters: [PlannedTask.Parameter], output: String, finalLosses: LossBreakdown?,
                    relativeImprovement: [Double]?, command: String) {
            self.key = key
            self.parameters = parameters
            self.output = output
            self.finalLosses = finalLosses
            self.relativeImprovement = relativeImprovement
            self.sigmas = nil
            self.command = command
        }

        /// The entry of a planned task, with the summary of its render when it has one.
        public init(task: PlannedTask, summary: RenderSummary?, executable: String = "stylefarm") {
            self.init(key: task.key, parameters: task.parameters, output: task.outputName,
                      finalLosses: summary?.finalLosses, relativeImprovement: summary?.relativeImprovement,
                      command: RenderCommandLine.shellCommand(for: summary.map { Self.withSigmas(task.request, $0) } ?? task.request,
                                                              output: task.outputName, executable: executable))
            sigmas = summary?.settings.sigmas
        }

        /// The request with the σ it was rendered with, so that the command re-renders that image.
        static func withSigmas(_ request: RenderRequest, _ summary: RenderSummary) -> RenderRequest {
            var request = request
            if summary.settings.sigmas.contains(where: { $0 != 1 }) { request.sigmas = summary.settings.sigmas }
            return request
        }
    }

    public var jobID: String
    public var kind: String
    /// The spec as submitted, as a JSON object.
    public var spec: JSONValue
    public var createdAt: Date
    public var finishedAt: Date?
    public var styleFarmVersion: String
    /// sha256 of the VGG-19 weights the workers rendered with; nil when unknown.
    public var weightsSHA256: String?
    public var tasks: [Task]

    public init(jobID: String, kind: String, spec: JSONValue, createdAt: Date, finishedAt: Date?,
                styleFarmVersion: String, weightsSHA256: String?, tasks: [Task]) {
        self.jobID = jobID
        self.kind = kind
        self.spec = spec
        self.createdAt = createdAt
        self.finishedAt = finishedAt
        self.styleFarmVersion = styleFarmVersion
        self.weightsSHA256 = weightsSHA256
        self.tasks = tasks
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", kind, spec, createdAt = "created_at", finishedAt = "finished_at"
        case styleFarmVersion = "stylefarm_version", weightsSHA256 = "weights_sha256", tasks
    }

    /// Pretty-printed JSON with sorted keys and ISO 8601 times, so that two manifests diff well.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        do {
            return try encoder.encode(self)
        } catch {
            throw EngineError(.invalidArgument, "cannot encode the manifest of job \(jobID)", cause: "\(error)")
        }
    }

    public static func decode(_ data: Data) throws -> JobManifest {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(JobManifest.self, from: data)
        } catch {
            throw EngineError(.invalidArgument, "not a StyleFarm job manifest (job.json)", cause: "\(error)")
        }
    }

    /// Writes `job.json` atomically (a reader never sees half a file).
    public func write(to path: String) throws {
        // Durable (fsync, then rename): a job is succeeded only once its manifest is on disk.
        try FileBytes.writeAtomically([UInt8](try encoded()), to: path, what: "the job manifest '\(path)'")
    }
}
