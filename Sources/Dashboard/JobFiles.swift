import Coordinator
import Foundation

/// A job folder's files as the pages may serve them: only regular files inside
/// `DATA/jobs/<id>/`, named by relative paths of plain segments (no `..`, no hidden names, no
/// symbolic link leading out), never anything else on the coordinator's disk.
struct JobFiles: Sendable {
    let jobsDirectory: String

    /// Files listed at most on a job page.
    static let listLimit = 2000

    /// The job's folder, or nil when `jobID` is not a plain name.
    func folder(of jobID: String) -> String? {
        guard Self.isPlainSegment(jobID) else { return nil }
        return jobsDirectory + "/" + jobID
    }

    /// The file at `segments` in the job's folder; nil when the path is not allowed or is not a
    /// regular file there.
    func file(jobID: String, segments: [Substring]) -> String? {
        guard let folder = folder(of: jobID), !segments.isEmpty, segments.count <= 8, segments.allSatisfy(Self.isPlainSegment) else { return nil }
        let path = folder + "/" + segments.joined(separator: "/")
        // Resolve links: whatever the name, the file must lie inside the job's folder.
        let resolvedFolder = URL(fileURLWithPath: folder).resolvingSymlinksInPath().path
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard resolved.hasPrefix(resolvedFolder + "/") else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
        return resolved
    }

    /// The job's finished files, relative to its folder, sorted: the job folder's own listing
    /// (`JobFolderFiles`: no partial writes, no hidden names), with its `index.html`, and only
    /// names `file(jobID:segments:)` would serve.
    func list(jobID: String) -> [String] {
        guard let folder = folder(of: jobID) else { return [] }
        var files = JobFolderFiles(directory: folder).files.map(\.path)
        if FileManager.default.fileExists(atPath: folder + "/" + JobIndexPage.fileName) { files.append(JobIndexPage.fileName) }
        return files.filter { $0.split(separator: "/").allSatisfy(Self.isPlainSegment) }.sorted().prefix(Self.listLimit).map { $0 }
    }

    static func isPlainSegment(_ segment: some StringProtocol) -> Bool {
        guard !segment.isEmpty, segment.utf8.count <= 255, segment.first != "." else { return false }
        return segment.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.=,+".unicodeScalars.contains($0)) }
    }

    static func contentType(of path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "svg": "image/svg+xml"
        case "html": "text/html; charset=utf-8"
        case "json": "application/json"
        case "csv": "text/csv; charset=utf-8"
        case "txt", "log": "text/plain; charset=utf-8"
        default: "application/octet-stream"
        }
    }
}
