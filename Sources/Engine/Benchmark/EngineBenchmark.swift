#if canImport(Glibc)
import Glibc
#endif

/// `stylefarm bench engine`: the time of one evaluation of the full objective (forward pass,
/// losses, backward pass to the image) at a given size, on synthetic images so that the figure
/// depends on nothing but size, layers and threads.
public struct EngineBenchmark: Sendable {
    public struct Report: Sendable, Codable, Equatable {
        public var size: Int
        public var threads: Int
        public var pooling: String
        public var deepestLayer: String
        public var iterations: Int
        /// Median seconds of one forward + backward of the full objective.
        public var secondsPerIteration: Double
        public var minSecondsPerIteration: Double
        /// Floating-point operations of one evaluation (convolutions both ways + Gram products).
        public var gflopPerIteration: Double
        public var gflops: Double
        /// Peak resident memory of the process so far (getrusage), weights and targets included.
        public var peakRssMb: Double
        /// Buffers of the feature graph alone.
        public var graphMb: Double
        public var blasCore: String
        /// Each convolution's method in network order, e.g. `direct,winograd4,…`.
        public var convolutions: String
    }

    public var size: Int
    public var iterations: Int
    public var threads: Int
    public var preset: Preset = .pastiche

    public init(size: Int, iterations: Int, threads: Int) {
        self.size = size
        self.iterations = iterations
        self.threads = threads
    }

    public func run(network: VGG19Network) throws -> Report {
        guard size >= 16, iterations >= 1, threads >= 1 else {
            throw EngineError(.invalidArgument, "bench engine needs --size ≥ 16, --iterations ≥ 1, --threads ≥ 1")
        }
        let content = Self.syntheticImage(size: size, seed: 1)
        let style = Self.syntheticImage(size: size, seed: 2)
        let contentLayers = preset.contentLayers, styleLayers = preset.styleLayers
        let targets = try FeatureTargets.activations(network: network, pooling: preset.pooling, image: content,
                                                     layers: contentLayers.map(\.layer), threads: threads)
        let grams = try FeatureTargets.grams(network: network, pooling: preset.pooling, image: style,
                                             layers: styleLayers.map(\.layer), threads: threads)
        let taps = Array(Set(contentLayers.map(\.layer) + styleLayers.map(\.layer)))
        let graph = try FeatureGraph(network: network, pooling: preset.pooling, height: size, width: size, taps: taps, threads: threads)
        let objective = try StyleTransferObjective(graph: graph, contentLayers: contentLayers, contentTargets: targets,
                                                   styles: [StyleTerm(layers: styleLayers, weight: 1, grams: grams)],
                                                   alpha: preset.alpha, beta: preset.beta, tvWeight: preset.tvWeight)
        var x = content
        let gradient = FloatBuffer(count: x.count)
        let clock = ContinuousClock()
        var times: [Double] = []
        x.withUnsafeMutableBufferPointer { xp in
            _ = objective.evaluate(xp.baseAddress!, gradient: gradient.base)   // warm-up: page in buffers, spin up threads
            for _ in 0..<iterations {
                let start = clock.now
                _ = objective.evaluate(xp.baseAddress!, gradient: gradient.base)
                times.append((clock.now - start).seconds)
                // Move x a little, as an optimiser would, so nothing is cached between runs.
                for i in 0..<min(xp.count, 1024) { xp[i] -= gradient.base[i] > 0 ? 1e-3 : -1e-3 }
            }
        }
        times.sort()
        let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        let deepest = try taps.map { (step: try VGG19Architecture.location(of: $0).step, name: $0) }.max { $0.step < $1.step }?.name ?? ""
        let flops = Self.flopsPerEvaluation(graph: graph, styleLayers: styleLayers.map(\.layer), stepCount: graph.steps.count)
        return Report(size: size, threads: threads, pooling: preset.pooling.rawValue, deepestLayer: deepest,
                      iterations: iterations, secondsPerIteration: median, minSecondsPerIteration: times[0],
                      gflopPerIteration: flops / 1e9, gflops: flops / 1e9 / median, peakRssMb: ProcessMemory.peakResidentMegabytes(),
                      graphMb: Double(graph.bytesAllocated) / 1_048_576, blasCore: BLAS.coreName,
                      convolutions: network.convolutions.map(\.method.rawValue).joined(separator: ","))
    }

    /// Convolutions forward and backward (2 × 2·9·Cin·Cout·H·W) plus per style layer the Gram
    /// (C²·n with ssyrk) and its gradient product (2·C²·n).
    static func flopsPerEvaluation(graph: FeatureGraph, styleLayers: [String], stepCount: Int) -> Double {
        var flops = 2 * VGG19Network.forwardFLOPs(height: graph.inputShape.height, width: graph.inputShape.width, steps: stepCount)
        for layer in Set(styleLayers) {
            let shape = graph.activation(layer).shape
            flops += 3 * Double(shape.channels * shape.channels) * Double(shape.planeSize)
        }
        return flops
    }

    /// A deterministic, textured test image (smooth gradients plus seeded noise), preprocessed.
    public static func syntheticImage(size: Int, seed: UInt64) -> Tensor {
        syntheticImage(width: size, height: size, seed: seed)
    }

    /// The same pattern on a `width`×`height` image (scaled by the longer side), or on its
    /// `rows` alone (a band of an image too large to make whole; its noise differs).
    public static func syntheticImage(width: Int, height: Int, seed: UInt64, rows: Range<Int>? = nil) -> Tensor {
        var rng = SeededRandom(seed: seed)
        let rows = rows ?? 0..<height
        var pixels = [Float](repeating: 0, count: width * rows.count * 3)
        let f = Float(seed) * 0.7 + 1
        let size = Float(max(width, height))
        for y in rows {
            for x in 0..<width {
                let u = Float(x) / size, v = Float(y) / size
                for c in 0..<3 {
                    let wave = sin(f * 9 * u + Float(c)) * cos(f * 7 * v - Float(c))
                    pixels[((y - rows.lowerBound) * width + x) * 3 + c] = max(0, min(255, 128 + 90 * wave + 20 * (rng.nextUnitFloat() - 0.5)))
                }
            }
        }
        return VGGPreprocessing.tensor(from: RGBImage(width: width, height: rows.count, pixels: pixels))
    }
}
