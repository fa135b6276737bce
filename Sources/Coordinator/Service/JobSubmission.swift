public import Engine
public import Foundation
public import Protocol
public import Farm

/// A client's submission: the spec travels as JSON with `blob:<sha256>` image references, the
/// images as binary frames. Everything is checked before anything is stored: every image is a
/// blob that was sent (or is already held) and whose header is a PNG or JPEG within the pixel
/// limit, every number is finite and within the coordinator's limits (all arithmetic checked),
/// and the job has at least one task and at most `limits.maxTasks`.
public enum JobSubmission {
    /// Why a submission was refused: answered as an `invalid-job` error, nothing stored.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
        init(_ message: String) { self.message = message }
    }

    /// - Parameter capacity: the workers an exact job's shards are sized for.
    public static func accept(_ submit: SubmitJob, records: FarmRecords, blobs: BlobStore,
                              limits: JobLimits = JobLimits(), capacity: ExactCapacity = .unknown) throws -> String {
        let job = try validate(submit, blobs: blobs, limits: limits, capacity: capacity)
        // Only now, with the job known good, are its images stored (already hashed and checked).
        for (sha256, bytes) in job.images {
            try blobs.store(bytes, verifiedDigest: sha256)
        }
        return try records.createJob(kind: job.kind, spec: job.spec, priority: submit.priority, tasks: job.tasks)
    }

    /// A validated job, ready to be recorded.
    struct Planned {
        var kind: String
        var spec: Data
        var tasks: [PlannedTask]
        /// The images sent with the job, by their checked digests.
        var images: [String: [UInt8]]
    }

    static func validate(_ submit: SubmitJob, blobs: BlobStore, limits: JobLimits, capacity: ExactCapacity = .unknown) throws -> Planned {
        guard (-1_000_000...1_000_000).contains(submit.priority) else { throw Refusal("priority \(submit.priority) is out of range ±1000000") }
        // The images sent with the job, by digest; each must be named by the spec.
        var sent: [String: [UInt8]] = [:]
        for (digest, bytes) in zip(submit.blobs, submit.blobData) {
            let data = [UInt8](bytes)
            guard BlobStore.hash(data) == digest.hex else {
                throw Refusal("blob \(digest.hex) arrived with another sha256; it was corrupted in transit")
            }
            sent[digest.hex] = data
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        do {
            switch submit.kind ?? "sweep" {
            case "sweep":
                let spec: SweepSpec
                do { spec = try submit.spec.decodeStrictly(SweepSpec.self) } catch { throw Refusal("the job spec is not a sweep: \(error)") }
                var base = spec.base
                _ = try checkImages(of: &base, sent: sent, blobs: blobs, limits: limits)
                var checked = spec
                checked.base = base
                try checkNumbers(checked, limits: limits)
                let tasks = try SweepPlanner.plan(checked, maximumTasks: limits.maxTasks) { settings, what in
                    try checkTask(settings, limits: limits, what: what)
                }
                return Planned(kind: "sweep", spec: try encoder.encode(checked), tasks: tasks, images: sent)
            case "tiled":
                let spec: TiledSpec
                do { spec = try submit.spec.decodeStrictly(TiledSpec.self) } catch { throw Refusal("the job spec is not a tiled render: \(error)") }
                var base = spec.base
                let content = try checkImages(of: &base, sent: sent, blobs: blobs, limits: limits)
                var checked = spec
                checked.base = base
                try checkNumbers(checked, limits: limits)
                let tasks = try TiledPlanner.plan(checked, contentWidth: content.width, contentHeight: content.height,
                                                  maximumTiles: limits.maxTasks, capacity: capacity)
                for task in tasks where task.kind == .coarse { try checkTask(try task.request.resolve(), limits: limits, what: "the coarse pass") }
                return Planned(kind: "tiled", spec: try encoder.encode(checked), tasks: tasks, images: sent)
            case let other:
                throw Refusal("unknown job kind '\(other.prefix(40))'; this coordinator plans sweep and tiled jobs")
            }
        } catch let error as EngineError {
            throw Refusal(error.message)
        }
    }

    /// Every image the request names must be a blob reference, sent with the job or already
    /// held, whose header is a PNG or JPEG within the input pixel limit. The client's
    /// `maxPixels` is capped at the coordinator's. Returns the content's header.
    static func checkImages(of request: inout RenderRequest, sent: [String: [UInt8]], blobs: BlobStore,
                            limits: JobLimits) throws -> ImageHeader {
        request.maxPixels = min(request.maxPixels ?? limits.maxInputPixels, limits.maxInputPixels)
        guard request.maxPixels ?? 0 >= 1 else { throw Refusal("maxPixels must be positive") }
        func header(_ reference: String, role: String) throws -> ImageHeader {
            guard let blob = BlobReference(reference) else {
                throw Refusal("the \(role) is named '\(reference.prefix(80))'; a job names its images only as blob:<sha256> references to images sent with it")
            }
            let bytes: [UInt8]
            if let data = sent[blob.sha256] {
                bytes = data
            } else if let held = try? blobs.read(blob.sha256, maxBytes: 1 << 30) {
                bytes = held
            } else {
                throw Refusal("the \(role) refers to image \(blob), which was not sent with the job")
            }
            do {
                return try ImageHeader.read(bytes, name: role, maxPixels: limits.maxInputPixels)
            } catch let error as EngineError {
                throw Refusal(error.message)
            }
        }
        let content = try header(request.contentPath, role: "content image")
        guard !request.stylePaths.isEmpty, request.stylePaths.count <= 16 else {
            throw Refusal("a job has 1–16 style images; \(request.stylePaths.count) given")
        }
        for (i, style) in request.stylePaths.enumerated() { _ = try header(style, role: "style image \(i + 1)") }
        for (i, mask) in (request.maskPaths ?? []).enumerated() where mask != RenderRequest.noMask {
            _ = try header(mask, role: "mask \(i + 1)")
        }
        if let initialization = request.initialization, !["content", "noise", "style"].contains(initialization) {
            _ = try header(initialization, role: "initial image")
        }
        return content
    }

    /// The numbers a spec gives beside the base request's.
    static func checkNumbers(_ spec: SweepSpec, limits: JobLimits) throws {
        // Empty axes and the point count (with overflow checked) are the planner's to refuse.
        guard spec.axes.count <= 8 else { throw Refusal("a sweep has at most 8 axes; \(spec.axes.count) given") }
        for value in spec.axes.flatMap(\.values) + (spec.gammas ?? []) where !value.isFinite {
            throw Refusal("swept values must be finite numbers (got \(value))")
        }
        try checkRequestNumbers(spec.base, limits: limits)
    }

    static func checkNumbers(_ spec: TiledSpec, limits: JobLimits) throws {
        var base = spec.base
        if spec.mode == .exact, let sizes = base.scaleSizes {
            // An exact job's stages are rendered in shards, as large as its output may be.
            for size in sizes where !(16...TileGrid.maxSide).contains(size) {
                throw Refusal("--scale-sizes must be 16…\(TileGrid.maxSide) (got \(size))")
            }
            base.scaleSizes = nil
        }
        try checkRequestNumbers(base, limits: limits)
        let halo = spec.halo ?? TiledPlanner.halo(spec)
        guard (64...65_536).contains(spec.tile), (0...spec.tile).contains(halo) else {
            throw Refusal("--tile must be 64…65536 and --halo 0…tile (got tile \(spec.tile), halo \(halo))")
        }
        let window = spec.tile + 2 * halo
        guard window * window <= limits.maxTaskPixels else {
            throw Refusal("a tile's window is \(window)×\(window) pixels, over the \(limits.maxTaskPixels) a task may render (--max-pixels); use a smaller --tile")
        }
        if let coarse = spec.coarseSize, !(16...65_536).contains(coarse) || coarse * coarse > limits.maxTaskPixels {
            throw Refusal("--coarse-size \(coarse) is out of range 16…\(Int(Double(limits.maxTaskPixels).squareRoot()))")
        }
        if let iterations = spec.coarseIterations, !(1...limits.maxIterations).contains(iterations) {
            throw Refusal("--coarse-iterations must be 1…\(limits.maxIterations) (got \(iterations))")
        }
        if let shards = spec.shards, !(1...64).contains(shards) { throw Refusal("--shards must be 1…64 or auto (got \(shards))") }
        if let memory = spec.workerMemory, !((128 << 20)...(1 << 50)).contains(memory) {
            throw Refusal("--worker-memory must be 128M…1P (got \(memory) bytes)")
        }
        if let sizes = spec.base.scaleSizes, spec.mode == .exact, sizes.count > TiledPlanner.maximumExactStages {
            throw Refusal("--scale-sizes gives \(sizes.count) stages; an exact job has at most \(TiledPlanner.maximumExactStages)")
        }
        if let every = spec.checkpointEvery, !(0...limits.maxIterations).contains(every) {
            throw Refusal("--checkpoint-every must be 0 (no checkpoints) … \(limits.maxIterations) (got \(every))")
        }
    }

    /// Integers of a request within the coordinator's limits (what `resolve()` cannot know).
    static func checkRequestNumbers(_ r: RenderRequest, limits: JobLimits) throws {
        func within(_ value: Int?, _ range: ClosedRange<Int>, _ option: String) throws {
            if let value, !range.contains(value) { throw Refusal("\(option) must be \(range.lowerBound)…\(range.upperBound) (got \(value))") }
        }
        let side = Int(Double(limits.maxTaskPixels).squareRoot())
        try within(r.iterations, 1...limits.maxIterations, "--iterations")
        try within(r.size, 16...side, "--size")
        try within(r.styleSize, 16...side, "--style-size")
        try within(r.learningRateDecayEvery, 1...Int(Int32.max), "--lr-decay-every")
        try within(r.lbfgsHistory, 1...1000, "--lbfgs-history")
        try within(r.threads, 1...256, "--threads")
        try within(r.scales, 1...limits.maxStages, "--scales")
        guard (r.scaleSizes?.count ?? 0) <= limits.maxStages, (r.scaleIterations?.count ?? 0) <= limits.maxStages else {
            throw Refusal("at most \(limits.maxStages) coarse-to-fine stages")
        }
        for size in r.scaleSizes ?? [] { try within(size, 16...side, "--scale-sizes") }
        for iterations in r.scaleIterations ?? [] { try within(iterations, 1...limits.maxIterations, "--scale-iterations") }
        for (option, list) in [("--content-layers", r.contentLayers ?? [])] + (r.styleLayers ?? []).map({ ("--style-layers", $0) })
            where list.count > 64 {
            throw Refusal("\(option) names \(list.count) layers; VGG19 has fewer")
        }
        if let styleScale = r.styleScale, !(styleScale.isFinite && styleScale > 0 && styleScale <= 16) {
            throw Refusal("--style-scale must be in (0, 16] (got \(styleScale))")
        }
    }

    /// One task's resolved settings within the per-task limits.
    static func checkTask(_ settings: RenderSettings, limits: JobLimits, what: String) throws {
        for size in settings.stageSizes + [settings.styleSize ?? 0] {
            let (pixels, overflow) = size.multipliedReportingOverflow(by: size)
            guard !overflow, pixels <= limits.maxTaskPixels else {
                throw Refusal("\(what) renders \(size)×\(size) pixels, over the \(limits.maxTaskPixels) a task may render (--max-pixels on the coordinator); use a tiled job for large images")
            }
        }
        for iterations in settings.stageIterations where !(1...limits.maxIterations).contains(iterations) {
            throw Refusal("\(what) has \(iterations) iterations in a stage; at most \(limits.maxIterations) (--max-iterations on the coordinator)")
        }
    }
}
