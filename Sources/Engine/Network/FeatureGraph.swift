/// VGG19 laid out for one input size: every activation buffer, the gradient buffers and the
/// im2col workspace are allocated once here, so forward and backward passes allocate nothing.
///
/// The graph runs only as deep as the deepest layer a loss reads ("tap"), and keeps the outputs
/// of every step because backward needs them (ReLU masks, max-pool argmax).
public final class FeatureGraph {
    public struct Shape: Sendable, Equatable {
        public let channels: Int
        public let height: Int
        public let width: Int
        public var count: Int { channels * height * width }
        public var planeSize: Int { height * width }
    }

    public let network: VGG19Network
    public let pooling: PoolingMode
    public let inputShape: Shape
    public let threads: Int
    let steps: [VGG19Architecture.Step]
    /// Output shape of each step.
    public let shapes: [Shape]
    let outputs: [FloatBuffer]
    /// Pre-ReLU copies, kept only for convolutions whose `blockN_convM` layer is tapped.
    let preActivations: [Int: FloatBuffer]
    /// Scratch for the gradient at a tapped pre-activation (`blockN_convM`), which is added
    /// after the ReLU mask; taps on ReLU and pooling outputs need none: their gradients are
    /// added straight into the running gradient during `backward`.
    let preActivationGradients: [Int: FloatBuffer]
    let tapLocations: [String: VGG19Architecture.LayerLocation]
    let tapsByLocation: [VGG19Architecture.LayerLocation: [String]]
    let gradientA: FloatBuffer
    let gradientB: FloatBuffer
    let workspace: ConvWorkspace
    /// Pooling steps whose output is cut to some of its rows (`rowCrops`): the uncut output
    /// (max pooling's backward pass compares against it) and the rows kept, in the uncut grid.
    let cropped: [Int: (full: FloatBuffer, rows: Range<Int>, fullHeight: Int)]
    /// Scratch for a cut step's gradient spread back over its uncut rows.
    let cropScratch: FloatBuffer?
    /// Per step, the uncut grid's row of the step's first row (0 unless a cut came before).
    public let rowOffsets: [Int]

    /// - Parameter rowCrops: for pooling steps, the rows of the step's output (in the grid the
    ///   whole input would give) to keep; the later steps then run on those rows only. Rows
    ///   near a cut are wrong (the convolutions pad the cut with zeros), as at a window's
    ///   edge: an exact shard cuts only rows no activation it needs depends on, which saves the
    ///   compute of the deep layers' part of its halo.
    public init(network: VGG19Network, pooling: PoolingMode, height: Int, width: Int,
                taps: [String], threads: Int = 1, rowCrops: [Int: Range<Int>] = [:]) throws {
        guard height > 0, width > 0 else {
            throw EngineError(.invalidArgument, "image size \(width)×\(height) is empty")
        }
        guard !taps.isEmpty else { throw EngineError(.invalidArgument, "no content or style layers given") }
        ProcessMemory.largeAllocationsAreMapped
        var locations: [String: VGG19Architecture.LayerLocation] = [:]
        for name in taps { locations[name] = try VGG19Architecture.location(of: name) }
        let stepCount = locations.values.map(\.step).max()! + 1
        let allSteps = Array(VGG19Architecture.steps.prefix(stepCount))
        let convsNeeded = allSteps.reduce(0) { if case .convolution = $1 { return $0 + 1 }; return $0 }
        guard convsNeeded <= network.convolutions.count else {
            throw EngineError(.invalidArgument, "the network holds \(network.convolutions.count) convolutions; layer \(taps.joined(separator: ",")) needs \(convsNeeded)")
        }

        let plan = try Self.plan(stepCount: stepCount, height: height, width: width, taps: taps, locations: locations,
                                 rowCrops: rowCrops, channels: { network.convolutions[$0].outChannels })
        let shapes = plan.shapes
        var cuts: [Int: (full: FloatBuffer, rows: Range<Int>, fullHeight: Int)] = [:]
        for (index, cut) in plan.cuts { cuts[index] = (FloatBuffer(count: cut.fullCount), cut.rows, cut.fullHeight) }
        let offsets = plan.offsets

        // The engine owns the cores: OpenBLAS runs single-threaded and the kernels split their
        // work over `threads` themselves (see Conv3x3).
        BLAS.setThreads(1)
        self.network = network
        self.pooling = pooling
        self.threads = max(1, threads)
        self.steps = allSteps
        self.shapes = shapes
        inputShape = Shape(channels: 3, height: height, width: width)
        outputs = shapes.map { FloatBuffer(count: $0.count) }
        var pre: [Int: FloatBuffer] = [:]
        var preGradients: [Int: FloatBuffer] = [:]
        for location in Set(locations.values) where location.stage == .preActivation {
            pre[location.step] = FloatBuffer(count: shapes[location.step].count)
            preGradients[location.step] = FloatBuffer(count: shapes[location.step].count)
        }
        preActivations = pre
        preActivationGradients = preGradients
        tapLocations = locations
        tapsByLocation = Dictionary(grouping: locations.keys.sorted(), by: { locations[$0]! })
        cropped = cuts
        rowOffsets = offsets
        cropScratch = cuts.isEmpty ? nil : FloatBuffer(count: cuts.values.map(\.full.count).max() ?? 0)
        let largest = max(shapes.map(\.count).max() ?? 0, inputShape.count)
        gradientA = FloatBuffer(count: largest)
        gradientB = FloatBuffer(count: largest)
        var convLayers: [(conv: Conv3x3, height: Int, width: Int)] = []
        var inShape = inputShape
        for (index, step) in allSteps.enumerated() {
            if case .convolution(let i) = step { convLayers.append((network.convolutions[i], inShape.height, inShape.width)) }
            inShape = shapes[index]
        }
        workspace = ConvWorkspace(for: convLayers, threads: self.threads)
    }

    /// Bytes held by this graph's buffers (activations, gradients, workspace).
    public var bytesAllocated: Int {
        let floats = outputs.reduce(0) { $0 + $1.count } + preActivations.values.reduce(0) { $0 + $1.count }
            + cropped.values.reduce(0) { $0 + $1.full.count } + (cropScratch?.count ?? 0)
            + preActivationGradients.values.reduce(0) { $0 + $1.count } + gradientA.count + gradientB.count
        return floats * MemoryLayout<Float>.stride + workspace.bytes
    }

    /// Runs the network on a preprocessed CHW input (`inputShape.count` floats).
    public func forward(_ input: UnsafePointer<Float>) {
        var source = input
        var h = inputShape.height, w = inputShape.width, c = 3
        for (index, step) in steps.enumerated() {
            let out = outputs[index].base
            switch step {
            case .convolution(let i):
                let conv = network.convolutions[i]
                conv.forward(source, out, preActivation: preActivations[index]?.base,
                             height: h, width: w, workspace: workspace, threads: threads)
                c = conv.outChannels
            case .pool:
                if let cut = cropped[index] {
                    Pooling.forward(pooling, source, cut.full.base, channels: c, height: h, width: w, threads: threads)
                    w = Pooling.outputSize(height: h, width: w).width
                    Self.copyRows(cut.rows, from: cut.full.base, height: cut.fullHeight, to: out, channels: c, width: w)
                    h = cut.rows.count
                } else {
                    Pooling.forward(pooling, source, out, channels: c, height: h, width: w, threads: threads)
                    (h, w) = Pooling.outputSize(height: h, width: w)
                }
            }
            source = UnsafePointer(out)
        }
    }

    /// The uncut grid's row of a tapped layer's first row (see `rowCrops`).
    public func rowOffset(of layer: String) -> Int {
        tapLocations[layer].map { rowOffsets[$0.step] } ?? 0
    }

    /// The value of a tapped layer after `forward`.
    public func activation(_ layer: String) -> (pointer: UnsafePointer<Float>, shape: Shape) {
        guard let location = tapLocations[layer] else { preconditionFailure("layer \(layer) was not tapped") }
        let buffer = location.stage == .preActivation ? preActivations[location.step]! : outputs[location.step]
        return (UnsafePointer(buffer.base), shapes[location.step])
    }

    /// Back-propagates to the input; writes `inputShape.count` floats. Must follow `forward` on
    /// the same input. When the pass reaches a tapped layer it calls `addLossGradient(layer, g)`,
    /// which must add dLoss/d(layer) into `g` (the layer's shape; `g` already holds the gradient
    /// flowing from deeper layers, or zeros).
    public func backward(into inputGradient: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                         addLossGradient: (String, UnsafeMutablePointer<Float>) -> Void) {
        var current = gradientA.base
        var spare = gradientB.base
        let last = steps.count - 1
        current.update(repeating: 0, count: shapes[last].count)
        for index in stride(from: last, through: 0, by: -1) {
            let shape = shapes[index]
            for layer in tapsByLocation[.init(step: index, stage: .output)] ?? [] {
                addLossGradient(layer, current)
            }
            let preGradient = preActivationGradients[index]
            if let preGradient {
                preGradient.base.update(repeating: 0, count: shape.count)
                for layer in tapsByLocation[.init(step: index, stage: .preActivation)] ?? [] {
                    addLossGradient(layer, preGradient.base)
                }
            }
            let inShape = index == 0 ? inputShape : shapes[index - 1]
            let destination = index == 0 ? inputGradient : spare
            switch steps[index] {
            case .convolution(let i):
                network.convolutions[i].backward(
                    outputGradient: current, output: outputs[index].base,
                    preActivationGradient: preGradient.map { UnsafePointer($0.base) },
                    inputGradient: destination, height: shape.height, width: shape.width,
                    workspace: workspace, threads: threads)
            case .pool:
                let source = index == 0 ? input : UnsafePointer(outputs[index - 1].base)
                if let cut = cropped[index], let scratch = cropScratch {
                    // The cut rows get no gradient: nothing that was kept depends on them.
                    let planeRows = shape.channels * cut.fullHeight * shape.width
                    scratch.base.update(repeating: 0, count: planeRows)
                    for ch in 0..<shape.channels {
                        (scratch.base + (ch * cut.fullHeight + cut.rows.lowerBound) * shape.width)
                            .update(from: current + ch * shape.planeSize, count: shape.planeSize)
                    }
                    Pooling.backward(pooling, input: source, output: cut.full.base, outputGradient: scratch.base,
                                     inputGradient: destination, channels: inShape.channels,
                                     height: inShape.height, width: inShape.width, threads: threads)
                } else {
                    Pooling.backward(pooling, input: source, output: outputs[index].base, outputGradient: current,
                                     inputGradient: destination, channels: inShape.channels,
                                     height: inShape.height, width: inShape.width, threads: threads)
                }
            }
            swap(&current, &spare)
        }
    }

    /// Copies rows `rows` of every `height`×`width` plane of `source` into consecutive planes.
    static func copyRows(_ rows: Range<Int>, from source: UnsafePointer<Float>, height: Int, to target: UnsafeMutablePointer<Float>,
                         channels: Int, width: Int) {
        for c in 0..<channels {
            (target + c * rows.count * width).update(from: source + (c * height + rows.lowerBound) * width, count: rows.count * width)
        }
    }

    /// Every step's output shape, row offset and row cut for an input of `height`×`width`.
    static func plan(stepCount: Int, height: Int, width: Int, taps: [String], locations: [String: VGG19Architecture.LayerLocation],
                     rowCrops: [Int: Range<Int>], channels: (Int) -> Int) throws
        -> (shapes: [Shape], offsets: [Int], cuts: [Int: (fullCount: Int, rows: Range<Int>, fullHeight: Int)]) {
        var shapes: [Shape] = []
        var cuts: [Int: (fullCount: Int, rows: Range<Int>, fullHeight: Int)] = [:]
        var offsets: [Int] = []
        var c = 3, h = height, w = width, offset = 0
        for (index, step) in VGG19Architecture.steps.prefix(stepCount).enumerated() {
            switch step {
            case .convolution(let i): c = channels(i)
            case .pool:
                (h, w) = Pooling.outputSize(height: h, width: w)
                guard h > 0, w > 0 else {
                    throw EngineError(.invalidArgument,
                                      "image \(width)×\(height) is too small for layer \(taps.max { (locations[$0]?.step ?? 0) < (locations[$1]?.step ?? 0) } ?? ""): it pools to nothing; use at least \(1 << (VGG19Architecture.steps.prefix(stepCount).filter { $0 == .pool }.count)) pixels per side")
                }
                guard offset % 2 == 0 else { throw EngineError(.invalidArgument, "a row cut before step \(index) is not aligned to its pooling") }
                offset /= 2
                if let rows = rowCrops[index] {
                    // The kept rows in this step's own (already cut) grid.
                    let top = max(rows.lowerBound, offset) - offset, bottom = min(rows.upperBound, offset + h) - offset
                    guard top < bottom else { throw EngineError(.invalidArgument, "the row cut \(rows) at step \(index) keeps nothing") }
                    cuts[index] = (c * h * w, top..<bottom, h)
                    offset += top
                    h = bottom - top
                }
            }
            guard rowCrops[index] == nil || step == .pool else {
                throw EngineError(.invalidArgument, "rows can be cut only after a pooling step, not at step \(index)")
            }
            shapes.append(Shape(channels: c, height: h, width: w))
            offsets.append(offset)
        }

        return (shapes, offsets, cuts)
    }

    /// The bytes `FeatureGraph(…).bytesAllocated` will report for these arguments, without
    /// weights or allocation, for a network of `policy`'s methods: what a memory plan needs.
    public static func plannedBytes(height: Int, width: Int, taps: [String], threads: Int = 1,
                                    rowCrops: [Int: Range<Int>] = [:], policy: ConvolutionPolicy) throws -> Int {
        var locations: [String: VGG19Architecture.LayerLocation] = [:]
        for name in taps { locations[name] = try VGG19Architecture.location(of: name) }
        guard let deepest = locations.values.map(\.step).max() else { throw EngineError(.invalidArgument, "no content or style layers given") }
        let stepCount = deepest + 1
        let specs = VGG19Architecture.convolutions
        let plan = try Self.plan(stepCount: stepCount, height: height, width: width, taps: taps, locations: locations,
                                 rowCrops: rowCrops, channels: { specs[$0].outChannels })
        var floats = plan.shapes.reduce(0) { $0 + $1.count }
        for location in Set(locations.values) where location.stage == .preActivation { floats += 2 * plan.shapes[location.step].count }
        let cutFloats = plan.cuts.values.map(\.fullCount)
        floats += cutFloats.reduce(0, +) + (cutFloats.max() ?? 0)
        floats += 2 * max(plan.shapes.map(\.count).max() ?? 0, 3 * height * width)
        // As `ConvWorkspace(for:threads:)` sizes it.
        var padded = 0, band = 0, winogradBand = 0, winogradScratch = 0
        var inHeight = height, inWidth = width
        for (index, step) in VGG19Architecture.steps.prefix(stepCount).enumerated() {
            if case .convolution(let i) = step {
                let (inChannels, outChannels) = (specs[i].inChannels, specs[i].outChannels)
                if let transform = policy.method(inChannels: inChannels, outChannels: outChannels).transform {
                    let needs = WinogradConv3x3.workspaceNeeds(transform: transform, inChannels: inChannels, outChannels: outChannels,
                                                               height: inHeight, width: inWidth)
                    winogradBand = max(winogradBand, needs.band)
                    winogradScratch = max(winogradScratch, needs.scratch)
                } else {
                    let needs = Conv3x3.workspaceNeeds(inChannels: inChannels, outChannels: outChannels, height: inHeight, width: inWidth)
                    padded = max(padded, needs.padded)
                    band = max(band, needs.band)
                }
            }
            (inHeight, inWidth) = (plan.shapes[index].height, plan.shapes[index].width)
        }
        floats += padded + (band + winogradScratch) * max(1, threads) + 2 * winogradBand
        return floats * MemoryLayout<Float>.stride
    }
}
