public import Foundation

/// The PyTorch reference data in `../shared/golden/` (see its README and manifest.json).
public enum Golden {
    /// `$STYLEFARM_GOLDEN`, else `shared/golden` beside the repository.
    public static var directory: URL {
        if let path = ProcessInfo.processInfo.environment["STYLEFARM_GOLDEN"] { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/golden")
    }

    public struct MissingFile: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "golden file \(path) is missing; set STYLEFARM_GOLDEN to the shared/golden folder" }
    }

    /// A raw little-endian float32 file.
    public static func array(_ name: String) throws -> [Float] {
        let url = directory.appendingPathComponent("\(name).f32")
        guard let data = FileManager.default.contents(atPath: url.path) else { throw MissingFile(path: url.path) }
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    public static func manifest() throws -> [String: Any] {
        let url = directory.appendingPathComponent("manifest.json")
        guard let data = FileManager.default.contents(atPath: url.path),
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw MissingFile(path: url.path)
        }
        return object
    }

    /// Largest absolute difference between two arrays, relative to the largest magnitude in `expected`.
    public static func relativeMaxError(_ actual: [Float], _ expected: [Float]) -> Float {
        precondition(actual.count == expected.count, "size mismatch \(actual.count) vs \(expected.count)")
        let scale = expected.reduce(Float(0)) { max($0, abs($1)) }
        var worst: Float = 0
        for (a, e) in zip(actual, expected) { worst = max(worst, abs(a - e)) }
        return scale == 0 ? worst : worst / scale
    }
}
