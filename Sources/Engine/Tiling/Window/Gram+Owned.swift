internal import CSFOpenBLAS

extension Gram {
    /// Adds `Σ F Fᵀ` over the positions `rows × columns` of a feature map F = [C, height·width]
    /// into the full C×C matrix `sum` (unnormalised: a tile's share of `G·n`). Both triangles of
    /// `sum` are updated.
    ///
    /// `ssyrk` runs on the owned rectangle in place (one call per row, the channel stride as
    /// leading dimension; one call in all when the rows are whole), so nothing is copied.
    public static func accumulateOwned(_ features: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                                       rows: Range<Int>, columns: Range<Int>, into sum: UnsafeMutablePointer<Float>) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= height && columns.lowerBound >= 0 && columns.upperBound <= width,
                     "Gram.accumulateOwned: \(rows)×\(columns) is outside \(height)×\(width)")
        guard !rows.isEmpty, !columns.isEmpty else { return }
        // The upper triangle of `sum` accumulates; the lower one is rebuilt from it, so the
        // caller's symmetric matrix stays symmetric.
        let plane = Int32(height * width)
        if columns.count == width {
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(channels), Int32(rows.count * width),
                        1, features + rows.lowerBound * width, plane, 1, sum, Int32(channels))
        } else {
            for row in rows {
                cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(channels), Int32(columns.count),
                            1, features + row * width + columns.lowerBound, plane, 1, sum, Int32(channels))
            }
        }
        for i in 0..<channels {
            for j in 0..<i { sum[i * channels + j] = sum[j * channels + i] }
        }
    }

    /// `gradient[:, p] += M × F[:, p]` for the positions p in `rows × columns` only: the Gram
    /// gradient of the activations a tile owns (see `accumulateGradient`; M symmetric, upper
    /// triangle read). `ssymm` runs on the rectangle in place, one call per row.
    public static func accumulateOwnedGradient(_ m: UnsafePointer<Float>, features: UnsafePointer<Float>, channels: Int,
                                               height: Int, width: Int, rows: Range<Int>, columns: Range<Int>,
                                               into gradient: UnsafeMutablePointer<Float>) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= height && columns.lowerBound >= 0 && columns.upperBound <= width,
                     "Gram.accumulateOwnedGradient: \(rows)×\(columns) is outside \(height)×\(width)")
        guard !rows.isEmpty, !columns.isEmpty else { return }
        let plane = Int32(height * width)
        let whole = columns.count == width
        for row in whole ? rows.lowerBound..<(rows.lowerBound + 1) : rows {
            let offset = row * width + columns.lowerBound
            let count = whole ? rows.count * width : columns.count
            cblas_ssymm(CblasRowMajor, CblasLeft, CblasUpper, Int32(channels), Int32(count),
                        1, m, Int32(channels), features + offset, plane, 1, gradient + offset, plane)
        }
    }
}
