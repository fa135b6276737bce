/// The part every figure shares: a plot area inside the document, the two axes mapped onto
/// it, and the drawing of the frame — light grid, ticks, tick labels, titles — and a legend.
struct PlotFrame: Sendable {
    var left: Double
    var top: Double
    var right: Double
    var bottom: Double
    var x: PlotAxis
    var y: PlotAxis

    /// Line colours for series (Tableau 10), distinct from each other and from the frame's
    /// greys; series beyond it reuse it from the start.
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf"]

    /// The palette colour of series `index`; any index, negative ones included, is valid.
    static func color(_ index: Int) -> String {
        palette[((index % palette.count) + palette.count) % palette.count]
    }

    /// The horizontal position of `value`, or nil when the axis cannot place it. Values far
    /// outside are clamped to a band around the area, so a stray point stays a finite number.
    func px(_ value: Double) -> Double? {
        x.fraction(value).map { left + min(max($0, -1), 2) * (right - left) }
    }

    func py(_ value: Double) -> Double? {
        y.fraction(value).map { bottom - min(max($0, -1), 2) * (bottom - top) }
    }

    /// Title above, grid lines and labelled ticks, the frame, and the axis titles.
    func draw(into svg: inout SVGDocument, title: String, xTitle: String, yTitle: String) {
        svg.text(title, x: Double(svg.width) / 2, y: 22, anchor: .middle, size: 15, bold: true)
        for tick in x.ticks {
            guard let position = px(tick) else { continue }
            svg.line(x1: position, y1: top, x2: position, y2: bottom, stroke: "#e3e3e3", className: "grid")
            svg.line(x1: position, y1: bottom, x2: position, y2: bottom + 5, stroke: "#222", className: "x-tick")
            svg.text(x.label(tick), x: position, y: bottom + 18, anchor: .middle, size: 11)
        }
        for tick in y.ticks {
            guard let position = py(tick) else { continue }
            svg.line(x1: left, y1: position, x2: right, y2: position, stroke: "#e3e3e3", className: "grid")
            svg.line(x1: left - 5, y1: position, x2: left, y2: position, stroke: "#222", className: "y-tick")
            svg.text(y.label(tick), x: left - 8, y: position + 4, anchor: .end, size: 11, className: "y-label")
        }
        svg.rect(x: left, y: top, width: right - left, height: bottom - top, stroke: "#222")
        svg.text(xTitle, x: (left + right) / 2, y: bottom + 36, anchor: .middle, size: 12)
        svg.text(yTitle, x: 16, y: (top + bottom) / 2, anchor: .middle, size: 12, rotate: -90)
    }

    /// A legend entry: its label, colour, and whether its line is dashed.
    struct LegendEntry {
        var label: String
        var color: String
        var dash: String? = nil
    }

    /// Entries left to right from (left, `top`), wrapping to new rows within the document's
    /// width; text widths are estimated (no font metrics), labels longer than 48 characters
    /// are cut. Entries that would fall below the document are left out.
    func drawLegend(_ entries: [LegendEntry], into svg: inout SVGDocument, top legendTop: Double) {
        var x = left, y = legendTop
        for entry in entries {
            let label = entry.label.count > 48 ? String(entry.label.prefix(47)) + "…" : entry.label
            let entryWidth = 30 + Double(label.count) * 6.6 + 18
            if x + entryWidth > Double(svg.width) - 8 && x > left {
                x = left
                y += 18
            }
            guard y + 6 < Double(svg.height) else { return }
            svg.line(x1: x, y1: y - 4, x2: x + 22, y2: y - 4, stroke: entry.color, width: 2, dash: entry.dash)
            svg.text(label, x: x + 28, y: y, size: 12)
            x += entryWidth
        }
    }

    /// A document with only a title and a centred message, for a figure with nothing to draw
    /// yet (the dashboard shows a plot before the first point arrives).
    static func empty(width: Int, height: Int, title: String, message: String) -> String {
        var svg = SVGDocument(width: width, height: height, title: title)
        svg.text(title, x: Double(svg.width) / 2, y: 22, anchor: .middle, size: 15, bold: true)
        svg.text(message, x: Double(svg.width) / 2, y: Double(svg.height) / 2, anchor: .middle, size: 13, fill: "#666",
                 className: "empty")
        return svg.rendered()
    }
}
