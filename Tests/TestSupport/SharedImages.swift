public import Foundation

/// The sample paintings and photos in `../shared/images/` (see its SOURCES.md), beside the
/// golden data: `$STYLEFARM_GOLDEN/../images` when that is set.
public enum SharedImages {
    public static var directory: URL { Golden.directory.deletingLastPathComponent().appendingPathComponent("images") }

    /// The path of `name`, or a `Golden.MissingFile` error saying where it was looked for.
    public static func path(_ name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        guard FileManager.default.fileExists(atPath: path) else { throw Golden.MissingFile(path: path) }
        return path
    }
}
