extension Tensor {
    /// Adds `source` (same channels, `rect`'s size) into `rect` of this tensor.
    public mutating func add(_ source: Tensor, at rect: PixelRect) {
        combine(source, at: rect, "Tensor.add") { $0 += $1 }
    }

    /// `update(target, source)` for every sample of `rect`, channel by channel, row by row.
    mutating func combine(_ source: Tensor, at rect: PixelRect, _ what: String, _ update: (inout Float, Float) -> Void) {
        precondition(source.channels == channels && source.width == rect.width && source.height == rect.height,
                     "\(what): \(source.width)×\(source.height) does not fill \(rect)")
        precondition(rect.x >= 0 && rect.y >= 0 && rect.maxX <= width && rect.maxY <= height,
                     "\(what): \(rect) is outside \(width)×\(height)")
        let (c0, h, w) = (channels, height, width)
        source.withUnsafeBufferPointer { src in
            withUnsafeMutableBufferPointer { dst in
                for c in 0..<c0 {
                    for row in 0..<rect.height {
                        let to = (c * h + rect.y + row) * w + rect.x
                        let from = (c * rect.height + row) * rect.width
                        for i in 0..<rect.width { update(&dst[to + i], src[from + i]) }
                    }
                }
            }
        }
    }
}
