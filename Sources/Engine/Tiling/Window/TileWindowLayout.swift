/// One tile of a tiled pass: the pixels it owns (`interior`) and the pixels its forward pass
/// reads (`window`: the interior grown by the halo, clamped to the image).
public struct TileWindow: Sendable, Hashable, Codable {
    public let index: Int
    public let column: Int
    public let row: Int
    public let interior: PixelRect
    public let window: PixelRect

    /// The interior in the window's own coordinates.
    public var interiorInWindow: PixelRect { interior.relative(to: window) }
}

/// Cuts an image into tiles aligned to the network's total stride, each with a window around it.
///
/// Tile borders are multiples of `alignment` (the stride of the deepest layer used), so at every
/// layer of stride j ≤ alignment each activation's cell `[q·j, q·j + j)` lies in exactly one
/// tile: that tile owns the activation (`ownedPositions`). Window corners are multiples of the
/// alignment too (the halo is rounded up to it), so a window's activation grid is a sub-grid of
/// the whole image's, and where a window edge is an image edge the zero padding and the
/// dropped odd rows of floor pooling are the same as for the whole image.
public struct TileWindowLayout: Sendable, Equatable, Codable {
    public let imageWidth: Int
    public let imageHeight: Int
    public let tileSize: Int
    /// The halo in pixels, already rounded up to `alignment`.
    public let halo: Int
    public let alignment: Int
    public let columns: Int
    public let rows: Int
    /// Row-major: tile `row * columns + column`.
    public let tiles: [TileWindow]

    /// - Parameters:
    ///   - tile: interior side in pixels; a multiple of `alignment`. The last column and row take
    ///     what is left of the image.
    ///   - halo: pixels of context on each side (rounded up to `alignment`).
    ///   - alignment: a power of two, at least the total stride of the layers used.
    public init(width: Int, height: Int, tile: Int, halo: Int, alignment: Int) throws {
        guard width > 0, height > 0 else { throw EngineError(.invalidArgument, "image size \(width)×\(height) is empty") }
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw EngineError(.invalidArgument, "tile alignment \(alignment) must be a power of two")
        }
        guard tile > 0, tile % alignment == 0 else {
            let lower = max(alignment, tile / alignment * alignment)
            throw EngineError(.invalidArgument,
                              "tile size \(tile) must be a positive multiple of \(alignment) (the stride of the deepest layer used) so tiles split every layer's activations cleanly; use \(lower) or \(lower + alignment)")
        }
        guard halo >= 0 else { throw EngineError(.invalidArgument, "halo \(halo) must not be negative") }
        imageWidth = width
        imageHeight = height
        tileSize = tile
        self.alignment = alignment
        self.halo = (halo + alignment - 1) / alignment * alignment
        columns = (width + tile - 1) / tile
        rows = (height + tile - 1) / tile
        var tiles: [TileWindow] = []
        for r in 0..<rows {
            for c in 0..<columns {
                let interior = PixelRect(x: c * tile, y: r * tile, width: min(tile, width - c * tile),
                                          height: min(tile, height - r * tile))
                let x0 = max(0, interior.x - self.halo), y0 = max(0, interior.y - self.halo)
                let x1 = min(width, interior.maxX + self.halo), y1 = min(height, interior.maxY + self.halo)
                tiles.append(TileWindow(index: tiles.count, column: c, row: r, interior: interior,
                                        window: PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)))
            }
        }
        self.tiles = tiles
    }

    /// Every field as given (the edge-list initialiser's checks done).
    init(imageWidth: Int, imageHeight: Int, tileSize: Int, halo: Int, alignment: Int, columns: Int, rows: Int, tiles: [TileWindow]) {
        self.imageWidth = imageWidth
        self.imageHeight = imageHeight
        self.tileSize = tileSize
        self.halo = halo
        self.alignment = alignment
        self.columns = columns
        self.rows = rows
        self.tiles = tiles
    }

    /// A layout for `layers`: aligned to their total stride, with the halo that makes owned
    /// activations exact (`exactGradient: false`, enough for Gram sums) or that makes the
    /// back-propagated gradient on each interior exact (`true`), unless `halo` asks for more.
    public init(width: Int, height: Int, tile: Int, layers: [String], exactGradient: Bool, halo: Int? = nil) throws {
        let needed = exactGradient ? try VGG19Architecture.exactHalo(for: layers) : try VGG19Architecture.forwardHalo(for: layers)
        if let halo, halo < needed {
            throw EngineError(.invalidArgument,
                              "halo \(halo) is smaller than the \(needed) pixels layers \(layers.joined(separator: ",")) need to be exact\(exactGradient ? " in the backward pass" : ""); use --halo \(needed) or more")
        }
        try self.init(width: width, height: height, tile: tile, halo: max(halo ?? needed, needed),
                      alignment: try VGG19Architecture.totalStride(for: layers))
    }

    /// The size of a layer of stride `stride` over the whole image (floor pooling).
    public func layerSize(stride: Int) -> (height: Int, width: Int) {
        (imageHeight / stride, imageWidth / stride)
    }

    /// The activations of a layer of stride `stride` (≤ alignment) that `tile` owns, as rows and
    /// columns of the tile's window's activation grid.
    public func ownedPositions(of tile: TileWindow, stride: Int) -> (rows: Range<Int>, columns: Range<Int>) {
        precondition(stride > 0 && alignment % stride == 0, "layer stride \(stride) does not divide the alignment \(alignment)")
        let size = layerSize(stride: stride)
        func owned(_ start: Int, _ end: Int, _ imageEnd: Int, _ count: Int, _ windowStart: Int) -> Range<Int> {
            let first = min(start / stride, count)
            let last = end == imageEnd ? count : min(end / stride, count)
            return (first - windowStart / stride)..<(max(first, last) - windowStart / stride)
        }
        let i = tile.interior, w = tile.window
        return (owned(i.y, i.maxY, imageHeight, size.height, w.y), owned(i.x, i.maxX, imageWidth, size.width, w.x))
    }

    /// The gradient on `tile`'s interior from every tile's window contribution (the
    /// gradient-exchange scheme of `ExactTileStep`): the sum, pixel by pixel, of each
    /// contribution where its window overlaps the interior. `contributions[i]` belongs to tile i
    /// (3 × its window); tiles whose windows miss the interior may be left out.
    public func interiorGradient(of tile: TileWindow, contributions: [Int: Tensor]) throws -> Tensor {
        let inner = tile.interior
        var sum = Tensor(channels: 3, height: inner.height, width: inner.width)
        for index in contributions.keys.sorted() {
            guard tiles.indices.contains(index), let part = contributions[index] else { continue }
            let window = tiles[index].window
            guard part.channels == 3, part.width == window.width, part.height == window.height else {
                throw EngineError(.invalidArgument, "gradient contribution of tile \(index) is \(part.width)×\(part.height), its window is \(window)")
            }
            let x0 = max(inner.x, window.x), x1 = min(inner.maxX, window.maxX)
            let y0 = max(inner.y, window.y), y1 = min(inner.maxY, window.maxY)
            guard x0 < x1, y0 < y1 else { continue }
            part.withUnsafeBufferPointer { src in
                sum.withUnsafeMutableBufferPointer { dst in
                    for c in 0..<3 {
                        for y in y0..<y1 {
                            let from = (c * window.height + y - window.y) * window.width - window.x
                            let to = (c * inner.height + y - inner.y) * inner.width - inner.x
                            for x in x0..<x1 { dst[to + x] += src[from + x] }
                        }
                    }
                }
            }
        }
        return sum
    }
}
