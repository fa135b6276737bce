public import Engine

/// Small generated images for tests: smooth, textured and deterministic.
public enum SampleImages {
    /// A width×height RGB image with a pattern that depends on `seed`.
    public static func pattern(width: Int, height: Int, seed: UInt64) -> RGBImage {
        var rng = SeededRandom(seed: seed)
        let f = Float(seed % 5) + 1
        var pixels = [Float](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 {
                    let u = Float(x) / Float(width), v = Float(y) / Float(height)
                    let wave = (f * 6 * u + Float(c)).sinApprox * (f * 5 * v - Float(c)).cosApprox
                    pixels[(y * width + x) * 3 + c] = min(255, max(0, 128 + 100 * wave + 30 * (rng.nextUnitFloat() - 0.5)))
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Writes a generated pattern as PNG and returns its path.
    public static func writePattern(in directory: TemporaryDirectory, name: String, width: Int, height: Int, seed: UInt64) throws -> String {
        let path = directory.path(name)
        try ImageFile.writePNG(pattern(width: width, height: height, seed: seed), path: path)
        return path
    }
}

extension Float {
    /// Bhaskara-style approximations: plenty for test patterns, and no libm differences.
    public var sinApprox: Float {
        var x = self.truncatingRemainder(dividingBy: 2 * .pi)
        if x < 0 { x += 2 * .pi }
        let sign: Float = x > .pi ? -1 : 1
        if x > .pi { x -= .pi }
        return sign * 16 * x * (.pi - x) / (5 * .pi * .pi - 4 * x * (.pi - x))
    }

    public var cosApprox: Float { (self + .pi / 2).sinApprox }
}
