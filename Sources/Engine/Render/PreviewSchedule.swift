/// When a render's observer asks for a preview: at the first record, at the last planned
/// iteration, and otherwise once `interval` seconds of optimisation have passed since the
/// last one. Decided by the records' `elapsed` time, not by iteration counts, so a slow render
/// and a fast one both send about one preview per interval, and a fast one is not slowed.
public struct PreviewSchedule: Sendable, Equatable {
    public var interval: Double
    /// `elapsed` of the last record that was due; nil before the first.
    public private(set) var last: Double?

    public static let defaultInterval = 2.0

    public init(interval: Double = defaultInterval) {
        self.interval = interval
    }

    /// Whether `record` should carry a preview; notes it when so.
    public mutating func isDue(_ record: RenderProgress) -> Bool {
        let due: Bool
        if let last {
            due = record.iteration >= record.iterations || record.elapsed - last >= interval
        } else {
            due = true
        }
        if due { last = record.elapsed }
        return due
    }
}
