import Foundation
public import ArgumentParser
public import Engine
public import Coordinator

extension PoolingMode: ExpressibleByArgument {}
extension RenderSettings.OptimizerKind: ExpressibleByArgument {}
extension ResampleFilter: ExpressibleByArgument {}
extension SweepSpec.Balance: ExpressibleByArgument {}
extension ColorPreservation: ExpressibleByArgument {}
extension TiledSpec.Mode: ExpressibleByArgument {}
extension ExactSchemeCost.Choice: ExpressibleByArgument {}

/// `--size N` (the longest side) or `--size WxH`.
enum OutputSize: ExpressibleByArgument, Equatable {
    case longestSide(Int)
    case exact(width: Int, height: Int)

    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: guard let n = Int(parts[0]) else { return nil }; self = .longestSide(n)
        case 2: guard let w = Int(parts[0]), let h = Int(parts[1]) else { return nil }; self = .exact(width: w, height: h)
        default: return nil
        }
    }
}

/// The render options shared by `stylefarm render` and (later) farm submissions.
struct RenderOptions: ParsableArguments {
    @Option(help: "Content image (PNG or JPEG).")
    var content: String

    @Option(help: "Style image (PNG or JPEG); repeat for several styles.")
    var style: [String] = []

    @Option(help: "Preset for the objective and optimiser: \(Preset.all.map(\.name).joined(separator: ", ")) (default pastiche; `stylefarm presets` lists their values). johnson-layers uses Johnson et al.'s VGG16 layers on VGG19, as VGG16 weights are not available. Explicit options override the preset.")
    var preset: String?

    @Option(help: ArgumentHelp("Longest side of the output in pixels (default 512); `submit tiled` also takes WxH.", valueName: "N"))
    var size: OutputSize?

    @Option(help: "Longest side of each style image in pixels (default: the content's pixel area).")
    var styleSize: Int?

    @Option(help: "Optimiser iterations (default from the preset).")
    var iterations: Int?

    @Option(help: "lbfgs or adam.")
    var optimizer: RenderSettings.OptimizerKind?

    @Option(help: "Learning rate (L-BFGS step scale, default 1; Adam's initial rate).")
    var lr: Float?

    @Option(help: "Adam: multiply the learning rate by this every --lr-decay-every steps (default 1: no decay).")
    var lrDecay: Float?

    @Option(help: "Adam: steps between learning-rate decays (default 100).")
    var lrDecayEvery: Int?

    @Option(help: "L-BFGS history pairs (default 100, as PyTorch; each costs 2 × 12 bytes per pixel).")
    var lbfgsHistory: Int?

    @Option(name: .customLong("init"), help: "Starting image: content, noise (seeded), style (the first style image) or a PATH.")
    var initialization: String?

    @Option(help: "max or avg pooling.")
    var pooling: PoolingMode?

    @Option(help: "Content layers, comma-separated (e.g. block4_relu2). Names: blockN_convM, blockN_reluM, blockN_pool.")
    var contentLayers: String?

    @Option(help: "Style layers, comma-separated (e.g. block1_relu1,block2_relu1). Give once for every style, or once per style in the order of --style.")
    var styleLayers: [String] = []

    @Option(help: "Content layer weights, comma-separated: one per layer or one for all.")
    var contentLayerWeights: String?

    @Option(help: "Style layer weights, comma-separated: one per layer or one for all. Give once for every style, or once per style.")
    var styleLayerWeights: [String] = []

    @Option(help: "Where a style applies: a grey PNG/JPEG (white = fully, black = not; any size, resized to the output). Give once per style in the order of --style; `none` for a style that applies everywhere.")
    var mask: [String] = []

    @Option(help: "Content weight α.")
    var alpha: Float?

    @Option(help: "Style weight β.")
    var beta: Float?

    @Option(help: "Crossfade between exactly two styles: weight γ on the first, 1−γ on the second (0…1). In a sweep: START:STOP:STEP or a list.")
    var gamma: String?

    @Option(help: "Per-style weights, comma-separated (default 1/N each).")
    var styleWeights: String?

    @Option(help: "Per-style balancing factors σ, comma-separated (default 1 each).")
    var sigma: String?

    @Option(help: "Total-variation weight λ (default 0).")
    var tvWeight: Float?

    @Option(help: "Seed for noise initialisation (default 0).")
    var seed: UInt64?

    @Option(help: "Threads (default: all cores). Same seed + same threads → same output.")
    var threads: Int?

    @Option(help: "Refuse images larger than this many pixels, before decoding (default 100000000).")
    var maxPixels: Int?

    @Option(help: "Resize filter for the input images: lanczos3, area or bilinear (default from the preset; pastiche: bilinear, as Pillow).")
    var resample: ResampleFilter?

    // Colour, coarse-to-fine stages and denoising.

    @Option(help: ArgumentHelp("""
        Keep the content's colours. none (default). luminance: render, then keep the result's \
        luminance with the content's chroma (YUV; as neural-style's -original_colors 1, applied \
        after rendering rather than rendering on luminance alone). histogram: before rendering, \
        give each style image the content's colour mean and covariance (Gatys et al. 2017, §5.1).
        """, valueName: "none|luminance|histogram"))
    var preserveColor: ColorPreservation?

    @Option(help: ArgumentHelp("""
        Render coarse to fine in N stages, halving down from --size (3 at --size 1024: 256, 512, \
        1024). Each stage starts from the previous result enlarged with Lanczos-3; --iterations \
        counts per stage.
        """, valueName: "N"))
    var scales: Int?

    @Option(help: ArgumentHelp("Stage sizes, ascending, e.g. 256,512,1024; the last is the output size (instead of --scales).",
                               valueName: "LIST"))
    var scaleSizes: String?

    @Option(help: ArgumentHelp("Iterations of each stage, e.g. 400,200,100 (default: --iterations at every stage).", valueName: "LIST"))
    var scaleIterations: String?

    @Option(help: ArgumentHelp("""
        Stroke size: style images at F × their default size at every stage, as neural-style's \
        -style_scale (default 1). Below 1 the network sees the painting's larger shapes (bigger \
        swirls, a coarser look); above 1 its finer brushwork. An explicit --style-size is for the \
        output size; coarser stages scale it down with the image.
        """, valueName: "F"))
    var styleScale: Float?

    @Option(help: ArgumentHelp("""
        Rudin–Osher–Fatemi total-variation denoising of the finished image, with weight λ on 0…1 \
        samples (scikit-image's denoise_tv_chambolle weight; 0.02–0.1 is useful; 0 is off). Colour \
        (vectorial) TV by Chambolle's projection algorithm, stopped when the duality gap proves the \
        result within 1/4 level RMS of the exact minimiser, or after 500 iterations. --tv-weight \
        smooths during the optimisation instead; the two can be combined.
        """, valueName: "λ"))
    var denoise: Float?

    func request(defaultThreads: Int) throws -> RenderRequest {
        var r = RenderRequest(contentPath: content, stylePaths: style)
        r.preset = preset
        switch size {
        case .longestSide(let side)?: r.size = side
        case .exact?: throw ValidationError("--size WxH is for `stylefarm submit tiled`; give the longest side, e.g. --size 512")
        case nil: break
        }
        r.styleSize = styleSize
        r.iterations = iterations
        r.optimizer = optimizer
        r.learningRate = lr
        r.learningRateDecay = lrDecay
        r.learningRateDecayEvery = lrDecayEvery
        r.lbfgsHistory = lbfgsHistory
        r.initialization = initialization
        r.pooling = pooling
        r.contentLayers = contentLayers.map(Self.names)
        r.styleLayers = styleLayers.isEmpty ? nil : styleLayers.map(Self.names)
        r.contentLayerWeights = try contentLayerWeights.map { try Self.numbers($0, option: "--content-layer-weights") }
        r.styleLayerWeights = styleLayerWeights.isEmpty ? nil
            : try styleLayerWeights.map { try Self.numbers($0, option: "--style-layer-weights") }
        r.maskPaths = mask.isEmpty ? nil : mask
        r.alpha = alpha
        r.beta = beta
        r.gamma = try gamma.map { text in
            guard let value = Float(text) else {
                throw ValidationError("--gamma: '\(text)' is not a number in [0, 1] (ranges like 0:1:0.1 are for `stylefarm submit sweep`)")
            }
            return value
        }
        r.styleWeights = try styleWeights.map { try Self.numbers($0, option: "--style-weights") }
        r.sigmas = try sigma.map { try Self.numbers($0, option: "--sigma") }
        r.tvWeight = tvWeight
        r.seed = seed
        r.threads = threads ?? defaultThreads
        r.maxPixels = maxPixels
        r.resample = resample
        r.preserveColor = preserveColor
        r.scales = scales
        r.scaleSizes = try scaleSizes.map { try Self.wholeNumbers($0, option: "--scale-sizes", example: "256,512,1024") }
        r.scaleIterations = try scaleIterations.map { try Self.wholeNumbers($0, option: "--scale-iterations", example: "400,200,100") }
        r.styleScale = styleScale
        r.denoise = denoise
        return r
    }

    static func names(_ list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func wholeNumbers(_ list: String, option: String, example: String) throws -> [Int] {
        try names(list).map { item in
            guard let value = Int(item) else {
                throw ValidationError("\(option): '\(item)' is not a whole number; give comma-separated whole numbers, e.g. \(example)")
            }
            return value
        }
    }

    static func numbers(_ list: String, option: String) throws -> [Float] {
        try names(list).map { item in
            guard let value = Float(item) else {
                throw ValidationError("\(option): '\(item)' is not a number; give comma-separated numbers, e.g. 0.5,0.5")
            }
            return value
        }
    }
}
