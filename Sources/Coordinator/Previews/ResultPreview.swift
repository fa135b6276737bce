public import Foundation
public import Engine
import Synchronization

/// A finished task's image made small for the dashboard: decoded (8- or 16-bit PNG, within the
/// pixel limit checked from its header first), shrunk by area averaging to fit `maxSide`, and
/// encoded as JPEG. Runs on HTTP threads, so decodes take turns: at most one image is in memory
/// at a time, whatever number of browsers ask at once; `ResultPreviewCache` keeps the answers.
public struct ResultPreview: Sendable, Equatable {
    public var bytes: Data
    public var mimeType: String
    public var width: Int
    public var height: Int

    /// The sides a caller may ask for.
    public static let sides = 16...2048
    static let jpegQuality = 85
    /// One decode at a time: a 100 MP result takes ~1.5 GB while decoded.
    private static let turn = Mutex(())

    public static func make(png: Data, maxSide: Int, maxPixels: Int = ImageLimits.defaultMaxPixels) throws -> ResultPreview {
        guard sides.contains(maxSide) else {
            throw EngineError(.invalidArgument, "a preview's side must be \(sides.lowerBound)–\(sides.upperBound) pixels; got \(maxSide)")
        }
        let bytes = [UInt8](png)
        // The header first, without the lock: an image over the limit is refused at once.
        let header = try ImageHeader.read(bytes, name: "result", maxPixels: maxPixels)
        guard header.format == .png else {
            throw EngineError(.unsupportedImage, "result previews are made from PNG results; this one is \(header.format)")
        }
        let small: RGBImage = try turn.withLock { _ in
            let image = try ImageFile.decode(bytes, name: "result", maxPixels: maxPixels)
            guard max(image.width, image.height) > maxSide else { return image }
            let size = Resampler.size(fittingLongestSide: maxSide, width: image.width, height: image.height)
            return Resampler.resize(image, width: size.width, height: size.height, filter: .area)
        }
        return ResultPreview(bytes: Data(try ImageFile.encodeJPEG(small, quality: jpegQuality)), mimeType: "image/jpeg",
                             width: small.width, height: small.height)
    }
}

/// Result previews by a caller's key (a file's path, size and modification time, or a sha256),
/// least recently used first out once they hold more than `capacityBytes`.
public final class ResultPreviewCache: Sendable {
    private struct Entry {
        var preview: ResultPreview
        var used: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    private let state = Mutex(State())
    public let capacityBytes: Int

    public init(capacityBytes: Int = 16 << 20) {
        self.capacityBytes = capacityBytes
    }

    /// The cached preview for `key`, or `make()`'s, then cached. `make` runs outside the lock,
    /// so readers of other keys never wait on a decode.
    public func preview(for key: String, make: () throws -> ResultPreview) throws -> ResultPreview {
        let cached = state.withLock { state -> ResultPreview? in
            state.clock += 1
            guard var entry = state.entries[key] else { return nil }
            entry.used = state.clock
            state.entries[key] = entry
            return entry.preview
        }
        if let cached { return cached }
        let made = try make()
        state.withLock { state in
            guard made.bytes.count <= capacityBytes else { return }
            state.clock += 1
            if let old = state.entries.updateValue(Entry(preview: made, used: state.clock), forKey: key) {
                state.bytes -= old.preview.bytes.count
            }
            state.bytes += made.bytes.count
            // A few hundred entries at most: a scan for the oldest is cheaper than a list.
            while state.bytes > capacityBytes, let oldest = state.entries.min(by: { $0.value.used < $1.value.used }) {
                state.entries.removeValue(forKey: oldest.key)
                state.bytes -= oldest.value.preview.bytes.count
            }
        }
        return made
    }

    public var heldBytes: Int { state.withLock { $0.bytes } }
}
