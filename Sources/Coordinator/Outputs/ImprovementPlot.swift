public import Engine
internal import Foundation

/// The γ-balancing figure: the relative improvement RIᵢ = styleᵢ(start) / styleᵢ(end) of each
/// style against γ, one coloured line with markers per style, a log y axis when the values
/// span more than 10×, a legend, and the crossover γ* where RI₁ = RI₂ as a dashed line.
/// Renders to an image; the caller writes the PNG.
public struct ImprovementPlot: Sendable {
    /// One sweep point: its γ and the relative improvement of each style.
    public struct Point: Sendable, Equatable {
        public var gamma: Float
        public var relativeImprovement: [Double]

        public init(gamma: Float, relativeImprovement: [Double]) {
            self.gamma = gamma
            self.relativeImprovement = relativeImprovement
        }
    }

    /// The points, in any order (drawn in order of γ). For a grid over more options than γ,
    /// give the points of one setting of the others: points sharing a γ are joined as given.
    public var points: [Point]
    /// The style images' names, for the legend ("style 1: starry_night.jpg").
    public var styleNames: [String]
    public var title: String
    public var width: Int
    public var height: Int

    public init(points: [Point], styleNames: [String], title: String = "Relative improvement of each style against γ",
                width: Int = 800, height: Int = 500) {
        self.points = points
        self.styleNames = styleNames
        self.title = title
        self.width = width
        self.height = height
    }

    /// Styles plotted: as many as named, or as the longest point has.
    public var styleCount: Int {
        max(styleNames.count, points.map(\.relativeImprovement.count).max() ?? 0)
    }

    /// γ* of styles 1 and 2, when both are plotted and cross.
    public var crossoverGamma: Float? {
        guard styleCount >= 2 else { return nil }
        let sorted = points.sorted { $0.gamma < $1.gamma }
        return Self.crossover(gammas: sorted.map(\.gamma),
                              ri1: sorted.map { $0.relativeImprovement.count > 0 ? $0.relativeImprovement[0] : .nan },
                              ri2: sorted.map { $0.relativeImprovement.count > 1 ? $0.relativeImprovement[1] : .nan })
    }

    /// The plot area inside the image: left, top, right, bottom edges in pixels.
    var plotArea: (left: Int, top: Int, right: Int, bottom: Int) {
        (72, 52, width - 24, height - 96)
    }

    /// The y axis: logarithmic when every value is positive and they span more than 10×.
    func valueAxis() -> PlotAxis? {
        let values = points.flatMap(\.relativeImprovement).filter(\.isFinite)
        guard let low = values.min(), let high = values.max() else { return nil }
        if low > 0 && high / low > 10 { return .logarithmic(minimum: low, maximum: high) }
        return .linear(minimum: low, maximum: high)
    }

    func gammaAxis() -> PlotAxis {
        let gammas = points.map { Double($0.gamma) }.filter(\.isFinite)
        return .linear(minimum: min(0, gammas.min() ?? 0), maximum: max(1, gammas.max() ?? 1))
    }

    public func render() throws -> RGBImage {
        guard (320...8192).contains(width), (240...8192).contains(height) else {
            throw EngineError(.invalidArgument, "a plot of \(width)×\(height) px: give a width of 320…8192 and a height of 240…8192")
        }
        guard let yAxis = valueAxis() else {
            throw EngineError(.invalidArgument, "no finite relative improvements to plot; the job's tasks reported none")
        }
        let xAxis = gammaAxis()
        let area = plotArea
        func px(_ gamma: Double) -> Int? {
            xAxis.fraction(gamma).map { area.left + Int((min(max($0, -4), 4) * Double(area.right - area.left)).rounded()) }
        }
        func py(_ value: Double) -> Int? {
            yAxis.fraction(value).map { area.bottom - Int((min(max($0, -4), 4) * Double(area.bottom - area.top)).rounded()) }
        }

        var image = RGBImage(width: width, height: height, fill: 255)
        BitmapFont.drawText(title, into: &image, x: max(4, (width - BitmapFont.textWidth(title, scale: 2)) / 2), y: 12,
                            scale: 2, color: .black)
        let yTitle = yAxis.logarithmic ? "relative improvement RI (log scale)" : "relative improvement RI"
        BitmapFont.drawText(yTitle, into: &image, x: area.left, y: area.top - 14, color: .black)

        // Grid and ticks.
        for tick in xAxis.ticks {
            guard let x = px(tick) else { continue }
            image.drawLine(x0: x, y0: area.top, x1: x, y1: area.bottom, .lightGray)
            image.drawLine(x0: x, y0: area.bottom, x1: x, y1: area.bottom + 4, .black)
            let label = PlotAxis.label(tick)
            BitmapFont.drawText(label, into: &image, x: x - BitmapFont.textWidth(label) / 2, y: area.bottom + 8, color: .black)
        }
        for tick in yAxis.ticks {
            guard let y = py(tick) else { continue }
            image.drawLine(x0: area.left, y0: y, x1: area.right, y1: y, .lightGray)
            image.drawLine(x0: area.left - 4, y0: y, x1: area.left, y1: y, .black)
            let label = PlotAxis.label(tick)
            BitmapFont.drawText(label, into: &image, x: area.left - 8 - BitmapFont.textWidth(label), y: y - 3, color: .black)
        }
        image.strokeRect(x: area.left, y: area.top, width: area.right - area.left + 1, height: area.bottom - area.top + 1, .black)
        let xTitle = "γ (weight of style 1, 1 − γ on style 2)"
        BitmapFont.drawText(xTitle, into: &image, x: (area.left + area.right - BitmapFont.textWidth(xTitle)) / 2,
                            y: area.bottom + 24, color: .black)

        // The crossover under the lines, so the lines stay readable where they meet.
        if let gammaStar = crossoverGamma, let x = px(Double(gammaStar)) {
            image.drawLine(x0: x, y0: area.top, x1: x, y1: area.bottom, .gray, dash: (on: 6, off: 4))
            let label = "γ* = \(Self.formatGamma(gammaStar))"
            let labelX = x + 6 + BitmapFont.textWidth(label) < area.right ? x + 6 : x - 6 - BitmapFont.textWidth(label)
            BitmapFont.drawText(label, into: &image, x: labelX, y: area.top + 6, color: .black)
        }

        // One line with markers per style.
        let sorted = points.sorted { $0.gamma < $1.gamma }
        for style in 0..<styleCount {
            let color = RGBColor.series(style)
            var previous: (x: Int, y: Int)?
            var markers: [(x: Int, y: Int)] = []
            for point in sorted {
                guard style < point.relativeImprovement.count,
                      let x = px(Double(point.gamma)), let y = py(point.relativeImprovement[style]) else {
                    previous = nil   // a gap in the line where a value is missing
                    continue
                }
                if let previous { image.drawLine(x0: previous.x, y0: previous.y, x1: x, y1: y, color, thickness: 2) }
                previous = (x, y)
                markers.append((x, y))
            }
            for marker in markers { image.fillCircle(cx: marker.x, cy: marker.y, radius: 3, color) }
        }

        drawLegend(into: &image, top: area.bottom + 44)
        return image
    }

    /// "style 1: starry_night.jpg" entries with a line-and-marker swatch, left to right,
    /// wrapping to a second row; entries that do not fit are left out.
    func drawLegend(into image: inout RGBImage, top: Int) {
        var x = plotArea.left, y = top
        for style in 0..<styleCount {
            let name = style < styleNames.count ? styleNames[style] : "?"
            let text = "style \(style + 1): \(name)"
            let entryWidth = 28 + BitmapFont.textWidth(text) + 20
            if x + entryWidth > width - 8 && x > plotArea.left {
                x = plotArea.left
                y += 16
            }
            guard y + 10 < height else { return }
            let color = RGBColor.series(style)
            image.drawLine(x0: x, y0: y + 3, x1: x + 20, y1: y + 3, color, thickness: 2)
            image.fillCircle(cx: x + 10, cy: y + 3, radius: 3, color)
            BitmapFont.drawText(text, into: &image, x: x + 28, y: y, color: .black)
            x += entryWidth
        }
    }

    /// γ* to three decimals, without trailing zeros: 0.45, 0.333.
    static func formatGamma(_ gamma: Float) -> String {
        var text = String(format: "%.3f", Double(gamma))
        while text.contains("."), text.hasSuffix("0") || text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
