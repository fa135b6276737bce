extension LossCurves {
    /// At most `maximum` of `points`, keeping the shape: the first and the last, and from each
    /// of (maximum − 2) / 2 equal runs of the rest its lowest and its highest point, in their
    /// order. A spike (a loss blowing up for a few iterations) survives, which taking every
    /// n-th point would miss. Fewer points than `maximum` come back unchanged.
    static func decimate(_ points: [Point], maximum: Int) -> [Point] {
        let maximum = max(maximum, 4)
        guard points.count > maximum, let first = points.first, let last = points.last else { return points }
        let inner = points[1..<(points.count - 1)]
        let buckets = (maximum - 2) / 2
        var kept = [first]
        kept.reserveCapacity(maximum)
        for bucket in 0..<buckets {
            // Integer bounds that cover `inner` exactly: run b is [b·n/k, (b+1)·n/k).
            let start = inner.startIndex + bucket * inner.count / buckets
            let end = inner.startIndex + (bucket + 1) * inner.count / buckets
            guard start < end else { continue }
            var lowest = start, highest = start
            for index in start..<end {
                if points[index].value < points[lowest].value { lowest = index }
                if points[index].value > points[highest].value { highest = index }
            }
            kept.append(points[min(lowest, highest)])
            if lowest != highest { kept.append(points[max(lowest, highest)]) }
        }
        kept.append(last)
        return kept
    }
}
