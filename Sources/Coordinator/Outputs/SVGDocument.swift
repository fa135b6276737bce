internal import Foundation

/// A small SVG writer: a standalone document (`xmlns`, `viewBox`, `width`, `height`) that also
/// works pasted inline into an HTML page. Every string it is given is escaped
/// (`HTMLText.escape`); numbers are written with at most two decimals and clamped to a sane
/// range, so a NaN or an infinity coming from a loss never produces an unreadable document.
/// Presentation attributes only, no CSS and no ids (several plots on one page cannot clash),
/// and the system's sans-serif font (nothing is fetched).
public struct SVGDocument: Sendable {
    public let width: Int
    public let height: Int
    private var title: String
    private var body: [String] = []

    /// - Parameter title: the document's `<title>` (what screen readers and tooltips show).
    public init(width: Int, height: Int, title: String) {
        self.width = min(max(width, 1), 100_000)
        self.height = min(max(height, 1), 100_000)
        self.title = title
    }

    public enum Anchor: String, Sendable { case start, middle, end }

    /// A straight line; `dash` is a stroke-dasharray such as "6 4".
    public mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double = 1,
                              dash: String? = nil, className: String? = nil) {
        body.append("<line\(Self.classAttribute(className)) x1=\"\(Self.number(x1))\" y1=\"\(Self.number(y1))\" x2=\"\(Self.number(x2))\" y2=\"\(Self.number(y2))\" stroke=\"\(HTMLText.escape(stroke))\" stroke-width=\"\(Self.number(width))\"\(Self.dashAttribute(dash))/>")
    }

    /// A line through `points` in order (nothing for fewer than two).
    public mutating func polyline(_ points: [(x: Double, y: Double)], stroke: String, width: Double = 1.5,
                                  dash: String? = nil, className: String? = nil) {
        guard points.count >= 2 else { return }
        let coordinates = points.map { Self.number($0.x) + "," + Self.number($0.y) }.joined(separator: " ")
        body.append("<polyline\(Self.classAttribute(className)) points=\"\(coordinates)\" fill=\"none\" stroke=\"\(HTMLText.escape(stroke))\" stroke-width=\"\(Self.number(width))\" stroke-linejoin=\"round\"\(Self.dashAttribute(dash))/>")
    }

    public mutating func circle(cx: Double, cy: Double, r: Double, fill: String, className: String? = nil) {
        body.append("<circle\(Self.classAttribute(className)) cx=\"\(Self.number(cx))\" cy=\"\(Self.number(cy))\" r=\"\(Self.number(r))\" fill=\"\(HTMLText.escape(fill))\"/>")
    }

    public mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String = "none",
                              stroke: String? = nil, className: String? = nil) {
        let strokeAttribute = stroke.map { " stroke=\"\(HTMLText.escape($0))\"" } ?? ""
        body.append("<rect\(Self.classAttribute(className)) x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(max(0, width)))\" height=\"\(Self.number(max(0, height)))\" fill=\"\(HTMLText.escape(fill))\"\(strokeAttribute)/>")
    }

    /// Text with its baseline at `y`; `rotate` turns it about (x, y) in degrees (−90 for a
    /// vertical axis title).
    public mutating func text(_ text: String, x: Double, y: Double, anchor: Anchor = .start, size: Double = 12,
                              bold: Bool = false, fill: String = "#222", rotate: Double? = nil, className: String? = nil) {
        var attributes = "\(Self.classAttribute(className)) x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" font-size=\"\(Self.number(size))\" fill=\"\(HTMLText.escape(fill))\""
        if anchor != .start { attributes += " text-anchor=\"\(anchor.rawValue)\"" }
        if bold { attributes += " font-weight=\"bold\"" }
        if let rotate { attributes += " transform=\"rotate(\(Self.number(rotate)) \(Self.number(x)) \(Self.number(y)))\"" }
        body.append("<text\(attributes)>\(HTMLText.escape(text))</text>")
    }

    /// The document: one `<svg>` element, no XML declaration (so that it pastes into HTML).
    public func rendered() -> String {
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"system-ui, sans-serif\" role=\"img\">\n"
        out += "<title>\(HTMLText.escape(title))</title>\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#fff\"/>\n"
        for element in body { out += element + "\n" }
        out += "</svg>\n"
        return out
    }

    /// At most two decimals, no trailing zeros ("12", "12.5", "-0.25"); NaN is 0 and
    /// everything is clamped to ±1e6 (far outside any plot, still a valid number).
    static func number(_ value: Double) -> String {
        let clamped = value.isNaN ? 0 : min(max(value, -1e6), 1e6)
        let hundredths = (clamped * 100).rounded()
        if hundredths == 0 { return "0" }
        var text = String(format: "%.2f", hundredths / 100)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    private static func classAttribute(_ name: String?) -> String {
        name.map { " class=\"\(HTMLText.escape($0))\"" } ?? ""
    }

    private static func dashAttribute(_ dash: String?) -> String {
        dash.map { " stroke-dasharray=\"\(HTMLText.escape($0))\"" } ?? ""
    }
}
