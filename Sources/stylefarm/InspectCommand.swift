import ArgumentParser
import Engine
import Foundation

/// `stylefarm inspect …`: measurements of finished images. All logic is in the engine.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Measure finished images.",
        subcommands: [Seams.self, Difference.self]
    )

    struct Seams: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Score how visible the tile borders of a tiled render are (about 1: no seams).",
            discussion: """
                For each border between tiles of --tile T pixels (cut from the top-left corner), the mean step \
                across it (4-line means on each side, over 16-pixel segments) divided by the same step measured \
                inside the two tiles, a quarter and three eighths of a tile from the border; averaged over all \
                borders. Colour steps and texture shifts along the borders push it above 1.
                """
        )

        @Argument(help: ArgumentHelp("The image to score (PNG or JPEG).", valueName: "image"))
        var image: String

        @Option(help: ArgumentHelp("The tile size the image was rendered with, in pixels (at least 16).", valueName: "T"))
        var tile: Int

        @Flag(help: "Print the score and every border's figures as JSON.")
        var json = false

        @Option(name: .customLong("max-pixels"), help: "Refuse images larger than this many pixels.")
        var maxPixels = ImageLimits.defaultMaxPixels

        func validate() throws {
            try SeamScore.validate(tileSize: tile)
        }

        func run() throws {
            let score = try SeamScore.measure(ImageFile.read(path: image, maxPixels: maxPixels), tileSize: tile)
            if json {
                print(String(decoding: try JSONOutput.encoder(pretty: true).encode(score), as: UTF8.self))
            } else {
                let skipped = score.skippedBorders > 0 ? ", \(score.skippedBorders) too close to the edge to score" : ""
                print(String(format: "seam score %.3f", score.score)
                      + " over \(score.borders.count) borders (tile \(tile), \(score.width)×\(score.height)\(skipped))")
            }
        }
    }

    struct Difference: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The largest and mean per-sample difference between two images of one size (0…255 scale).")

        @Argument(help: "The first image (PNG or JPEG).")
        var first: String

        @Argument(help: "The second image.")
        var second: String

        func run() throws {
            let d = try ImageDifference(ImageFile.read(path: first), ImageFile.read(path: second))
            print(String(format: "max difference %.4f/255, mean %.4f/255, %d of %d samples over 2/255",
                         d.maximum, d.mean, d.samplesOverTwo, d.samples))
        }
    }
}
