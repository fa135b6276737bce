/// An RGB image in memory: interleaved R, G, B samples as Float on the 0…255 scale.
///
/// Floats (not bytes) so that resampling, colour transforms and 16-bit output lose nothing.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` samples, row-major, interleaved RGB.
    public var pixels: [Float]

    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3,
                     "RGBImage: \(width)×\(height) needs \(width * height * 3) samples, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public init(width: Int, height: Int, fill: Float = 0) {
        self.init(width: width, height: height, pixels: [Float](repeating: fill, count: width * height * 3))
    }

    public var pixelCount: Int { width * height }
}
