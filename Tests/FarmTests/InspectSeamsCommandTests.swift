import Foundation
import Testing
import TestSupport

/// `stylefarm inspect seams` as users run it: the real executable on generated images.
@Suite struct InspectSeamsCommandTests {
    @Test func inspectSeamsPrintsTheScoreAndWithJSONEveryBorder() throws {
        let farm = try FarmHarness()
        let image = try SampleImages.writePattern(in: farm.dir, name: "out.png", width: 256, height: 192, seed: 4)

        let (status, output) = try farm.run(["inspect", "seams", image, "--tile", "64"])
        #expect(status == 0, "\(output)")
        #expect(output.hasPrefix("seam score "), "\(output)")
        #expect(output.contains("over 17 borders (tile 64, 256×192)"), "\(output)")

        let (jsonStatus, json) = try farm.run(["inspect", "seams", image, "--tile", "64", "--json"])
        #expect(jsonStatus == 0, "\(json)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(json)")
        #expect(report["score"] is Double && report["tile_size"] as? Int == 64)
        let borders = try #require(report["borders"] as? [[String: Any]])
        #expect(borders.count == 17)
        #expect(borders.first?["tiles"] as? [String] == ["tile-r0-c0", "tile-r0-c1"])
        #expect(Set(borders.compactMap { $0["orientation"] as? String }) == ["vertical", "horizontal"])
    }

    @Test func inspectSeamsRefusesBadInputWithClearErrors() throws {
        let farm = try FarmHarness()
        let image = try SampleImages.writePattern(in: farm.dir, name: "small.png", width: 100, height: 80, seed: 4)

        let small = try farm.run(["inspect", "seams", image, "--tile", "8"])
        #expect(small.status != 0 && small.output.contains("at least 16 pixels"), "\(small.output)")

        let large = try farm.run(["inspect", "seams", image, "--tile", "128"])
        #expect(large.status != 0 && large.output.contains("no tile borders"), "\(large.output)")

        let missing = try farm.run(["inspect", "seams", farm.dir.path("nope.png"), "--tile", "32"])
        #expect(missing.status != 0 && missing.output.contains("cannot open image"), "\(missing.output)")

        try Data("not an image".utf8).write(to: URL(fileURLWithPath: farm.dir.path("text.png")))
        let text = try farm.run(["inspect", "seams", farm.dir.path("text.png"), "--tile", "32"])
        #expect(text.status != 0 && text.output.contains("only PNG and JPEG"), "\(text.output)")
    }
}
