import TestSupport
@testable import Engine

/// Real-weight fixtures shared by the tiling tests: generated images, small enough for a debug build.
enum TilingFixtures {
    /// Through block4_relu2 (11 convolutions): every layer these tests read.
    static let network: Result<VGG19Network, any Error> = Result { try VGG19Network(weights: try TestWeights.load(), convolutions: 11) }

    static func image(width: Int, height: Int, seed: UInt64) -> Tensor {
        VGGPreprocessing.tensor(from: SampleImages.pattern(width: width, height: height, seed: seed))
    }

    static func maxAbs(_ values: [Float]) -> Float { values.reduce(0) { max($0, abs($1)) } }

    static func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }
}
