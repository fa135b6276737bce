public import Protocol

/// One task's loss curves as SVG: total, content, each style and (when it is not zero
/// throughout) total variation, against the iteration, on a log-scale y axis ticked at decades.
/// Values a log axis cannot place (zero, negative, NaN, infinite) are left out; each series is
/// decimated to at most `maximumPointsPerSeries` points so that a long render's plot stays a
/// few tens of kilobytes. The job folder writes one per task (`losses/<name>.svg`); a live page
/// can redraw it from the lines received so far.
public struct LossCurves: Sendable {
    public struct Point: Sendable, Equatable {
        public var iteration: Double
        public var value: Double

        public init(iteration: Double, value: Double) {
            self.iteration = iteration
            self.value = value
        }
    }

    /// One named line and how it is drawn.
    public struct Series: Sendable {
        public var name: String
        public var points: [Point]
        /// An SVG colour ("#1f77b4"); nil for the palette's colour of the series' place.
        public var color: String?
        /// A stroke-dasharray ("4 3"), or nil for a solid line.
        public var dash: String?
        public var lineWidth: Double

        public init(name: String, points: [Point], color: String? = nil, dash: String? = nil, lineWidth: Double = 1.5) {
            self.name = name
            self.points = points
            self.color = color
            self.dash = dash
            self.lineWidth = lineWidth
        }
    }

    public var series: [Series]
    public var title: String
    /// The document's size in pixels, clamped to 240…4096 × 180…4096.
    public var width: Int
    public var height: Int
    public var maximumPointsPerSeries: Int

    public static let defaultMaximumPointsPerSeries = 1000

    public init(series: [Series], title: String = "Losses", width: Int = 640, height: Int = 400,
                maximumPointsPerSeries: Int = LossCurves.defaultMaximumPointsPerSeries) {
        self.series = series
        self.title = title
        self.width = width
        self.height = height
        self.maximumPointsPerSeries = maximumPointsPerSeries
    }

    /// The curves of one attempt's loss lines (give one attempt's: iterations restart with
    /// each). Styles are named "style 1: <name>" from `styleNames`; style i has the colour
    /// style i has in `ImprovementPlot`.
    public init(lines: [LossLine], styleNames: [String], title: String = "Losses", width: Int = 640, height: Int = 400,
                maximumPointsPerSeries: Int = LossCurves.defaultMaximumPointsPerSeries) {
        func points(_ value: (LossLine) -> Double) -> [Point] {
            lines.map { Point(iteration: Double($0.iteration), value: value($0)) }
        }
        let styleCount = max(styleNames.count, lines.map(\.styles.count).max() ?? 0)
        var series = [Series(name: "total", points: points(\.total), color: "#222", lineWidth: 2.5),
                      Series(name: "content", points: points(\.content), color: "#7f7f7f", dash: "6 3")]
        for style in 0..<styleCount {
            let name = "style \(style + 1)" + (style < styleNames.count ? ": " + styleNames[style] : "")
            series.append(Series(name: name, points: points { style < $0.styles.count ? $0.styles[style] : .nan },
                                 color: PlotFrame.color(style)))
        }
        if lines.contains(where: { $0.tv != 0 && $0.tv.isFinite }) {
            series.append(Series(name: "tv", points: points(\.tv), color: "#9467bd", dash: "2 3"))
        }
        self.init(series: series, title: title, width: width, height: height, maximumPointsPerSeries: maximumPointsPerSeries)
    }

    var size: (width: Int, height: Int) { (min(max(width, 240), 4096), min(max(height, 180), 4096)) }

    /// Each series' points that a log axis can place, decimated.
    func plottedSeries() -> [[Point]] {
        series.map { one in
            Self.decimate(one.points.filter { $0.iteration.isFinite && $0.value.isFinite && $0.value > 0 },
                          maximum: maximumPointsPerSeries)
        }
    }

    /// The figure as a standalone SVG document; a titled placeholder when there is nothing
    /// to plot yet (no lines, or none positive).
    public func svg() -> String {
        let plotted = plottedSeries()
        let all = plotted.flatMap { $0 }
        guard let low = all.map(\.value).min(), let high = all.map(\.value).max(),
              let first = all.map(\.iteration).min(), let last = all.map(\.iteration).max() else {
            return PlotFrame.empty(width: size.width, height: size.height, title: title, message: "no loss values yet")
        }
        // Legend rows under the plot: about four entries a row at the default width.
        let perRow = max(1, (size.width - 80) / 150)
        let legendRows = Double((series.count + perRow - 1) / perRow)
        let frame = PlotFrame(left: 64, top: 36, right: Double(size.width) - 16,
                              bottom: max(80, Double(size.height) - 52 - 18 * legendRows),
                              x: .linear(minimum: first, maximum: last), y: .logarithmic(minimum: low, maximum: high))
        var svg = SVGDocument(width: size.width, height: size.height, title: title)
        frame.draw(into: &svg, title: title, xTitle: "iteration", yTitle: "loss (log scale)")
        var legend: [PlotFrame.LegendEntry] = []
        for (index, (one, points)) in zip(series, plotted).enumerated() {
            let color = one.color ?? PlotFrame.color(index)
            let positions = points.compactMap { point in frame.px(point.iteration).flatMap { x in frame.py(point.value).map { (x: x, y: $0) } } }
            svg.polyline(positions, stroke: color, width: one.lineWidth, dash: one.dash, className: "series")
            // A single point has no line to show it: a marker does.
            if positions.count == 1, let only = positions.first {
                svg.circle(cx: only.x, cy: only.y, r: 3, fill: color, className: "marker")
            }
            legend.append(.init(label: one.name, color: color, dash: one.dash))
        }
        frame.drawLegend(legend, into: &svg, top: frame.bottom + 56)
        return svg.rendered()
    }
}
