internal import Engine

extension JobIndexPage {
    /// One point of a sweep (or its σ calibration) as the page shows it.
    struct SweepPoint {
        var key: String
        var outputName: String
        var parameters: [PlannedTask.Parameter]
        /// The render's summary, nil when the point did not finish.
        var summary: RenderSummary?
        var isCalibration = false
        /// The point's loss plot file (`losses/gamma-0.5.svg`) and, when pasted inline, its SVG.
        var lossPlotFile: String?
        var lossPlotSVG: String?
    }

    /// The page of a finished sweep: its settings, the RI-against-γ figure, a card per point
    /// (image, parameters, final losses, RIᵢ, loss curves) and every file.
    static func sweep(jobID: String, spec: SweepSpec, styleNames: [String], points: [SweepPoint], improvementPlotSVG: String?,
                      finishedAt: String, files: JobFolderFiles) -> String {
        let renders = points.filter { !$0.isCalibration }.count
        var body = "<h1>Sweep \(HTMLText.escape(jobID))</h1>\n"
        body += "<p class=\"meta\">\(renders) points · finished \(HTMLText.escape(finishedAt)) · "
            + [link("job.json", text: "job.json (re-render commands)", in: files), link("losses.csv", in: files),
               files.contains("contact_sheet.png") ? link("contact_sheet.png", in: files) : nil,
               files.contains("relative_improvement.svg") ? link("relative_improvement.svg", in: files) : nil]
                .compactMap { $0 }.joined(separator: " · ") + "</p>\n"
        var settings: [(String, String)] = [("content", spec.base.contentPath)]
        for (index, name) in styleNames.enumerated() { settings.append(("style \(index + 1)", name)) }
        for axis in spec.axes { settings.append(("swept \(axis.option)", axis.values.map(SweepPlanner.format).joined(separator: ", "))) }
        if let gammas = spec.gammas { settings.append(("γ values", gammas.map(SweepPlanner.format).joined(separator: ", "))) }
        settings.append(("balance", spec.balance.rawValue))
        body += table(settings)

        if let improvementPlotSVG {
            body += "<h2>Relative improvement against γ</h2>\n<div class=\"figure\">\(improvementPlotSVG)</div>\n"
            body += "<p class=\"meta\">RIᵢ = styleᵢ loss at the start / at the end; γ* marks where the two styles improve alike.</p>\n"
        }

        body += "<h2>Points</h2>\n<div class=\"cards\">\n"
        for point in points { body += card(point, styleNames: styleNames, files: files) }
        body += "</div>\n"
        body += fileList(files)
        return document(title: "StyleFarm sweep \(jobID)", body: body)
    }

    /// A point's card. Its heading is the point's parameters ("γ = 0.5, beta = 1000").
    static func card(_ point: SweepPoint, styleNames: [String], files: JobFolderFiles) -> String {
        let heading = point.isCalibration ? "σ calibration"
            : point.parameters.map { "\($0.name == "gamma" ? "γ" : $0.name) = \(SweepPlanner.format($0.value))" }.joined(separator: ", ")
        var html = "<div class=\"card\">\n<h3>\(HTMLText.escape(heading))</h3>\n"
        html += image(point.outputName, alt: heading, lazy: true, in: files)
        var rows: [(String, String)] = []
        if let settings = point.summary?.settings {
            if let gamma = point.parameters.first(where: { $0.name == "gamma" }) { rows.append(("γ", SweepPlanner.format(gamma.value))) }
            rows.append(("style weights", settings.styleWeights.map(SweepPlanner.format).joined(separator: ", ")))
            rows.append(("σ", settings.sigmas.map(SweepPlanner.format).joined(separator: ", ")))
            rows.append(("α (content)", SweepPlanner.format(settings.alpha)))
            rows.append(("β (style)", SweepPlanner.format(settings.beta)))
            if settings.tvWeight != 0 { rows.append(("tv weight", SweepPlanner.format(settings.tvWeight))) }
            rows.append(("size, iterations", "\(settings.size) px, \(settings.iterations)"))
        } else {
            rows = point.parameters.map { ($0.name == "gamma" ? "γ" : $0.name, SweepPlanner.format($0.value)) }
            rows.append(("state", "not finished"))
        }
        html += table(rows)
        if let summary = point.summary {
            var losses = [("total", number(summary.finalLosses.total)), ("content", number(summary.finalLosses.content))]
            for (index, loss) in summary.finalLosses.styles.enumerated() {
                let name = index < styleNames.count ? styleNames[index] : ""
                losses.append(("style \(index + 1)" + (name.isEmpty ? "" : " (\(name))"), number(loss)))
            }
            if summary.finalLosses.tv != 0 { losses.append(("tv", number(summary.finalLosses.tv))) }
            for (index, ri) in summary.relativeImprovement.enumerated() { losses.append(("RI\(subscriptDigits(index + 1))", number(ri))) }
            html += "<details open><summary>final losses and RI</summary>\n" + table(losses) + "</details>\n"
        }
        html += lossPlot(file: point.lossPlotFile, inline: point.lossPlotSVG, in: files)
        html += "<div class=\"meta\">" + link(point.outputName, text: "full image", in: files) + "</div>\n"
        return html + "</div>\n"
    }

    /// 12 → "₁₂", for RIᵢ headings.
    static func subscriptDigits(_ number: Int) -> String {
        let digits: [Character] = ["₀", "₁", "₂", "₃", "₄", "₅", "₆", "₇", "₈", "₉"]
        return String(String(number).map { $0.wholeNumberValue.map { digits[$0] } ?? $0 })
    }
}
