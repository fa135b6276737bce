internal import Engine

extension JobIndexPage {
    /// One task of a tiled job as the page shows it: the coarse pass, a tile or a shard.
    struct TiledPart {
        var key: String
        var kind: PlannedTask.Kind
        var outputName: String
        var finalLosses: LossBreakdown?
        var lossPlotFile: String?
        var lossPlotSVG: String?

        /// Row and column of a tile from its key ("tile-r2-c5" → (2, 5)).
        var tilePosition: (row: Int, column: Int)? {
            let parts = key.split(separator: "-")
            guard parts.count == 3, parts[0] == "tile", parts[1].hasPrefix("r"), parts[2].hasPrefix("c"),
                  let row = Int(parts[1].dropFirst()), let column = Int(parts[2].dropFirst()),
                  (0..<100_000).contains(row), (0..<100_000).contains(column) else { return nil }
            return (row, column)
        }
    }

    /// The page of a finished tiled job: the output (through its preview when large), the
    /// coarse pass, the tile grid or the shards, each part's loss curves, and every file.
    static func tiled(jobID: String, spec: TiledSpec, styleNames: [String], parts: [TiledPart], outputSize: (width: Int, height: Int)?,
                      finishedAt: String, files: JobFolderFiles, stages: [ExactStagePlan] = []) -> String {
        let output = TiledPlanner.outputName
        var body = "<h1>Tiled render \(HTMLText.escape(jobID))</h1>\n"
        let size = outputSize.map { "\($0.width)×\($0.height) px · " } ?? ""
        body += "<p class=\"meta\">\(HTMLText.escape(size))\(spec.mode.rawValue) mode · finished \(HTMLText.escape(finishedAt)) · "
            + [link(output, in: files), link("job.json", in: files), link("losses.csv", in: files)].joined(separator: " · ") + "</p>\n"
        var settings: [(String, String)] = [("content", spec.base.contentPath)]
        for (index, name) in styleNames.enumerated() { settings.append(("style \(index + 1)", name)) }
        settings.append(("tile, halo", "\(spec.tile) px, " + (spec.halo.map { "\($0) px" } ?? "default")))
        if spec.mode == .exact { settings.append(("shards", spec.shards.map(String.init) ?? "auto")) }
        if let iterations = spec.base.iterations { settings.append(("iterations", "\(iterations)")) }
        settings.append(("bit depth", "\(spec.bitDepth)"))
        body += table(settings)

        body += "<h2>Output</h2>\n"
        if files.contains(TileStitching.previewName) {
            body += "<div class=\"figure\">" + image(TileStitching.previewName, alt: "the output, downscaled", linkingTo: output, in: files)
                + "<div class=\"meta\">A downscaled preview; " + link(output, text: "the full output", in: files) + ".</div></div>\n"
        } else {
            body += "<div class=\"figure\">" + image(output, alt: "the output", in: files) + "</div>\n"
        }

        if let coarse = parts.first(where: { $0.kind == .coarse }) {
            body += "<h2>Coarse pass</h2>\n<p class=\"meta\">The whole image at low resolution, which every tile starts from.</p>\n"
            body += "<div class=\"cards\"><div class=\"card\">" + image(coarse.outputName, alt: "coarse pass", in: files)
                + losses(coarse.finalLosses, styleNames: styleNames)
                + lossPlot(file: coarse.lossPlotFile, inline: coarse.lossPlotSVG, in: files) + "</div></div>\n"
        }

        if stages.count > 1 {
            body += "<h2>Stages</h2>\n<p class=\"meta\">Coarse to fine, each stage exact; each starts from the one before, resized.</p>\n"
            var rows: [(String, String)] = []
            for stage in stages {
                let name = stage.stage == stages.count ? output : TiledPlanner.stageImageName(stage.stage)
                rows.append(("stage \(stage.stage)", "\(stage.width)×\(stage.height) px, \(stage.iterations) iterations, \(stage.shards) shards × \(stage.columns) windows, \(stage.scheme), ≈\(stage.predictedPeakMb) MiB a shard → \(name)"))
            }
            body += table(rows)
            body += "<div class=\"cards\">" + stages.dropLast().map { stage in
                "<div class=\"card\"><h3>stage \(stage.stage)</h3>" + image(TiledPlanner.stageImageName(stage.stage), alt: "stage \(stage.stage)", lazy: true, in: files)
                    + "<div class=\"meta\">" + link(TiledPlanner.stageImageName(stage.stage), in: files) + "</div></div>"
            }.joined() + "</div>\n"
        }

        let tiles = parts.compactMap { part in part.tilePosition.map { (part, $0) } }
        if let columns = tiles.map({ $0.1.column }).max().map({ $0 + 1 }) {
            body += "<h2>Tiles</h2>\n<p class=\"meta\">Each tile's window (its interior and halo) as its worker rendered it, "
                + "in grid order; click one for the file. Their loss curves follow.</p>\n"
            body += "<div class=\"tiles\" style=\"grid-template-columns: repeat(\(columns), minmax(0, 1fr));\">\n"
            for (part, position) in tiles.sorted(by: { ($0.1.row, $0.1.column) < ($1.1.row, $1.1.column) }) {
                let placement = "grid-row: \(position.row + 1); grid-column: \(position.column + 1);"
                let picture = files.contains(part.outputName)
                    ? "<img src=\"\(HTMLText.link(part.outputName))\" alt=\"\(HTMLText.escape(part.key))\" loading=\"lazy\">" : ""
                body += "<a style=\"\(placement)\" href=\"\(HTMLText.link(files.contains(part.outputName) ? part.outputName : output))\">\(picture)r\(position.row) c\(position.column)</a>\n"
            }
            body += "</div>\n"
        }

        let curves = parts.filter { $0.kind == .tile || $0.kind == .shard }
        if !curves.isEmpty {
            body += "<h2>\(curves.contains { $0.kind == .shard } ? "Shards" : "Tiles' loss curves")</h2>\n<div class=\"cards\">\n"
            for part in curves {
                body += "<div class=\"card\"><h3>\(HTMLText.escape(part.key))</h3>"
                    + (part.kind == .shard ? image(part.outputName, alt: part.key, lazy: true, in: files) : "")
                    + losses(part.finalLosses, styleNames: styleNames)
                    + lossPlot(file: part.lossPlotFile, inline: part.lossPlotSVG, in: files) + "</div>\n"
            }
            body += "</div>\n"
        }
        body += fileList(files)
        return document(title: "StyleFarm tiled render \(jobID)", body: body)
    }

    /// A part's final losses, when its summary had them.
    static func losses(_ losses: LossBreakdown?, styleNames: [String]) -> String {
        guard let losses else { return "" }
        var rows = [("total", number(losses.total)), ("content", number(losses.content))]
        for (index, loss) in losses.styles.enumerated() {
            rows.append(("style \(index + 1)" + (index < styleNames.count ? " (\(styleNames[index]))" : ""), number(loss)))
        }
        if losses.tv != 0 { rows.append(("tv", number(losses.tv))) }
        return table(rows)
    }
}
