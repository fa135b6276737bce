/// Coarse-to-fine stages (`--scales`, `--scale-sizes`, `--scale-iterations`, `--style-scale`)
/// and the finishing options (`--preserve-color`, `--denoise`): the plan and its checks.
extension RenderSettings {
    /// No stage's longest side may be smaller than this: VGG19 halves the image four times
    /// before block 5, so at 16 px its last block still sees one pixel. The short side is only
    /// known once the content is read; the network refuses a stage too small for the layers
    /// used, and the renderer's error names the stage.
    public static let minimumStageSize = 16

    /// The longest side of each stage, coarse to fine; one entry (`size`) without stages.
    public var stageSizes: [Int] { scaleSizes.isEmpty ? [size] : scaleSizes }

    /// The iterations of each stage: `--scale-iterations`, or `--iterations` at every stage.
    public var stageIterations: [Int] {
        scaleIterations.isEmpty ? [Int](repeating: iterations, count: stageSizes.count) : scaleIterations
    }

    /// Iterations over all stages, for progress bars; saturates rather than overflowing.
    public var plannedIterations: Int {
        stageIterations.reduce(0) { total, next in
            let (sum, overflow) = total.addingReportingOverflow(max(0, next))
            return overflow ? .max : sum
        }
    }

    /// `--scales N`: N sizes, each half the next (rounded to the nearest pixel), ending at `size`.
    public static func halvingSizes(count: Int, endingAt size: Int) throws -> [Int] {
        guard count >= 1 else {
            throw EngineError(.invalidArgument, "--scales must be at least 1 (got \(count)); 1 renders at --size alone")
        }
        var sizes = [size]
        while sizes.count < count {
            let next = Int((Double(sizes[0]) / 2).rounded())
            guard next >= minimumStageSize else {
                throw EngineError(.invalidArgument, "--scales \(count) at --size \(size) would start at \(next) px, below the \(minimumStageSize) px "
                                  + "a stage needs; use at most \(sizes.count) scales at this size, or a larger --size")
            }
            sizes.insert(next, at: 0)
        }
        return sizes
    }

    /// The settings of stage `index` alone: its size and iterations, no further stages, and no
    /// finishing (the whole render's last step does that). An explicit `--style-size` is for
    /// the output size; coarser stages scale it down with the image, so that strokes keep their
    /// size relative to the picture at every stage, as the default style size does.
    func stage(_ index: Int) -> RenderSettings {
        var s = self
        s.size = stageSizes[index]
        s.iterations = stageIterations[index]
        s.scaleSizes = []
        s.scaleIterations = []
        s.denoise = 0
        if let styleSize, s.size != size {
            s.styleSize = max(1, Int((Double(styleSize) * Double(s.size) / Double(size)).rounded()))
        }
        return s
    }

    /// Checks a `--scale-sizes` list: positive, large enough, strictly ascending.
    static func validateScaleSizes(_ sizes: [Int]) throws {
        func fail(_ message: String) -> EngineError { EngineError(.invalidArgument, message) }
        let list = sizes.map(String.init).joined(separator: ",")
        guard !sizes.isEmpty else { throw fail("--scale-sizes is empty; give the stage sizes in pixels, ascending, e.g. 256,512,1024") }
        for size in sizes where size < minimumStageSize || size > 1 << 20 {
            throw fail("--scale-sizes \(list): \(size) px is out of range; every stage needs at least \(minimumStageSize) px "
                       + "(VGG19 halves the image four times before its last block)")
        }
        for (a, b) in zip(sizes, sizes.dropFirst()) where b <= a {
            throw fail("--scale-sizes \(list) must ascend, coarse to fine (e.g. 256,512,1024): \(b) follows \(a)")
        }
    }

    func validateStagesColorAndDenoise() throws {
        func fail(_ message: String) -> EngineError { EngineError(.invalidArgument, message) }
        if !scaleSizes.isEmpty {
            try Self.validateScaleSizes(scaleSizes)
            guard scaleSizes.last == size else {
                throw fail("the last of --scale-sizes (\(scaleSizes.map(String.init).joined(separator: ","))) must be the output --size \(size)")
            }
        }
        if !scaleIterations.isEmpty {
            guard scaleIterations.count == stageSizes.count else {
                throw fail("--scale-iterations gives \(scaleIterations.count) counts for \(stageSizes.count) stages "
                           + "(\(stageSizes.map(String.init).joined(separator: ","))); give one per stage")
            }
            for count in scaleIterations where count < 1 {
                throw fail("--scale-iterations: every stage needs at least 1 iteration (got \(count))")
            }
        }
        guard styleScale.isFinite, styleScale > 0 else {
            throw fail("--style-scale must be a number > 0 (got \(styleScale)); 1 is the default style size, 0.5 halves it")
        }
        guard denoise.isFinite, denoise >= 0 else {
            throw fail("--denoise must be a finite number ≥ 0 (got \(denoise)); 0 is off, 0.02–0.1 is a useful range")
        }
    }
}
