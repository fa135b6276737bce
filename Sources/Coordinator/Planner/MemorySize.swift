import Foundation

/// A memory size as typed on the command line: bytes, or a number with a binary unit
/// (`1.5G`, `1536M`, `2GiB`, `512m`): K, M, G, T are powers of 1024.
public enum MemorySize {
    /// The bytes `text` says, nil when it is not a size or overflows.
    public static func bytes(_ text: String) -> Int? {
        var number = Substring(text.trimmingCharacters(in: .whitespaces))
        var unit = 1
        if number.lowercased().hasSuffix("ib") { number = number.dropLast(2) } else if number.lowercased().hasSuffix("b") { number = number.dropLast() }
        if let last = number.last, let power = ["k": 1, "m": 2, "g": 3, "t": 4][last.lowercased()] {
            unit = 1 << (10 * power)
            number = number.dropLast()
        }
        guard let value = Double(number), value.isFinite, value > 0 else { return nil }
        let bytes = (value * Double(unit)).rounded()
        guard bytes >= 1, bytes < 9.0e18 else { return nil }
        return Int(bytes)
    }
}
