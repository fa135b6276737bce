/// How far apart two renders of the same size are, per sample on the 0…255 scale: what
/// "exact mode matches a whole-image render within 2/255" is measured with.
public struct ImageDifference: Sendable, Codable, Equatable {
    public var maximum: Float
    public var mean: Float
    /// Samples that differ by more than 2/255.
    public var samplesOverTwo: Int
    public var samples: Int

    public init(_ a: RGBImage, _ b: RGBImage) throws(EngineError) {
        guard a.width == b.width, a.height == b.height else {
            throw EngineError(.invalidArgument, "the images differ in size: \(a.width)×\(a.height) and \(b.width)×\(b.height)")
        }
        var maximum: Float = 0, sum = 0.0, over = 0
        for (x, y) in zip(a.pixels, b.pixels) {
            let d = abs(x - y)
            maximum = max(maximum, d)
            sum += Double(d)
            if d > 2 { over += 1 }
        }
        self.maximum = maximum
        mean = Float(sum / Double(max(1, a.pixels.count)))
        samplesOverTwo = over
        samples = a.pixels.count
    }
}
