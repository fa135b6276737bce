/// `stylefarm bench conv`: every 3×3 layer VGG19 runs to `block5_conv1`, forward and backward
/// to the data, timed with each convolution method on that layer's real input (the synthetic
/// image of `EngineBenchmark` through the direct network), with the largest error of each
/// method against a float64 direct convolution at sampled outputs.
public struct ConvolutionBenchmark: Sendable {
    public struct Row: Sendable, Codable, Equatable {
        public var layer: String
        public var inChannels: Int
        public var outChannels: Int
        public var height: Int
        public var width: Int
        public var method: String
        public var forwardMs: Double
        public var backwardMs: Double
        /// The direct method's FLOPs (2·9·Cin·Cout·H·W) per second, for every method.
        public var forwardGflops: Double
        public var backwardGflops: Double
        /// max |value − float64 reference| / max |reference| over the sampled outputs.
        public var forwardError: Double
        public var backwardError: Double
    }

    public var size: Int
    public var threads: Int
    public var repetitions: Int
    public var methods: [ConvolutionMethod]
    /// Outputs per layer and direction checked against the float64 reference.
    public var samples = 400

    public init(size: Int, threads: Int, repetitions: Int, methods: [ConvolutionMethod]) {
        self.size = size
        self.threads = threads
        self.repetitions = repetitions
        self.methods = methods
    }

    public func run(weights: VGG19Weights, progress: (Row) -> Void = { _ in }) throws -> [Row] {
        guard size >= 16, threads >= 1, repetitions >= 1 else {
            throw EngineError(.invalidArgument, "bench conv needs --size ≥ 16, --threads ≥ 1, --repetitions ≥ 1")
        }
        let network = try VGG19Network(weights: weights, convolutions: 13, policy: .direct)
        let graph = try FeatureGraph(network: network, pooling: .avg, height: size, width: size,
                                     taps: ["block5_conv1"], threads: threads)
        let image = EngineBenchmark.syntheticImage(size: size, seed: 1)
        var rows: [Row] = []
        try image.withUnsafeBufferPointer { pixels in
            guard let imageBase = pixels.baseAddress else { throw EngineError(.invalidArgument, "empty benchmark image") }
            graph.forward(imageBase)
            var source = graph.inputShape
            for (index, step) in graph.steps.enumerated() {
                defer { source = graph.shapes[index] }
                guard case .convolution(let i) = step, i < weights.layers.count else { continue }
                let layer = weights.layers[i]
                let input = index == 0 ? imageBase : UnsafePointer(graph.outputs[index - 1].base)
                // The 3-channel first layer is always direct (see `ConvolutionPolicy.method`).
                for method in i == 0 ? [.direct] : methods {
                    let row = measure(layer: layer, name: VGG19Architecture.convolutions[i].name, method: method, input: input,
                                      height: source.height, width: source.width)
                    progress(row)
                    rows.append(row)
                }
            }
        }
        return rows
    }

    private func measure(layer: ConvLayerWeights, name: String, method: ConvolutionMethod, input: UnsafePointer<Float>,
                         height: Int, width: Int) -> Row {
        let conv = Conv3x3(inChannels: layer.inChannels, outChannels: layer.outChannels, weights: layer.weights,
                           bias: layer.bias, method: method)
        let workspace = ConvWorkspace(for: [(conv, height, width)], threads: threads)
        let plane = height * width
        let output = FloatBuffer(count: layer.outChannels * plane), pre = FloatBuffer(count: layer.outChannels * plane)
        let upstream = FloatBuffer(count: layer.outChannels * plane), gradient = FloatBuffer(count: layer.inChannels * plane)
        var rng = SeededRandom(seed: 5)
        for k in 0..<upstream.count { upstream.base[k] = rng.nextUnitFloat() - 0.5 }
        let clock = ContinuousClock()
        var forwardTimes: [Double] = [], backwardTimes: [Double] = []
        for repetition in 0...repetitions {
            let start = clock.now
            conv.forward(input, output.base, preActivation: pre.base, height: height, width: width, workspace: workspace, threads: threads)
            let middle = clock.now
            conv.backward(outputGradient: upstream.base, output: output.base, preActivationGradient: nil,
                          inputGradient: gradient.base, height: height, width: width, workspace: workspace, threads: threads)
            let end = clock.now
            if repetition > 0 {   // the first run pages the buffers in
                forwardTimes.append((middle - start).seconds)
                backwardTimes.append((end - middle).seconds)
            }
        }
        let flops = 2 * 9 * Double(layer.inChannels * layer.outChannels * plane)
        let forwardError = layer.weights.withUnsafeBufferPointer { w in
            sampledError(samples, channels: layer.outChannels, height: height, width: width, actual: pre.base) { o, y, x in
                Self.reference(w.baseAddress!, source: input, sourceChannels: layer.inChannels, y: y, x: x, height: height, width: width) { c, tap in
                    (o * layer.inChannels + c) * 9 + tap
                } + Double(layer.bias[o])
            }
        }
        // dX[c] = Σ_o rot(W[o, c]) ⋆ (mask ⊙ dY)[o]: a correlation over the masked gradient.
        let masked = FloatBuffer(count: upstream.count)
        for k in 0..<masked.count { masked.base[k] = output.base[k] > 0 ? upstream.base[k] : 0 }
        let backwardError = layer.weights.withUnsafeBufferPointer { w in
            sampledError(samples, channels: layer.inChannels, height: height, width: width, actual: gradient.base) { c, y, x in
                Self.reference(w.baseAddress!, source: masked.base, sourceChannels: layer.outChannels, y: y, x: x, height: height, width: width) { o, tap in
                    (o * layer.inChannels + c) * 9 + (8 - tap)
                }
            }
        }
        let f = Self.median(forwardTimes), b = Self.median(backwardTimes)
        return Row(layer: name, inChannels: layer.inChannels, outChannels: layer.outChannels, height: height, width: width,
                   method: method.rawValue, forwardMs: f * 1000, backwardMs: b * 1000,
                   forwardGflops: flops / f / 1e9, backwardGflops: flops / b / 1e9,
                   forwardError: forwardError, backwardError: backwardError)
    }

    /// Σ over source channels and taps of weight × source at (y + ky − 1, x + kx − 1), in Double.
    static func reference(_ weights: UnsafePointer<Float>, source: UnsafePointer<Float>, sourceChannels: Int,
                          y: Int, x: Int, height: Int, width: Int, index: (Int, Int) -> Int) -> Double {
        var sum = 0.0
        for c in 0..<sourceChannels {
            for tap in 0..<9 {
                let yy = y + tap / 3 - 1, xx = x + tap % 3 - 1
                guard yy >= 0, yy < height, xx >= 0, xx < width else { continue }
                sum += Double(weights[index(c, tap)]) * Double(source[(c * height + yy) * width + xx])
            }
        }
        return sum
    }

    /// Largest |actual − reference| over `count` sampled outputs (corners and edges included),
    /// relative to the largest |reference| among them.
    private func sampledError(_ count: Int, channels: Int, height: Int, width: Int, actual: UnsafePointer<Float>,
                              reference: (Int, Int, Int) -> Double) -> Double {
        var rng = SeededRandom(seed: 9)
        var worst = 0.0, largest = 0.0
        for k in 0..<count {
            let c = Int(rng.nextUnitFloat() * Float(channels)) % channels
            var y = Int(rng.nextUnitFloat() * Float(height)) % height, x = Int(rng.nextUnitFloat() * Float(width)) % width
            if k % 4 == 0 { y = k % 8 == 0 ? 0 : height - 1 }
            if k % 3 == 0 { x = k % 6 == 0 ? 0 : width - 1 }
            let expected = reference(c, y, x)
            worst = max(worst, abs(Double(actual[(c * height + y) * width + x]) - expected))
            largest = max(largest, abs(expected))
        }
        return largest > 0 ? worst / largest : worst
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
