/// A rectangle of image pixels: a tile's interior or its window (interior plus halo).
///
/// Named apart from the stitcher's rectangle type so the two branches never clash; convert
/// field by field where they meet.
public struct WindowRect: Sendable, Hashable, Codable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var pixelCount: Int { width * height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }

    /// Whether `other` lies entirely inside this rectangle.
    public func contains(_ other: WindowRect) -> Bool {
        other.x >= x && other.y >= y && other.maxX <= maxX && other.maxY <= maxY
    }

    /// This rectangle in the coordinates of a rectangle whose corner is at `origin`.
    public func relative(to origin: WindowRect) -> WindowRect {
        WindowRect(x: x - origin.x, y: y - origin.y, width: width, height: height)
    }

    public var description: String { "\(width)×\(height)+\(x)+\(y)" }
}

extension Tensor {
    /// The pixels of `rect` (which must lie inside the tensor), all channels.
    public func cropped(to rect: WindowRect) -> Tensor {
        precondition(rect.x >= 0 && rect.y >= 0 && rect.maxX <= width && rect.maxY <= height,
                     "Tensor.cropped: \(rect) is outside \(width)×\(height)")
        var out = Tensor(channels: channels, height: rect.height, width: rect.width)
        withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<channels {
                    for row in 0..<rect.height {
                        let from = (c * height + rect.y + row) * width + rect.x
                        let to = (c * rect.height + row) * rect.width
                        for i in 0..<rect.width { dst[to + i] = src[from + i] }
                    }
                }
            }
        }
        return out
    }

    /// Writes `source` (same channels, `rect`'s size) into `rect` of this tensor.
    public mutating func paste(_ source: Tensor, at rect: WindowRect) {
        precondition(source.channels == channels && source.width == rect.width && source.height == rect.height,
                     "Tensor.paste: \(source.width)×\(source.height) does not fill \(rect)")
        precondition(rect.x >= 0 && rect.y >= 0 && rect.maxX <= width && rect.maxY <= height,
                     "Tensor.paste: \(rect) is outside \(width)×\(height)")
        let (c0, h, w) = (channels, height, width)
        source.withUnsafeBufferPointer { src in
            withUnsafeMutableBufferPointer { dst in
                for c in 0..<c0 {
                    for row in 0..<rect.height {
                        let to = (c * h + rect.y + row) * w + rect.x
                        let from = (c * rect.height + row) * rect.width
                        for i in 0..<rect.width { dst[to + i] = src[from + i] }
                    }
                }
            }
        }
    }
}

extension RGBImage {
    /// The pixels of `rect` (which must lie inside the image).
    public func cropped(to rect: WindowRect) -> RGBImage {
        precondition(rect.x >= 0 && rect.y >= 0 && rect.maxX <= width && rect.maxY <= height,
                     "RGBImage.cropped: \(rect) is outside \(width)×\(height)")
        var out = [Float](repeating: 0, count: rect.pixelCount * 3)
        for row in 0..<rect.height {
            let from = ((rect.y + row) * width + rect.x) * 3
            for i in 0..<(rect.width * 3) { out[row * rect.width * 3 + i] = pixels[from + i] }
        }
        return RGBImage(width: rect.width, height: rect.height, pixels: out)
    }
}
