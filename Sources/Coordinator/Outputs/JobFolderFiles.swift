public import Foundation

/// The files in a job's folder, as its `index.html` links them: paths relative to the folder
/// (`job.json`, `tiles/tile-r0-c1.png`), the folder itself and one level of subfolders,
/// sorted. Temporaries of writes in progress (`*.partial*`), hidden files and the index itself
/// are left out, so the page links only to files that are whole and there.
public struct JobFolderFiles: Sendable, Equatable {
    public struct File: Sendable, Equatable {
        public var path: String
        public var bytes: Int
    }

    public let files: [File]
    private let paths: Set<String>

    public init(files: [File]) {
        self.files = files.sorted { $0.path < $1.path }
        paths = Set(files.map(\.path))
    }

    /// Lists `directory` now.
    public init(directory: String) {
        let manager = FileManager.default
        var found: [File] = []
        func list(_ relative: String, depth: Int) {
            let absolute = relative.isEmpty ? directory : directory + "/" + relative
            for name in (try? manager.contentsOfDirectory(atPath: absolute)) ?? [] {
                guard !name.hasPrefix("."), !name.contains(".partial"), !(relative.isEmpty && name == JobIndexPage.fileName) else { continue }
                let path = relative.isEmpty ? name : relative + "/" + name
                var isDirectory: ObjCBool = false
                guard manager.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    if depth == 0 { list(path, depth: 1) }
                } else {
                    let size = (try? manager.attributesOfItem(atPath: directory + "/" + path))?[.size] as? Int
                    found.append(File(path: path, bytes: size ?? 0))
                }
            }
        }
        list("", depth: 0)
        self.init(files: found)
    }

    public func contains(_ path: String) -> Bool { paths.contains(path) }

    /// "12 KB", "3.4 MB": a size a reader takes in at a glance.
    static func describe(bytes: Int) -> String {
        let units = ["bytes", "KB", "MB", "GB", "TB"]
        var value = Double(max(0, bytes)), unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) bytes" : (value < 10 ? String(format: "%.1f", value) : String(format: "%.0f", value)) + " " + units[unit]
    }
}
