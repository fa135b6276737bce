public import Engine
public import Protocol
import Foundation

/// How a worker makes the previews a coordinator asked for (`PreviewOffer`).
public struct PreviewSettings: Sendable, Equatable {
    public var maxSide: Int
    /// Seconds of optimisation between two previews (the first and last iteration always get one).
    public var interval: Double
    /// JPEG: several times smaller than PNG for a painting, and a thumbnail need not be exact.
    public var jpegQuality: Int

    public init(maxSide: Int = RenderPreview.defaultMaxSide, interval: Double = PreviewSchedule.defaultInterval, jpegQuality: Int = 80) {
        self.maxSide = maxSide
        self.interval = interval
        self.jpegQuality = jpegQuality
    }

    public init(_ offer: PreviewOffer) {
        self.init(maxSide: offer.maxSide, interval: Double(offer.intervalMilliseconds) / 1000)
    }
}

/// Progress records to stream, and the latest preview when one was made since the last batch.
public struct ProgressBatch: Sendable {
    public var records: [RenderProgress]
    public var preview: PreviewImage?
}

/// Collects progress records into batches: every iteration while iterations are slow, at most
/// one batch per `seconds` otherwise, and always the last iteration. With `previews`, a record
/// the schedule finds due gets a preview, and its batch goes out at once.
struct ProgressBatcher {
    let seconds: Double
    let previews: PreviewSettings?
    var schedule: PreviewSchedule
    var pending: [RenderProgress] = []
    var pendingPreview: PreviewImage?
    var lastFlush = 0.0

    init(seconds: Double, previews: PreviewSettings? = nil) {
        self.seconds = seconds
        self.previews = previews
        schedule = PreviewSchedule(interval: previews?.interval ?? PreviewSchedule.defaultInterval)
    }

    mutating func add(_ record: RenderProgress, preview: RenderPreviewMaker, to deliver: (ProgressBatch) throws -> Void) throws {
        pending.append(record)
        var due = record.elapsed - lastFlush >= seconds || record.iteration == record.iterations
        if let previews, schedule.isDue(record), let made = Self.encoded(preview(previews.maxSide), previews) {
            pendingPreview = made
            due = true
        }
        if due {
            try flush(to: deliver)
            lastFlush = record.elapsed
        }
    }

    mutating func flush(to deliver: (ProgressBatch) throws -> Void) throws {
        guard !pending.isEmpty else { return }
        try deliver(ProgressBatch(records: pending, preview: pendingPreview))
        pending.removeAll(keepingCapacity: true)
        pendingPreview = nil
    }

    /// The preview as the wire carries it, or nil if it cannot be (a preview is never worth
    /// failing or delaying a task for: the next one may do).
    static func encoded(_ preview: RenderPreview, _ settings: PreviewSettings) -> PreviewImage? {
        guard let bytes = try? preview.jpeg(quality: settings.jpegQuality) else { return nil }
        return try? PreviewImage(validating: Data(bytes))
    }
}
