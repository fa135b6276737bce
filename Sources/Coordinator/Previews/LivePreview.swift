public import Foundation

/// The latest picture a worker sent of a running attempt (a sweep point, a tile, an exact
/// shard's rows), as the dashboard shows it. Held in memory only, never in the records.
public struct LivePreview: Sendable, Equatable {
    public var job: String
    /// The task's key ("point-003", "tile-r0-c1", "shard-1"…).
    public var key: String
    public var attemptID: Int64
    /// The iteration the picture shows, and the attempt's planned iterations when the worker said.
    public var iteration: Int
    public var iterations: Int?
    /// "image/jpeg" or "image/png".
    public var mimeType: String
    public var bytes: Data
    /// As the image's header declares (checked: at most `PreviewImage.maximumSide`).
    public var width: Int
    public var height: Int
    public var updatedAt: Date

    public init(job: String, key: String, attemptID: Int64, iteration: Int, iterations: Int?, mimeType: String,
                bytes: Data, width: Int, height: Int, updatedAt: Date) {
        self.job = job
        self.key = key
        self.attemptID = attemptID
        self.iteration = iteration
        self.iterations = iterations
        self.mimeType = mimeType
        self.bytes = bytes
        self.width = width
        self.height = height
        self.updatedAt = updatedAt
    }
}

/// How many previews the coordinator took and turned away since it started, and what it holds.
public struct LivePreviewCounts: Sendable, Equatable {
    /// Previews kept (each replaced its attempt's previous one).
    public var received: Int
    /// Previews not kept: about an attempt the sender does not hold, a stale or ended attempt,
    /// or over the memory bound.
    public var dropped: Int
    /// Previews held now (at most one per running attempt) and their bytes.
    public var held: Int
    public var heldBytes: Int
}
