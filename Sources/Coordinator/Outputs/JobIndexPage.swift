internal import Foundation

/// A job folder's `index.html`: one self-contained page that opens from disk with no server —
/// inline CSS, no script, nothing fetched; images and files by relative links; plots inline as
/// SVG. Everything interpolated goes through `HTMLText`. The sweep and tiled pages are built
/// in `JobIndexPage+Sweep` and `JobIndexPage+Tiled` from the parts here.
public enum JobIndexPage {
    public static let fileName = "index.html"
    /// Loss plots pasted into the page at most; a larger job links each task's SVG as an image
    /// loaded when scrolled to, so that a 10 000-point sweep's page stays a few megabytes.
    public static let inlinePlotLimit = 48

    /// The page around `body`, titled `title`.
    static func document(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTMLText.escape(title))</title>
        <style>
        body { font-family: system-ui, sans-serif; color: #1b1b1b; background: #fafafa; margin: 0 auto; padding: 1rem 1.5rem 3rem; max-width: 1280px; line-height: 1.4; }
        h1 { font-size: 1.5rem; margin: .5rem 0; } h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; border-bottom: 1px solid #ddd; }
        a { color: #0b57a4; } code { font-size: .9em; }
        .meta { color: #444; margin: .2rem 0; }
        .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 1rem; }
        .card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .6rem; }
        .card h3 { font-size: 1rem; margin: 0 0 .4rem; word-break: break-all; }
        img, svg { max-width: 100%; height: auto; display: block; }
        .thumb { background: #eee; margin-bottom: .4rem; }
        table { border-collapse: collapse; font-size: .85rem; margin: .3rem 0; }
        th, td { text-align: left; padding: .1rem .6rem .1rem 0; vertical-align: top; }
        th { font-weight: 600; color: #333; }
        .num { font-variant-numeric: tabular-nums; }
        .figure { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .6rem; margin: .6rem 0; display: inline-block; max-width: 100%; box-sizing: border-box; }
        .tiles { display: grid; gap: 2px; background: #ccc; padding: 2px; max-width: 100%; }
        .tiles a { display: block; background: #fff; font-size: .7rem; text-align: center; text-decoration: none; }
        .tiles img { width: 100%; }
        .files li { font-family: ui-monospace, monospace; font-size: .85rem; }
        .missing { color: #8a1c1c; }
        </style>
        </head>
        <body>
        \(body)
        </body>
        </html>

        """
    }

    /// A two-column table of name and value, both escaped.
    static func table(_ rows: [(String, String)]) -> String {
        guard !rows.isEmpty else { return "" }
        return "<table>" + rows.map { "<tr><th>\(HTMLText.escape($0.0))</th><td class=\"num\">\(HTMLText.escape($0.1))</td></tr>" }.joined() + "</table>\n"
    }

    /// A link to `path` in the folder, or plain text when the file is not there.
    static func link(_ path: String, text: String? = nil, in files: JobFolderFiles) -> String {
        let label = HTMLText.escape(text ?? path)
        return files.contains(path) ? "<a href=\"\(HTMLText.link(path))\">\(label)</a>" : "<span class=\"missing\">\(label) (missing)</span>"
    }

    /// An image from the folder linking to `full` (itself by default); nothing when absent.
    static func image(_ path: String, alt: String, linkingTo full: String? = nil, lazy: Bool = false, in files: JobFolderFiles) -> String {
        guard files.contains(path) else { return "" }
        let target = full.flatMap { files.contains($0) ? $0 : nil } ?? path
        return "<a href=\"\(HTMLText.link(target))\"><img class=\"thumb\" src=\"\(HTMLText.link(path))\" alt=\"\(HTMLText.escape(alt))\"\(lazy ? " loading=\"lazy\"" : "")></a>"
    }

    /// A task's loss plot: pasted inline when given, else the SVG file as a lazy image; a
    /// link to the file either way.
    static func lossPlot(file: String?, inline svg: String?, in files: JobFolderFiles) -> String {
        guard let file, files.contains(file) else { return "" }
        let figure = svg ?? "<img src=\"\(HTMLText.link(file))\" alt=\"loss curves\" loading=\"lazy\">"
        return figure + "<div class=\"meta\">" + link(file, text: "loss curves (SVG)", in: files) + "</div>\n"
    }

    /// Every file in the folder, top-level first, each subfolder under its own heading.
    static func fileList(_ files: JobFolderFiles) -> String {
        let byFolder = Dictionary(grouping: files.files) { file in
            file.path.contains("/") ? String(file.path.prefix { $0 != "/" }) : ""
        }
        let groups = byFolder.sorted { ($0.key.isEmpty ? 0 : 1, $0.key) < ($1.key.isEmpty ? 0 : 1, $1.key) }
            .map { (folder: $0.key, files: $0.value) }
        var html = "<h2>Files</h2>\n"
        for group in groups {
            let items = group.files.map {
                "<li>" + link($0.path, in: files) + " <span class=\"meta\">" + JobFolderFiles.describe(bytes: $0.bytes) + "</span></li>"
            }.joined(separator: "\n")
            if group.folder.isEmpty {
                html += "<ul class=\"files\">\n\(items)\n</ul>\n"
            } else {
                html += "<details><summary>\(HTMLText.escape(group.folder))/ (\(group.files.count) files)</summary>\n<ul class=\"files\">\n\(items)\n</ul></details>\n"
            }
        }
        return html
    }

    /// A loss as the farm writes it: four significant digits ("1.234e+05", "0.5").
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        let text = String(format: "%.4g", value)
        return text
    }
}
