import Testing
@testable import Coordinator
import Protocol

struct HTMLTextTests {
    static let hostile = "</svg><script>alert('x' & \"y\")</script>"

    @Test func theFiveMarkupCharactersBecomeReferences() {
        #expect(HTMLText.escape(Self.hostile) == "&lt;/svg&gt;&lt;script&gt;alert(&#39;x&#39; &amp; &quot;y&quot;)&lt;/script&gt;")
        #expect(HTMLText.escape("starry_night.jpg") == "starry_night.jpg")
        #expect(HTMLText.escape("γ* = 0.45 — ok") == "γ* = 0.45 — ok")
        #expect(HTMLText.escape("a\u{0}b\u{1B}c\nd") == "a\u{FFFD}b\u{FFFD}c\nd", "control characters XML forbids are replaced")
    }

    @Test func linksArePercentEncodedPerSegment() {
        #expect(HTMLText.link("tiles/tile-r0-c1.png") == "tiles/tile-r0-c1.png")
        #expect(HTMLText.link("gamma=0.5,beta=10.png") == "gamma=0.5,beta=10.png")
        #expect(HTMLText.link("a b#?\"<.png") == "a%20b%23%3F%22%3C.png")
        #expect(HTMLText.link("é.png") == "%C3%A9.png")
    }

    @Test func hostileNamesStayTextInEveryPlot() throws {
        let names = [Self.hostile, "it's <b>bold</b> & \u{0}"]
        let plots = [
            ImprovementPlot(points: [.init(gamma: 0, relativeImprovement: [1, 3]), .init(gamma: 1, relativeImprovement: [3, 1])],
                            styleNames: names, title: Self.hostile).svg(),
            LossCurves(lines: [LossLine(iteration: 0, total: 9, content: 1, styles: [2, 3], tv: 0, elapsed: 0),
                               LossLine(iteration: 1, total: 8, content: 1, styles: [1, 2], tv: 0, elapsed: 1)],
                       styleNames: names, title: Self.hostile).svg(),
            LossCurves(series: [], title: Self.hostile).svg(),
        ]
        for svg in plots {
            let tree = try XMLTree(svg)
            #expect(tree.root.name == "svg")
            #expect(tree.elements(named: "script").isEmpty && tree.elements(named: "b").isEmpty)
            #expect(tree.elements(named: "title").first?.text == Self.hostile, "the title reads back as the text given")
            #expect(!svg.contains("<script"))
        }
        let legend = try XMLTree(plots[0]).elements(named: "text").map(\.text)
        #expect(legend.contains("style 1: " + Self.hostile), "\(legend)")
        #expect(legend.contains("style 2: it's <b>bold</b> & \u{FFFD}"), "\(legend)")
        let long = ImprovementPlot(points: [.init(gamma: 0, relativeImprovement: [1])], styleNames: [String(repeating: "x", count: 100)]).svg()
        #expect(try XMLTree(long).elements(named: "text").map(\.text).contains("style 1: " + String(repeating: "x", count: 38) + "…"),
                "a long name is cut to 48 characters in the legend")
    }

    @Test func numbersAreShortAndAlwaysValid() {
        #expect(SVGDocument.number(12) == "12")
        #expect(SVGDocument.number(12.5) == "12.5")
        #expect(SVGDocument.number(-0.254) == "-0.25")
        #expect(SVGDocument.number(0.001) == "0")
        #expect(SVGDocument.number(.nan) == "0")
        #expect(SVGDocument.number(.infinity) == "1000000")
    }
}
