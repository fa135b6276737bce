public import Engine

/// Pixel-level drawing on an `RGBImage` for the job's figures. Everything clips to the image:
/// coordinates outside it draw nothing, so callers never need to check bounds.
extension RGBImage {
    /// The colour at (x, y), or nil outside the image.
    public func color(atX x: Int, y: Int) -> RGBColor? {
        guard x >= 0, y >= 0, x < width, y < height else { return nil }
        let i = (y * width + x) * 3
        return RGBColor(red: pixels[i], green: pixels[i + 1], blue: pixels[i + 2])
    }

    public mutating func setPixel(x: Int, y: Int, _ color: RGBColor) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = color.red
        pixels[i + 1] = color.green
        pixels[i + 2] = color.blue
    }

    /// Fills the rectangle with its top-left corner at (x, y).
    public mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, _ color: RGBColor) {
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(width, x.addingReportingOverflow(w).partialValue)
        let y1 = min(height, y.addingReportingOverflow(h).partialValue)
        guard x0 < x1, y0 < y1 else { return }
        for row in y0..<y1 {
            for column in x0..<x1 { setPixel(x: column, y: row, color) }
        }
    }

    /// A one-pixel outline of the rectangle with its top-left corner at (x, y).
    public mutating func strokeRect(x: Int, y: Int, width w: Int, height h: Int, _ color: RGBColor) {
        guard w > 0, h > 0 else { return }
        fillRect(x: x, y: y, width: w, height: 1, color)
        fillRect(x: x, y: y + h - 1, width: w, height: 1, color)
        fillRect(x: x, y: y, width: 1, height: h, color)
        fillRect(x: x + w - 1, y: y, width: 1, height: h, color)
    }

    /// A straight line from (x0, y0) to (x1, y1) (Bresenham), `thickness` pixels wide as a
    /// square brush. With `dash` (on, off) in pixels along the line, it is dashed.
    public mutating func drawLine(x0: Int, y0: Int, x1: Int, y1: Int, _ color: RGBColor,
                                  thickness: Int = 1, dash: (on: Int, off: Int)? = nil) {
        // Far-off endpoints (a value plotted on the wrong scale) would make the walk long:
        // clamp them to a band around the image, which keeps the visible part's direction
        // only approximately but bounds the work.
        let limit = 4 * max(width, height)
        var x = Swift.min(Swift.max(x0, -limit), limit), y = Swift.min(Swift.max(y0, -limit), limit)
        let xe = Swift.min(Swift.max(x1, -limit), limit), ye = Swift.min(Swift.max(y1, -limit), limit)
        let dx = abs(xe - x), dy = -abs(ye - y)
        let sx = x < xe ? 1 : -1, sy = y < ye ? 1 : -1
        var error = dx + dy
        let brush = Swift.max(1, thickness)
        let offset = (brush - 1) / 2
        var step = 0
        while true {
            let inked: Bool
            if let dash, dash.on > 0, dash.off >= 0 {
                inked = step % (dash.on + dash.off) < dash.on
            } else {
                inked = true
            }
            if inked { fillRect(x: x - offset, y: y - offset, width: brush, height: brush, color) }
            if x == xe && y == ye { break }
            let e2 = 2 * error
            if e2 >= dy { error += dy; x += sx }
            if e2 <= dx { error += dx; y += sy }
            step += 1
        }
    }

    /// A filled disc of `radius` pixels centred on (cx, cy).
    public mutating func fillCircle(cx: Int, cy: Int, radius: Int, _ color: RGBColor) {
        guard radius >= 0 else { return }
        for dy in -radius...radius {
            for dx in -radius...radius where dx * dx + dy * dy <= radius * radius + radius {
                setPixel(x: cx + dx, y: cy + dy, color)
            }
        }
    }

    /// Copies `image` with its top-left corner at (x, y), clipped to this image.
    public mutating func paste(_ image: RGBImage, x: Int, y: Int) {
        for row in 0..<image.height where y + row >= 0 && y + row < height {
            for column in 0..<image.width where x + column >= 0 && x + column < width {
                let source = (row * image.width + column) * 3
                let target = ((y + row) * width + x + column) * 3
                pixels[target] = image.pixels[source]
                pixels[target + 1] = image.pixels[source + 1]
                pixels[target + 2] = image.pixels[source + 2]
            }
        }
    }
}
