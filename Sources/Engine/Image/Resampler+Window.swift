extension Resampler {
    /// The pixels in `window` of `image` resized to `width`×`height`, without computing the rest:
    /// equal, sample for sample, to `resize(image, width:height:filter:)` cropped to `window`
    /// (each output sample is the same weighted sum in the same order), at the cost and memory
    /// of the window. This is how a tile of a 16K render gets its content and starting pixels.
    public static func resize(_ image: RGBImage, width: Int, height: Int, window: PixelRect,
                              filter: ResampleFilter = .lanczos3) throws(EngineError) -> RGBImage {
        guard width > 0, height > 0, window.width > 0, window.height > 0,
              PixelRect(x: 0, y: 0, width: width, height: height).contains(window) else {
            throw EngineError(.invalidArgument, "window \(window) is not inside a \(width)×\(height) image")
        }
        // Input rows the window's output rows read (all of them when the height is unchanged).
        let vertical = height != image.height ? ResampleWeights(inputSize: image.height, outputSize: height, filter: filter) : nil
        let firstRow: Int, endRow: Int
        if let vertical {
            firstRow = window.rows.map { vertical.starts[$0] }.min()!
            endRow = window.rows.map { vertical.starts[$0] + vertical.counts[$0] }.max()!
        } else {
            (firstRow, endRow) = (window.y, window.maxY)
        }
        // Horizontal pass over those rows, for the window's columns only.
        var rows = [Float](repeating: 0, count: (endRow - firstRow) * window.width * 3)
        let horizontal = width != image.width ? ResampleWeights(inputSize: image.width, outputSize: width, filter: filter) : nil
        let kernelWeights = horizontal?.weights ?? []
        image.pixels.withUnsafeBufferPointer { input in
            kernelWeights.withUnsafeBufferPointer { kernel in
                rows.withUnsafeMutableBufferPointer { output in
                    for y in firstRow..<endRow {
                        let inRow = y * image.width * 3, outRow = (y - firstRow) * window.width * 3
                        for x in window.columns {
                            let out = outRow + (x - window.x) * 3
                            guard let horizontal else {
                                for c in 0..<3 { output[out + c] = input[inRow + x * 3 + c] }
                                continue
                            }
                            weightedRGB(input, from: inRow + horizontal.starts[x] * 3, taps: horizontal.counts[x], weights: kernel,
                                        at: x * horizontal.taps, into: output, at: out)
                        }
                    }
                }
            }
        }
        let rowLength = window.width * 3
        var result: [Float]
        if let vertical {
            result = [Float](repeating: 0, count: window.height * rowLength)
            rows.withUnsafeBufferPointer { input in
                result.withUnsafeMutableBufferPointer { output in
                    for y in window.rows {
                        let out = (y - window.y) * rowLength
                        for k in 0..<vertical.counts[y] {
                            let weight = vertical.weights[y * vertical.taps + k]
                            let row = (vertical.starts[y] + k - firstRow) * rowLength
                            for i in 0..<rowLength { output[out + i] += weight * input[row + i] }
                        }
                    }
                }
            }
        } else {
            result = rows
        }
        for i in result.indices { result[i] = min(max(result[i], 0), 255) }
        return RGBImage(width: window.width, height: window.height, pixels: result)
    }
}
