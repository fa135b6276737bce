import Testing
import TestSupport
@testable import Engine

/// A row sink that keeps every row, so tests can see what a stitcher wrote and when.
struct CollectingSink: ImageRowSink {
    let width: Int
    var rows: [[Float]] = []
    /// When set, `write` throws this once `rows.count` reaches `failAfter`.
    var failAfter: Int?

    mutating func write(row: UnsafeBufferPointer<Float>) throws(EngineError) {
        if let failAfter, rows.count >= failAfter {
            throw EngineError(.io, "test sink is full", cause: "No space left on device")
        }
        rows.append(Array(row))
    }

    var image: RGBImage { RGBImage(width: width, height: rows.count, pixels: rows.flatMap { $0 }) }
}

/// Every tile window of `grid`, cut from `image`, with `adjust` applied to each one's samples.
func tileWindows(
    of image: RGBImage, grid: TileGrid, adjust: (TilePosition, Float) -> Float = { $1 }
) throws -> [(TilePosition, RGBImage)] {
    try grid.tiles.map { tile in
        var window = try image.cropped(to: tile.window)
        window.pixels = window.pixels.map { adjust(tile.position, $0) }
        return (tile.position, window)
    }
}

/// `image` with `offset` added to every tile of `grid` whose row + column is odd (a
/// checkerboard of colour steps on exactly the tile borders).
func checkerboardOffset(_ image: RGBImage, grid: TileGrid, offset: Float) throws -> RGBImage {
    var result = image
    for tile in grid.tiles where (tile.position.row + tile.position.column) % 2 == 1 {
        for y in tile.interior.rows {
            for x in tile.interior.columns {
                for c in 0..<3 { result.pixels[(y * image.width + x) * 3 + c] += offset }
            }
        }
    }
    return result
}

/// A textured, seamless image of whole levels: crossed sine waves (periods of 23 to 47
/// pixels, so every 4-line band sees structure) plus seeded noise of ±`noise` levels, kept
/// inside 20…235 so that a later offset of up to 20 levels does not clip.
/// `shift(x, y)` moves the texture under a pixel, to make texture shifts.
func texturedImage(
    width: Int, height: Int, seed: UInt64, noise: Float = 12, shift: (Int, Int) -> (Int, Int) = { _, _ in (0, 0) }
) -> RGBImage {
    var generator = SeededRandom(seed: seed)
    var pixels = [Float](repeating: 0, count: width * height * 3)
    for y in 0..<height {
        for x in 0..<width {
            let (dx, dy) = shift(x, y)
            let u = Float(x + dx), v = Float(y + dy)
            for c in 0..<3 {
                let wave = 50 * (2 * .pi * u / 47 + Float(c)).sinApprox * (2 * .pi * v / 39 - Float(c)).cosApprox
                    + 25 * (2 * .pi * (u + v) / 23).sinApprox
                let jitter = noise * (2 * Float.random(in: 0..<1, using: &generator) - 1)
                pixels[(y * width + x) * 3 + c] = min(235, max(20, (128 + wave + jitter).rounded()))
            }
        }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
}
