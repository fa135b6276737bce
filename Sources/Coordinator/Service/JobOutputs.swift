public import Engine
public import Foundation
import Protocol
import Farm

/// The files of a finished sweep in `DIR/jobs/<id>/`, besides one PNG per point (written as
/// results arrive): `index.html` (the page to open: every point with its parameters, losses
/// and plots), `contact_sheet.png` (the images in a grid), `relative_improvement.svg` (RI of
/// each style against γ), `losses/<point>.svg` (each point's loss curves), `losses.csv` (every
/// loss line of every attempt) and `job.json` (how to re-render it).
public enum JobOutputs {
    /// What job.json says rendered it: the release and the commit.
    public static var version: String { StyleFarmBuild.version + " (commit " + StyleFarmBuild.commit + ")" }

    /// `blobRoot`: where `blob:<sha256>` inputs live on this host, so that job.json's commands
    /// re-render from real files. `weightsSHA256`: the coordinator's weights, which every
    /// worker's were checked against (nil when it has none and workers bring their own).
    public static func write(jobID: String, records: FarmRecords, directory: String, blobRoot: String,
                             weightsSHA256: String? = nil) throws {
        guard let specData = try records.jobSpec(jobID) else { return }
        let spec = try JSONDecoder().decode(SweepSpec.self, from: specData)
        let planned = try SweepPlanner.plan(spec, maximumTasks: .max)   // accepted under the coordinator's limit
        var summaries: [String: RenderSummary] = [:]
        var paths: [String: String] = [:]
        for task in try records.finishedTasks(ofJob: jobID) {
            if let data = task.result, let summary = try? JSONDecoder().decode(RenderSummary.self, from: data) { summaries[task.key] = summary }
            paths[task.key] = task.outputPath
        }
        let renders = planned.filter { $0.kind == .render }
        let names = styleNames(spec.styleNames, count: spec.base.stylePaths.count)

        let images = renders.compactMap { task in paths[task.key].flatMap { try? ImageFile.read(path: $0) } }
        if !images.isEmpty {
            try ImageFile.writePNG(try ContactSheet().render(images), path: directory + "/contact_sheet.png")
        }

        var improvementPlot: String?
        if spec.gammas != nil {
            // One curve along γ: the points whose other swept options take their first value.
            let firstValues = Dictionary(uniqueKeysWithValues: spec.axes.map { ($0.option, $0.values.first ?? 0) })
            let points = renders.compactMap { task -> ImprovementPlot.Point? in
                guard let gamma = task.parameters.first(where: { $0.name == "gamma" })?.value,
                      task.parameters.allSatisfy({ $0.name == "gamma" || firstValues[$0.name] == $0.value }),
                      let ri = summaries[task.key]?.relativeImprovement else { return nil }
                return ImprovementPlot.Point(gamma: gamma, relativeImprovement: ri)
            }
            if !points.isEmpty {
                let svg = ImprovementPlot(points: points, styleNames: names).svg()
                try FileBytes.writeAtomically(Array(svg.utf8), to: directory + "/relative_improvement.svg",
                                              what: "the relative improvement plot")
                improvementPlot = svg
            }
        }

        let lines = try records.lossLines(ofJob: jobID)
        try writeLosses(lines, directory: directory, styleCount: spec.base.stylePaths.count,
                        parameters: Dictionary(uniqueKeysWithValues: planned.map { ($0.key, $0.parameters) }),
                        sigmas: summaries.mapValues(\.settings.sigmas))
        let plots = try LossCurveFiles.write(
            lastAttempts: LossCurveFiles.lastAttempts(lines),
            outputNames: Dictionary(uniqueKeysWithValues: planned.map { ($0.key, $0.outputName) }),
            titles: Dictionary(uniqueKeysWithValues: planned.map { ($0.key, $0.kind == .calibrate ? "σ calibration" : SweepPlanner.describe($0.parameters)) }),
            styleNames: names, directory: directory)
        OutputWriter.flushFileSystem(of: directory)   // the loss plots, written without a flush each

        let finishedAt = Date()
        let manifest = JobManifest(jobID: jobID, kind: "sweep", spec: try JSONValue(jsonData: specData), createdAt: finishedAt,
                                   finishedAt: finishedAt, styleFarmVersion: version, weightsSHA256: weightsSHA256,
                                   tasks: planned.map { JobManifest.Task(task: localPaths($0, blobRoot: blobRoot), summary: summaries[$0.key]) })
        try manifest.write(to: directory + "/job.json")

        // Last, so that it lists every other file.
        let points = planned.map { task in
            JobIndexPage.SweepPoint(key: task.key, outputName: task.outputName, parameters: task.parameters, summary: summaries[task.key],
                                    isCalibration: task.kind == .calibrate, lossPlotFile: plots[task.key]?.file,
                                    lossPlotSVG: plots[task.key]?.svg)
        }
        let page = JobIndexPage.sweep(jobID: jobID, spec: spec, styleNames: names, points: points, improvementPlotSVG: improvementPlot,
                                      finishedAt: ISO8601DateFormatter().string(from: finishedAt), files: JobFolderFiles(directory: directory))
        try FileBytes.writeAtomically(Array(page.utf8), to: directory + "/" + JobIndexPage.fileName, what: "the job's index page")
    }

    /// The style images' names as submitted, "style N" where none was given.
    static func styleNames(_ given: [String]?, count: Int) -> [String] {
        (0..<count).map { i in given.flatMap { i < $0.count ? $0[i] : nil } ?? "style \(i + 1)" }
    }
}

extension JobOutputs {
    /// `losses.csv`: every loss line of every attempt of the job, written beside and renamed
    /// into place so that a crash leaves no half table.
    static func writeLosses(_ lines: [(key: String, attempt: Int64, line: FarmRecords.LossLine)], directory: String, styleCount: Int,
                            parameters: [String: [PlannedTask.Parameter]], sigmas: [String: [Float]]) throws {
        try? FileManager.default.removeItem(atPath: directory + "/losses.csv.partial")   // a crash mid-write
        let csv = try LossesCSVWriter(path: directory + "/losses.csv.partial", styleCount: styleCount)
        var starts: [Int64: [Double]] = [:]
        for (key, attempt, line) in lines {
            // Lines come in iteration order per attempt: the first is the attempt's start.
            let start = starts[attempt] ?? line.styles
            starts[attempt] = start
            try csv.append(task: key, attempt: Int(attempt), parameters: parameters[key] ?? [], lines: [line],
                           start: start, sigmas: sigmas[key] ?? [])
        }
        try csv.synchronize()
        _ = rename(directory + "/losses.csv.partial", directory + "/losses.csv")
    }

    static func localPaths(_ task: PlannedTask, blobRoot: String) -> PlannedTask {
        func local(_ path: String) -> String { BlobReference(path).map { blobRoot + "/" + $0.sha256 } ?? path }
        var task = task
        task.request.contentPath = local(task.request.contentPath)
        task.request.stylePaths = task.request.stylePaths.map(local)
        task.request.maskPaths = task.request.maskPaths?.map(local)
        task.request.initialization = task.request.initialization.map(local)
        return task
    }
}

#if canImport(Glibc)
import Glibc
#endif
