import Testing
@testable import Engine

/// The largest absolute difference between two equally long sample arrays.
func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    #expect(a.count == b.count, "sample counts differ")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// Runs `body`, expects it to throw an `EngineError` with `code`, and returns the error so the
/// caller can check its message.
@discardableResult
func expectEngineError(
    _ code: EngineError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) -> EngineError? {
    do {
        try body()
        Issue.record("expected an EngineError \(code), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as EngineError {
        #expect(error.code == code, "wrong code; message: \(error.description)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected an EngineError \(code), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// An image of seeded random samples in 0…255, whole levels or not.
func randomImage(width: Int, height: Int, wholeLevels: Bool, seed: UInt64) -> RGBImage {
    var generator = SeededRandom(seed: seed)
    let pixels = (0..<width * height * 3).map { _ in
        wholeLevels ? Float(Int.random(in: 0...255, using: &generator)) : Float.random(in: 0...255, using: &generator)
    }
    return RGBImage(width: width, height: height, pixels: pixels)
}
