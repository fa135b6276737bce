extension BandStitcher {
    /// Adds `window`'s weighted samples and weights into the band rows it covers.
    func blendIn(_ window: RGBImage, tile: Tile) throws(EngineError) {
        let rect = tile.window
        // Guaranteed by blending in row-major order (see the type's comment); checked so that a
        // mistake shows up as an error rather than as a corrupt image.
        guard rect.y >= rowsWritten, rect.maxY <= rowsWritten + bandRows else {
            throw EngineError(
                .failed,
                "stitcher band overflow: tile \(tile.key) covers rows \(rect.y)..<\(rect.maxY) but rows "
                    + "\(rowsWritten)..<\(rowsWritten + bandRows) are in the band; this is a bug")
        }
        let width = grid.width, bandRows = bandRows
        let xWeights = columnWeights[tile.position.column]
        let yWeights = rowWeights[tile.position.row]
        band.withUnsafeMutableBufferPointer { band in
            window.pixels.withUnsafeBufferPointer { source in
                xWeights.withUnsafeBufferPointer { xWeights in
                    for j in 0..<rect.height {
                        let yWeight = yWeights[j]
                        if yWeight == 0 { continue }
                        let bandRow = ((rect.y + j) % bandRows * width + rect.x) * 4
                        let sourceRow = j * rect.width * 3
                        for i in 0..<rect.width {
                            let weight = yWeight * xWeights[i]
                            if weight == 0 { continue }
                            let b = bandRow + i * 4, s = sourceRow + i * 3
                            band[b] += weight * source[s]
                            band[b + 1] += weight * source[s + 1]
                            band[b + 2] += weight * source[s + 2]
                            band[b + 3] += weight
                        }
                    }
                }
            }
        }
        blendedThrough = max(blendedThrough, rect.maxY)
        peakHeldRows = max(peakHeldRows, heldRows)
    }

    /// Hands every complete row to the sink, normalised by its weight sum, and clears its slot.
    /// Row y is complete once the last tile-row whose window reaches down to y is blended.
    func writeCompleteRows() throws(EngineError) {
        let width = grid.width
        while rowsWritten < grid.height {
            while lastCoveringTileRow + 1 < grid.rows,
                  grid.rowSpan(lastCoveringTileRow + 1).window.lowerBound <= rowsWritten {
                lastCoveringTileRow += 1
            }
            guard lastCoveringTileRow < nextToBlend / grid.columns else { return }

            let slot = rowsWritten % bandRows * width * 4
            band.withUnsafeMutableBufferPointer { band in
                outputRow.withUnsafeMutableBufferPointer { output in
                    for x in 0..<width {
                        let b = slot + x * 4
                        let weight = band[b + 3]
                        // Every pixel lies in its own tile's interior, where the weight is
                        // positive; 0 is unreachable but must not divide. Where one tile
                        // covers a pixel its weight is exactly 1, and x / 1 == x.
                        for c in 0..<3 {
                            output[x * 3 + c] = weight > 0 ? band[b + c] / weight : 0
                        }
                        band[b] = 0; band[b + 1] = 0; band[b + 2] = 0; band[b + 3] = 0
                    }
                }
            }
            do {
                try outputRow.withUnsafeBufferPointer { (row: UnsafeBufferPointer<Float>) throws(EngineError) in
                    try sink.write(row: row)
                }
            } catch {
                failure = error
                throw error
            }
            rowsWritten += 1
        }
    }
}
