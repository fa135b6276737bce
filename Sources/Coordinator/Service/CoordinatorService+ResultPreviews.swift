public import Engine
import Foundation

extension CoordinatorService {
    /// A downscaled JPEG of `job`'s finished task `key` (a sweep point, a tile, the stitched
    /// output), from any thread; nil when the task has no finished image. Cached by the file's
    /// path, size and modification time, so a task rendered again is previewed again.
    public func resultPreview(job: String, key: String, maxSide: Int = 512) throws -> ResultPreview? {
        guard let task = try records.finishedTasks(ofJob: job).first(where: { $0.key == key }), let path = task.outputPath,
              path.hasSuffix(".png") else { return nil }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        let size = (attributes[.size] as? Int) ?? 0
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let maxPixels = configuration.jobLimits.maxInputPixels
        // As `ImageFile.read` bounds a file: 16-bit RGBA stored raw, plus metadata.
        let (raw, overflow) = maxPixels.multipliedReportingOverflow(by: 8)
        let maxBytes = overflow ? Int.max : raw.addingReportingOverflow(64 << 20).partialValue
        return try resultPreviews.preview(for: "\(path)|\(size)|\(modified)|\(maxSide)") {
            let bytes = try FileBytes.read(path: path, what: "result '\(key)'", maxBytes: maxBytes)
            return try ResultPreview.make(png: Data(bytes), maxSide: maxSide, maxPixels: maxPixels)
        }
    }
}
