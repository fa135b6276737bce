import Foundation

/// The reference arrays in the shared golden directory (`$STYLEFARM_GOLDEN_DIR`, default
/// `/work/shared/golden`): raw little-endian float32, described by its README and manifest.
public enum GoldenData {
    public static var directory: String {
        let configured = ProcessInfo.processInfo.environment["STYLEFARM_GOLDEN_DIR"] ?? ""
        return configured.isEmpty ? "/work/shared/golden" : configured
    }

    /// The floats in `<directory>/<name>.f32`.
    public static func floats(_ name: String) throws -> [Float] {
        let path = directory + "/" + name + ".f32"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TestFixtureMissing(message: "golden file \(path) not found; set STYLEFARM_GOLDEN_DIR")
        }
        guard data.count % 4 == 0 else {
            throw TestFixtureMissing(message: "golden file \(path) is \(data.count) bytes, not whole float32s")
        }
        return stride(from: 0, to: data.count, by: 4).map { offset in
            var bits: UInt32 = 0
            for index in (0..<4).reversed() { bits = bits << 8 | UInt32(data[data.startIndex + offset + index]) }
            return Float(bitPattern: bits)
        }
    }
}
