import Foundation
import Testing
import TestSupport
@testable import Engine

/// Per-style masks and layers in real renders (VGG19 weights, tiny images: fast in a debug build).
@Suite(.serialized)
struct MaskedRenderTests {
    static let network: Result<VGG19Network, any Error> = Result { try VGG19Network(weights: try TestWeights.load(), convolutions: 13) }
    static let width = 48, height = 24
    static let layers = ["block1_relu1", "block2_relu1", "block3_relu1"]

    /// Diagonal red and white stripes, 6 px apart: fine, high-contrast texture.
    static func stripes() -> RGBImage {
        var pixels: [Float] = []
        for y in 0..<height { for x in 0..<width { pixels += (x + y) % 6 < 3 ? [220, 30, 30] : [250, 250, 250] } }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Large soft blue and green blobs: smooth, low-frequency colour.
    static func blobs() -> RGBImage {
        var pixels: [Float] = []
        for y in 0..<height {
            for x in 0..<width {
                let t = Float(0.5 + 0.5 * cos(Double(x) / 9) * cos(Double(y) / 7))
                pixels += [20, 60 + 140 * t, 200 - 120 * t]
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// White on the left half, black on the right (or the inverse).
    static func halfMask(whiteOnLeft: Bool) -> RGBImage {
        var pixels: [Float] = []
        for _ in 0..<height { for x in 0..<width { let v: Float = (x < width / 2) == whiteOnLeft ? 255 : 0; pixels += [v, v, v] } }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    func request(in dir: TemporaryDirectory, _ change: (inout RenderRequest) -> Void = { _ in }) throws -> RenderRequest {
        try ImageFile.writePNG(SampleImages.pattern(width: Self.width, height: Self.height, seed: 1), path: dir.path("content.png"))
        try ImageFile.writePNG(Self.stripes(), path: dir.path("stripes.png"))
        try ImageFile.writePNG(Self.blobs(), path: dir.path("blobs.png"))
        try ImageFile.writePNG(Self.halfMask(whiteOnLeft: true), path: dir.path("left.png"))
        try ImageFile.writePNG(Self.halfMask(whiteOnLeft: false), path: dir.path("right.png"))
        var r = RenderRequest(contentPath: dir.path("content.png"), stylePaths: [dir.path("stripes.png"), dir.path("blobs.png")])
        r.size = Self.width
        r.styleLayers = [Self.layers]
        r.styleLayerWeights = [[1]]
        r.alpha = 0
        r.contentLayers = []
        r.iterations = 30
        r.threads = 2
        change(&r)
        return r
    }

    /// Σ over layers of mean((G − A)²)/mean(A²): how far an image's Grams are from a target's,
    /// each layer on its own scale.
    static func distance(_ image: RGBImage, to target: RGBImage, network: VGG19Network) throws -> Double {
        func grams(_ image: RGBImage) throws -> [String: [Float]] {
            try FeatureTargets.grams(network: network, pooling: .max, image: VGGPreprocessing.tensor(from: image), layers: layers, threads: 2)
        }
        let g = try grams(image), a = try grams(target)
        return layers.reduce(0.0) { sum, layer in
            let d = zip(g[layer]!, a[layer]!).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
            let scale = a[layer]!.reduce(0.0) { $0 + Double($1 * $1) }
            return sum + d / scale
        }
    }

    static func half(_ image: RGBImage, left: Bool) -> RGBImage {
        let w = image.width / 2
        var pixels: [Float] = []
        for y in 0..<image.height {
            let start = (y * image.width + (left ? 0 : w)) * 3
            pixels += image.pixels[start..<start + w * 3]
        }
        return RGBImage(width: w, height: image.height, pixels: pixels)
    }

    @Test func eachHalfTakesTheStyleItsMaskGivesIt() throws {
        let dir = try TemporaryDirectory()
        let network = try Self.network.get()
        let settings = try request(in: dir) { $0.maskPaths = [dir.path("left.png"), dir.path("right.png")] }.resolve()
        let image = try Renderer(settings: settings, network: network).run().image
        let left = Self.half(image, left: true), right = Self.half(image, left: false)
        let stripes = Self.stripes(), blobs = Self.blobs()
        let leftToStripes = try Self.distance(left, to: stripes, network: network)
        let leftToBlobs = try Self.distance(left, to: blobs, network: network)
        let rightToStripes = try Self.distance(right, to: stripes, network: network)
        let rightToBlobs = try Self.distance(right, to: blobs, network: network)
        #expect(leftToStripes < leftToBlobs, "left \(leftToStripes) to stripes vs \(leftToBlobs) to blobs")
        #expect(rightToBlobs < rightToStripes, "right \(rightToBlobs) to blobs vs \(rightToStripes) to stripes")
    }

    @Test func aRenderGivesEachStyleItsOwnLayers() throws {
        let dir = try TemporaryDirectory()
        let network = try Self.network.get()
        let layers = [["block1_relu1", "block2_relu1"], ["block3_relu1"]]
        let both = try Renderer(settings: try request(in: dir) { $0.styleLayers = layers; $0.iterations = 2 }.resolve(),
                                network: network).run().summary
        #expect(both.settings.styleLayers.map { $0.map(\.layer) } == layers)
        #expect(both.finalLosses.total < both.initialLosses.total)
        // Each style's starting loss (same image: the content) is what a render of that style
        // alone on its own layers reports: no style counts another's layers.
        for (i, style) in [dir.path("stripes.png"), dir.path("blobs.png")].enumerated() {
            let alone = try Renderer(settings: try request(in: dir) {
                $0.stylePaths = [style]; $0.styleLayers = [layers[i]]; $0.iterations = 1
            }.resolve(), network: network).run().summary
            let (a, b) = (both.initialLosses.styles[i], alone.initialLosses.styles[0])
            #expect(abs(a - b) <= 1e-6 * b, "style \(i + 1): \(a) with both styles, \(b) alone")
        }
    }

    @Test func aCorruptMaskIsNamedWithItsStyle() throws {
        let dir = try TemporaryDirectory()
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2]).write(to: URL(fileURLWithPath: dir.path("broken.jpg")))
        let settings = try request(in: dir) { $0.maskPaths = ["none", dir.path("broken.jpg")] }.resolve()
        let error = #expect(throws: EngineError.self) { try Renderer(settings: settings, network: try Self.network.get()).run() }
        #expect(error?.message.hasPrefix("style 2's mask image '") == true, "got: \(error?.description ?? "")")
    }
}
