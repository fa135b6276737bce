import Coordinator
import Engine
import Farm
import Foundation
import Protocol

/// `/jobs/<id>`: one job as it renders. A sweep is a grid of its points (a live thumbnail while
/// a point renders, its image, parameters, final losses and RIᵢ when done) and the RI-vs-γ plot;
/// a tiled job is its picture assembling over the coarse pass, tile by tile (or band by band
/// for exact shards). Every running task has its loss curves; every output file is linked.
enum JobPage {
    /// The page's width for a tiled picture, in CSS pixels: tile previews are made for it.
    static let pictureWidth = 900

    struct Rendered {
        var body: String
        var fragments: [PageShell.Fragment]
    }

    static func document(_ model: JobPageModel, files: [String], workers: [String]) -> String {
        let rendered = render(model, files: files, workers: workers)
        let id = model.status.id
        return PageShell.document(title: "StyleFarm · \(id)", eventsURL: "/events?job=\(HTML.urlSegment(id))",
                                  header: "<a href=\"/\">farm</a> <span>job \(HTML.escape(id))</span>",
                                  fragments: rendered.fragments) { _ in rendered.body }
    }

    static func render(_ model: JobPageModel, files: [String], workers: [String]) -> Rendered {
        var fragments = [head(model), workerList(workers)]
        var body = fragments[0].html + actions(model.status) + fragments[1].html
        if let picture = model.picture {
            if let stages = stages(model) {
                body += stages.html
                fragments.append(stages)
            }
            let placed = tiles(model, picture)
            body += "<h2>Picture</h2>" + placed.body
            fragments += placed.fragments
        } else {
            let plot = improvementPlot(model)
            let points = model.tasks.filter { $0.kind == PlannedTask.Kind.render.rawValue || $0.kind == PlannedTask.Kind.calibrate.rawValue }
                .map { point($0, model: model) }
            let more = model.status.taskTotal > model.tasks.count
                ? "<p class=\"muted\">the first \(model.tasks.count) of \(model.status.taskTotal) tasks</p>" : ""
            body += plot.html + "<h2>Points</h2>" + more + "<div class=\"grid\">" + points.map(\.html).joined() + "</div>"
            fragments += [plot] + points
        }
        let tail = [curves(model), fileList(model, files)]
        body += tail.map(\.html).joined()
        return Rendered(body: body, fragments: fragments + tail)
    }

    static func head(_ model: JobPageModel) -> PageShell.Fragment {
        let job = model.status
        let total = job.taskTotal, done = job.count(.done)
        let fraction = total > 0 ? Double(done) / Double(total) : 0
        let eta = model.etaSeconds.map { " · ETA " + Format.duration($0) } ?? ""
        var note = (job.waiting ?? job.reason).map { "<p class=\"muted\">\(HTML.escape($0.prefix(300)))</p>" } ?? ""
        if let blocked = job.blockedWorkers, !blocked.isEmpty {
            note += "<p>blocked workers: " + blocked.prefix(50).map { worker in
                HTML.escape(worker) + (job.blockReasons?[worker].map { " <span class=\"muted\">(\(HTML.escape($0.prefix(120))))</span>" } ?? "")
            }.joined(separator: ", ") + "</p>"
        }
        let byState = TaskState.allCases.compactMap { state in
            job.count(state) > 0 ? "<span class=\"s-\(state.rawValue)\">\(state.rawValue) <b>\(job.count(state))</b></span>" : nil
        }.joined()
        return .init(id: "job-head", html: """
            <section id="job-head" data-state="\(job.state.rawValue)"><h1>\(HTML.escape(job.kind)) \(HTML.escape(job.id))</h1>
            <p><span class="state s-\(job.state.rawValue)">\(job.state.rawValue)</span> · priority \(job.priority) ·
            <span class="bar"><i style="width:\(Int(fraction * 100))%"></i></span> \(done)/\(total) tasks\(eta)</p>
            <p class="counts">\(byState)</p>\(note)</section>
            """)
    }

    /// Cancel, priority and blocking: outside the live fragments, so that an update never
    /// replaces a field being typed in.
    static func actions(_ job: JobStatus) -> String {
        let base = "/api/v1/jobs/\(HTML.urlSegment(job.id))"
        return """
            <section class="actions"><form class="inline" data-action="\(base)/cancel" data-confirm="Cancel job \(HTML.escape(job.id))?">
            <button id="cancel-job">cancel job</button></form>
            <form class="inline" data-action="\(base)/priority"><label>priority <input name="priority" type="number" value="\(job.priority)" style="width:5em"></label><button>set</button></form>
            <form class="inline" data-action="\(base)/block"><label>worker <input name="worker" list="worker-names" style="width:10em"></label>
            <label><input name="blocked" type="checkbox" checked> blocked</label><button>apply</button></form></section>
            """
    }

    static func workerList(_ workers: [String]) -> PageShell.Fragment {
        .init(id: "worker-names", html: "<datalist id=\"worker-names\">"
              + workers.map { "<option value=\"\(HTML.escape($0))\">" }.joined() + "</datalist>")
    }

    // MARK: Sweeps

    static func point(_ task: JobPageModel.Task, model: JobPageModel) -> PageShell.Fragment {
        let id = "pt-\(task.index)"
        let jobURL = "/jobs/\(HTML.urlSegment(model.status.id))", apiURL = "/api/v1" + jobURL
        var image = "<span class=\"muted\">\(HTML.escape(task.state))</span>"
        if let output = task.output {
            image = "<a href=\"\(jobURL)/files/\(HTML.urlSegment(output))\"><img class=\"result\" alt=\"\(HTML.escape(task.key))\" src=\"\(apiURL)/results/\(HTML.urlSegment(task.key))/preview?size=256\"></a>"
        } else if let running = task.running, let preview = running.previewIteration {
            image = "<img class=\"live\" alt=\"\(HTML.escape(task.key)) at iteration \(preview)\" src=\"\(apiURL)/previews/\(HTML.urlSegment(task.key))?attempt=\(running.attemptID)&amp;i=\(preview)\">"
        }
        var rows = task.parameters.map { "<dt>\(HTML.escape($0.name))</dt><dd>\(String(format: "%g", $0.value))</dd>" }.joined()
        if let running = task.running {
            rows += "<dt>iteration</dt><dd>\(running.iteration)/\(running.iterations) on \(HTML.escape(running.worker))</dd>"
        }
        if let losses = task.finalLosses {
            rows += "<dt>loss</dt><dd>\(Format.loss(losses.total))</dd><dt>content</dt><dd>\(Format.loss(losses.content))</dd>"
            for (i, style) in losses.styles.enumerated() {
                rows += "<dt>\(HTML.escape(name(i, model)))</dt><dd>\(Format.loss(style))</dd>"
            }
        }
        if let ri = task.relativeImprovement, !ri.isEmpty {
            rows += "<dt>RI</dt><dd>" + ri.map { String(format: "%.3f", $0) }.joined(separator: ", ") + "</dd>"
        }
        return .init(id: id, html: """
            <div id="\(id)" class="point \(HTML.escape(task.state))" data-key="\(HTML.escape(task.key))" data-state="\(HTML.escape(task.state))">
            <div class="thumb">\(image)</div><b>\(HTML.escape(task.key))</b><dl>\(rows)</dl></div>
            """)
    }

    static func improvementPlot(_ model: JobPageModel) -> PageShell.Fragment {
        var svg = ""
        if model.sweepsGamma {
            let points = model.tasks.compactMap { task -> (gamma: Double, ri: [Double])? in
                guard let gamma = task.parameters.first(where: { $0.name == "gamma" })?.value,
                      let ri = task.relativeImprovement, !ri.isEmpty else { return nil }
                return (Double(gamma), ri)
            }
            if !points.isEmpty { svg = "<h2>Relative improvement against γ</h2>" + Plots.improvement(points, styleNames: model.styleNames) }
        }
        return .init(id: "ri-plot", html: "<section id=\"ri-plot\" class=\"plot\">\(svg)</section>")
    }

    // MARK: Tiled jobs

    static func tiles(_ model: JobPageModel, _ picture: JobPageModel.Picture) -> Rendered {
        let apiURL = "/api/v1/jobs/\(HTML.urlSegment(model.status.id))"
        let byKey = Dictionary(model.tasks.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let scale = Double(pictureWidth) / Double(max(1, picture.width))
        var fragments: [PageShell.Fragment] = []
        if picture.exact {
            for (index, placed) in picture.tiles.enumerated() {
                fragments.append(band(index: index, task: byKey[placed.key], key: placed.key, apiURL: apiURL,
                                      aspect: "\(picture.width) / \(max(1, picture.height / max(1, picture.tiles.count)))"))
            }
            return Rendered(body: "<div class=\"bands\">" + fragments.map(\.html).joined() + "</div>", fragments: fragments)
        }
        let coarse = byKey[TiledPlanner.coarseKey]
        // The coarse pass under the tiles: its result, or its live preview while it renders.
        var coarseHTML = "<span id=\"coarse\"></span>"
        if let output = coarse?.output {
            coarseHTML = "<img id=\"coarse\" class=\"coarse\" alt=\"coarse pass\" src=\"\(apiURL)/results/\(TiledPlanner.coarseKey)/preview?size=\(pictureWidth)\">"
        } else if let running = coarse?.running, let preview = running.previewIteration {
            coarseHTML = "<img id=\"coarse\" class=\"coarse live\" alt=\"coarse pass at iteration \(preview)\" src=\"\(apiURL)/previews/\(TiledPlanner.coarseKey)?attempt=\(running.attemptID)&amp;i=\(preview)\">"
        }
        fragments.append(.init(id: "coarse", html: coarseHTML))
        for (index, placed) in picture.tiles.enumerated() {
            let side = Int((Double(max(placed.window.width, placed.window.height)) * scale * 2).rounded(.up))
            fragments.append(tile(index: index, placed: placed, task: byKey[placed.key], picture: picture, apiURL: apiURL,
                                  previewSide: min(1024, max(32, side))))
        }
        return Rendered(body: "<div class=\"picture\" style=\"aspect-ratio:\(picture.width) / \(picture.height)\">"
                        + fragments.map(\.html).joined() + "</div>", fragments: fragments)
    }

    /// A tile's interior, placed in percent of the picture, showing its window's image shifted
    /// so that the interior lines up (the halo is cut off by the tile's overflow).
    static func tile(index: Int, placed: JobPageModel.PlacedTile, task: JobPageModel.Task?, picture: JobPageModel.Picture,
                     apiURL: String, previewSide: Int) -> PageShell.Fragment {
        let id = "tile-\(index)"
        let w = Double(max(1, picture.width)), h = Double(max(1, picture.height))
        let i = placed.interior, win = placed.window
        let box = String(format: "left:%.4f%%;top:%.4f%%;width:%.4f%%;height:%.4f%%",
                         Double(i.x) / w * 100, Double(i.y) / h * 100, Double(i.width) / w * 100, Double(i.height) / h * 100)
        let inner = String(format: "left:%.4f%%;top:%.4f%%;width:%.4f%%;height:%.4f%%",
                           -Double(i.x - win.x) / Double(max(1, i.width)) * 100, -Double(i.y - win.y) / Double(max(1, i.height)) * 100,
                           Double(win.width) / Double(max(1, i.width)) * 100, Double(win.height) / Double(max(1, i.height)) * 100)
        let state = task?.state ?? TaskState.ready.rawValue
        var image = ""
        if let output = task?.output {
            image = "<img class=\"result\" style=\"\(inner)\" alt=\"\" src=\"\(apiURL)/results/\(HTML.urlSegment(placed.key))/preview?size=\(previewSide)\">"
        } else if let running = task?.running, let preview = running.previewIteration {
            image = "<img class=\"live\" style=\"\(inner)\" alt=\"\" src=\"\(apiURL)/previews/\(HTML.urlSegment(placed.key))?attempt=\(running.attemptID)&amp;i=\(preview)\">"
        }
        let title = task?.running.map { "\(placed.key): iteration \($0.iteration)/\($0.iterations) on \($0.worker)" } ?? "\(placed.key): \(state)"
        return .init(id: id, html: "<div id=\"\(id)\" class=\"tile \(HTML.escape(state))\" data-state=\"\(HTML.escape(state))\" title=\"\(HTML.escape(title))\" style=\"\(box)\">\(image)</div>")
    }

    /// An exact shard: its band once done, its live preview while it renders, with its step and loss.
    static func band(index: Int, task: JobPageModel.Task?, key: String, apiURL: String, aspect: String) -> PageShell.Fragment {
        let id = "band-\(index)"
        let state = task?.state ?? TaskState.ready.rawValue
        var image = "", caption = "\(key): \(state)"
        if let output = task?.output {
            image = "<img class=\"result\" alt=\"\(HTML.escape(key))\" src=\"\(apiURL)/results/\(HTML.urlSegment(key))/preview?size=\(pictureWidth)\">"
        } else if let running = task?.running {
            caption = "\(key): step \(running.iteration)/\(running.iterations) on \(running.worker)"
                + (running.lines.last.map { ", loss " + Format.loss($0.total) } ?? "")
            if let preview = running.previewIteration {
                image = "<img class=\"live\" alt=\"\(HTML.escape(key))\" src=\"\(apiURL)/previews/\(HTML.urlSegment(key))?attempt=\(running.attemptID)&amp;i=\(preview)\">"
            }
        }
        let style = image.isEmpty ? " style=\"aspect-ratio:\(aspect)\"" : ""
        return .init(id: id, html: "<div id=\"\(id)\" class=\"band \(HTML.escape(state))\" data-state=\"\(HTML.escape(state))\"\(style)>\(image)<span class=\"caption\">\(HTML.escape(caption))</span></div>")
    }

    // MARK: Every job

    static func curves(_ model: JobPageModel) -> PageShell.Fragment {
        let running = model.tasks.filter { $0.running != nil }
        var figures = ""
        for task in running {
            guard let live = task.running, !live.lines.isEmpty else { continue }
            figures += "<figure data-key=\"\(HTML.escape(task.key))\" data-lines=\"\(live.lines.count)\" data-iteration=\"\(live.iteration)\">"
                + "<figcaption>\(HTML.escape(task.key)) · \(HTML.escape(live.worker)) · iteration \(live.iteration)/\(live.iterations)</figcaption>"
                + Plots.lossCurves(live.lines, styleNames: model.styleNames) + "</figure>"
        }
        if figures.isEmpty { figures = "<p class=\"muted\">no task is rendering</p>" }
        let unplotted = running.count(where: { $0.running?.lines.isEmpty ?? true })
        if unplotted > 0 { figures += "<p class=\"muted\">and \(unplotted) more running</p>" }
        return .init(id: "curves", html: "<section id=\"curves\"><h2>Loss curves of running tasks</h2><div class=\"curves\">\(figures)</div></section>")
    }

    /// A coarse-to-fine exact job's stages, one per stitch (`stitch-1`, …, `stitch` last), each
    /// with its state and, once stitched, its image; nil for a job of one stage.
    static func stages(_ model: JobPageModel) -> PageShell.Fragment? {
        let stitches = model.tasks.filter { $0.kind == PlannedTask.Kind.stitch.rawValue }
        guard stitches.count > 1 else { return nil }
        let jobURL = "/jobs/\(HTML.urlSegment(model.status.id))"
        let items = stitches.enumerated().map { index, task in
            let image = task.output.map { "<a href=\"\(jobURL)/files/\(HTML.urlSegment($0))\">\(HTML.escape($0))</a>" } ?? ""
            return "<li>stage \(index + 1) <span class=\"s-\(HTML.escape(task.state))\">\(HTML.escape(task.state))</span> \(image)</li>"
        }.joined()
        return .init(id: "stages", html: "<section id=\"stages\"><h2>Stages</h2><p class=\"muted\">coarse to fine, every stage exact; the picture shows the last</p><ol>\(items)</ol></section>")
    }

    static func fileList(_ model: JobPageModel, _ files: [String]) -> PageShell.Fragment {
        let jobURL = "/jobs/\(HTML.urlSegment(model.status.id))"
        let items = files.map { "<li><a href=\"\(jobURL)/files/\(HTML.urlSegment($0))\">\(HTML.escape($0))</a></li>" }.joined()
        return .init(id: "files", html: """
            <section id="files"><h2>Files</h2><p class="muted">\(HTML.escape(model.directory))</p><ul>\(items.isEmpty ? "<li class=\"muted\">none yet</li>" : items)</ul></section>
            """)
    }

    static func name(_ index: Int, _ model: JobPageModel) -> String {
        index < model.styleNames.count ? model.styleNames[index] : "style \(index + 1)"
    }

}
