import Logging

/// A render from start to finish: the coarse-to-fine stages (one, unless `--scales` or
/// `--scale-sizes` asks for more), then the finishing steps on the last stage's image.
extension Renderer {
    /// How a stage's result is enlarged to start the next stage: Lanczos-3, the sharpest of the
    /// resampler's filters, so the finer stage starts from the coarse strokes as drawn instead
    /// of a bilinear blur it would spend iterations sharpening. Its slight ringing is clamped
    /// to 0…255 like any resize.
    static let stageUpsampling = ResampleFilter.lanczos3

    /// `start` resized to `content`'s size, to begin a stage.
    func upsampled(_ start: RGBImage, toMatch content: RGBImage) -> RGBImage {
        Resampler.resize(start, width: content.width, height: content.height, filter: Self.stageUpsampling)
    }

    /// Renders every stage in turn, each from the previous one's result enlarged to its size,
    /// and reports every iteration of every stage; then denoises (`--denoise`) and restores
    /// the content's colours (`--preserve-color luminance`), in that order, so that the
    /// output's chroma is exactly the content's even when denoised.
    ///
    /// `--iterations` is per stage (or `--scale-iterations` gives each its own). A stage's
    /// network graph, targets and optimiser history are released when the stage returns: only
    /// its image is carried to the next, so peak memory is that of the largest stage.
    public func run(isCancelled: @escaping @Sendable () -> Bool = { false },
                    progress: (RenderProgress) throws -> Void = { _ in }) throws -> Result {
        try run(isCancelled: isCancelled, previewingProgress: { record, _ in try progress(record) })
    }

    /// `run(isCancelled:progress:)` whose observer may also ask for a preview of each record's
    /// image (`RenderPreviewMaker`, valid during the call); the render is the same either way.
    public func run(isCancelled: @escaping @Sendable () -> Bool = { false },
                    previewingProgress progress: PreviewingProgress) throws -> Result {
        try settings.validate()
        let clock = ContinuousClock()
        let started = clock.now
        let sizes = settings.stageSizes
        // Each stage's pixel size, for its progress records. The decoded original is dropped
        // at once: at full resolution it can outweigh a small stage's buffers.
        let stageDimensions = sizes.count > 1 ? try stagePixelSizes() : nil

        var stages: [RenderSummary] = []
        var image: RGBImage?
        var done = (iterations: 0, evaluations: 0, seconds: 0.0)
        for index in sizes.indices {
            let stageSize = stageDimensions?[index]
            let stage = Renderer(settings: settings.stage(index), network: network, logger: logger)
            let result: Result
            do {
                result = try stage.runStage(startingFrom: image, isCancelled: isCancelled) { record, maker in
                    // Handed straight on within this call (the compiler cannot see that it stays put).
                    try withoutActuallyEscaping(maker) { preview in
                        guard sizes.count > 1, let stageSize else { return try progress(record, preview) }
                        var overall = record
                        overall.stage = .init(index: index + 1, count: sizes.count, width: stageSize.width, height: stageSize.height,
                                              iteration: record.iteration, iterations: record.iterations)
                        overall.iteration += done.iterations
                        overall.iterations = settings.plannedIterations
                        overall.evaluations += done.evaluations
                        overall.elapsed += done.seconds
                        try progress(overall, preview)
                    }
                }
            } catch let error as EngineError where sizes.count > 1 && error.code == .invalidArgument {
                // Say which stage: "image 16×12 is too small for block5_relu1" alone does not.
                throw EngineError(error.code, "coarse-to-fine stage \(index + 1) of \(sizes.count) (\(sizes[index]) px): \(error.message)",
                                  cause: error.cause)
            }
            done.iterations += result.summary.iterationsRun
            done.evaluations += result.summary.evaluations
            done.seconds += result.summary.timings.optimizeSeconds
            if sizes.count > 1 {
                logger.info("render stage finished", metadata: [
                    "stage.index": "\(index + 1)", "stage.size": "\(result.image.width)x\(result.image.height)",
                    "stage.loss": "\(result.summary.finalLosses.total)",
                ])
            }
            image = result.image
            stages.append(result.summary)
        }
        guard let image, var summary = stages.last else {
            throw EngineError(.invalidArgument, "the render has no stages; give --size or --scale-sizes")
        }

        let (finished, denoising) = try finish(image)
        summary.settings = settings
        summary.iterationsRun = done.iterations
        summary.evaluations = done.evaluations
        summary.timings = .init(loadSeconds: stages.map(\.timings.loadSeconds).reduce(0, +),
                                targetSeconds: stages.map(\.timings.targetSeconds).reduce(0, +),
                                optimizeSeconds: done.seconds,
                                secondsPerIteration: done.seconds / Double(max(done.iterations, 1)),
                                totalSeconds: (clock.now - started).seconds)
        summary.peakRssMb = ProcessMemory.peakResidentMegabytes()
        summary.stages = stages.map(StageSummary.init)
        summary.denoising = denoising
        return Result(image: finished, summary: summary)
    }

    /// [width, height] of each stage's image, as `loadContent` will size the content.
    func stagePixelSizes() throws -> [(width: Int, height: Int)] {
        let original = try Self.readImage(settings.contentPath, role: "content", maxPixels: settings.maxPixels)
        return settings.stageSizes.map { Resampler.size(fittingLongestSide: $0, width: original.width, height: original.height) }
    }

    /// The finishing steps on the last stage's image: ROF denoising, then the content's chroma.
    func finish(_ image: RGBImage) throws -> (RGBImage, ROFDenoiser.Report?) {
        var out = image
        var report: ROFDenoiser.Report?
        if settings.denoise > 0 {
            (out, report) = ROFDenoiser(lambda: settings.denoise).denoise(out)
        }
        if settings.preserveColor == .luminance {
            out = ColorTransfer.combining(luminanceOf: out, chromaOf: try loadContent())
        }
        return (out, report)
    }
}
