extension Tensor {
    /// The pixels of `rect` (which must lie inside the tensor), all channels.
    public func cropped(to rect: PixelRect) -> Tensor {
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
    public mutating func paste(_ source: Tensor, at rect: PixelRect) {
        combine(source, at: rect, "Tensor.paste") { $0 = $1 }
    }
}
