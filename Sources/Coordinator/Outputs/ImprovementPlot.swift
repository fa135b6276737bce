internal import Foundation

/// The γ-balancing figure, as SVG: the relative improvement RIᵢ = styleᵢ(start) / styleᵢ(end)
/// of each style against γ, one coloured line with markers per style, a log y axis when the
/// values span more than 10×, a legend, and the crossover γ* where RI₁ = RI₂ as a dashed line.
/// The job folder writes it as `relative_improvement.svg`; a page can paste `svg()` inline.
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
    /// The document's size in pixels, clamped to 320…4096 × 240…4096.
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

    var size: (width: Int, height: Int) { (min(max(width, 320), 4096), min(max(height, 240), 4096)) }

    /// The plot area: left, top, right, bottom edges; below it the axis title and the legend.
    var plotArea: (left: Double, top: Double, right: Double, bottom: Double) {
        (72, 40, Double(size.width) - 24, Double(size.height) - 96)
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

    /// The figure as a standalone SVG document. With no finite value yet it is a titled
    /// placeholder saying so, never an error: a live page draws it before any point is done.
    public func svg() -> String {
        guard let yAxis = valueAxis() else {
            return PlotFrame.empty(width: size.width, height: size.height, title: title,
                                   message: "no relative improvements yet: no point has finished")
        }
        let area = plotArea
        let frame = PlotFrame(left: area.left, top: area.top, right: area.right, bottom: area.bottom, x: gammaAxis(), y: yAxis)
        var svg = SVGDocument(width: size.width, height: size.height, title: title)
        frame.draw(into: &svg, title: title, xTitle: "γ (weight of style 1, 1 − γ on style 2)",
                   yTitle: yAxis.logarithmic ? "relative improvement RI (log scale)" : "relative improvement RI")

        // The crossover under the lines, so the lines stay readable where they meet.
        if let gammaStar = crossoverGamma, let x = frame.px(Double(gammaStar)) {
            svg.line(x1: x, y1: area.top, x2: x, y2: area.bottom, stroke: "#777", width: 1.5, dash: "6 4", className: "crossover")
            let label = "γ* = \(Self.formatGamma(gammaStar))"
            let labelOnRight = x + 8 + Double(label.count) * 7 < area.right
            svg.text(label, x: labelOnRight ? x + 6 : x - 6, y: area.top + 16, anchor: labelOnRight ? .start : .end, size: 12,
                     bold: true, className: "crossover-label")
        }

        // One line with markers per style; a missing value leaves a gap in its line.
        let sorted = points.sorted { $0.gamma < $1.gamma }
        for style in 0..<styleCount {
            let color = PlotFrame.color(style)
            var segment: [(x: Double, y: Double)] = []
            var markers: [(x: Double, y: Double)] = []
            for point in sorted {
                guard style < point.relativeImprovement.count, let x = frame.px(Double(point.gamma)),
                      let y = frame.py(point.relativeImprovement[style]) else {
                    svg.polyline(segment, stroke: color, width: 2, className: "series")
                    segment = []
                    continue
                }
                segment.append((x, y))
                markers.append((x, y))
            }
            svg.polyline(segment, stroke: color, width: 2, className: "series")
            for marker in markers { svg.circle(cx: marker.x, cy: marker.y, r: 3.5, fill: color, className: "marker") }
        }

        let legend = (0..<styleCount).map { style in
            PlotFrame.LegendEntry(label: "style \(style + 1): " + (style < styleNames.count ? styleNames[style] : "?"),
                                  color: PlotFrame.color(style))
        }
        frame.drawLegend(legend, into: &svg, top: area.bottom + 62)
        return svg.rendered()
    }

    /// γ* to three decimals, without trailing zeros: 0.45, 0.333.
    static func formatGamma(_ gamma: Float) -> String {
        var text = String(format: "%.3f", Double(gamma))
        while text.contains("."), text.hasSuffix("0") || text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
