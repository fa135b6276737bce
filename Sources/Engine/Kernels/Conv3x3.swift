internal import CSFOpenBLAS

/// Scratch memory for convolution, shared by every layer of a graph and reused every iteration.
///
/// `padded` holds one layer's input with a one-pixel zero border; `band` holds a band of GEMM
/// output rows (or, for 3-channel layers, im2col columns). Both are bounded: the band by
/// `Conv3x3.bandColumns`, so memory does not grow with the number of rows.
public final class ConvWorkspace: @unchecked Sendable {
    // @unchecked Sendable: a workspace belongs to one graph, which runs one pass at a time.
    let padded: FloatBuffer
    /// One band buffer per thread, `bandCapacity` floats each, back to back.
    let bands: FloatBuffer
    public let bandCapacity: Int
    public let threads: Int
    /// Output pixels per GEMM band (see `Conv3x3.bandColumns`); tests make it small to force many bands.
    public let bandColumns: Int
    /// Winograd layers: one band's transformed inputs [α², C, tiles] and GEMM products, shared by
    /// the threads (each phase splits them), and per-thread tile-row scratch.
    let winogradInput: FloatBuffer
    let winogradProducts: FloatBuffer
    let winogradScratchBuffer: FloatBuffer
    let winogradBandCapacity: Int
    let winogradScratchCapacity: Int
    /// Tiles per Winograd band (see `WinogradConv3x3.bandTiles`); tests make it small to force many bands.
    public let winogradBandTiles: Int

    public init(paddedCapacity: Int, bandCapacity: Int, threads: Int, bandColumns: Int = Conv3x3.bandColumns,
                winogradBandCapacity: Int = 0, winogradScratchCapacity: Int = 0,
                winogradBandTiles: Int = Conv3x3.winogradBandTiles) {
        self.threads = max(1, threads)
        padded = FloatBuffer(count: paddedCapacity)
        bands = FloatBuffer(count: bandCapacity * self.threads)
        self.bandCapacity = bandCapacity
        self.bandColumns = bandColumns
        winogradInput = FloatBuffer(count: winogradBandCapacity)
        winogradProducts = FloatBuffer(count: winogradBandCapacity)
        winogradScratchBuffer = FloatBuffer(count: winogradScratchCapacity * self.threads)
        self.winogradBandCapacity = winogradBandCapacity
        self.winogradScratchCapacity = winogradScratchCapacity
        self.winogradBandTiles = max(1, winogradBandTiles)
    }

    /// A workspace large enough for every layer in `layers` at the given input sizes.
    public convenience init(for layers: [(conv: Conv3x3, height: Int, width: Int)], threads: Int,
                            bandColumns: Int = Conv3x3.bandColumns, winogradBandTiles: Int = Conv3x3.winogradBandTiles) {
        var padded = 0, band = 0, winogradBand = 0, winogradScratch = 0
        for (conv, height, width) in layers {
            if let winograd = conv.winograd {
                let needs = winograd.workspaceNeeds(height: height, width: width, bandTiles: winogradBandTiles)
                winogradBand = max(winogradBand, needs.band)
                winogradScratch = max(winogradScratch, needs.scratch)
            } else {
                let needs = conv.workspaceNeeds(height: height, width: width, bandColumns: bandColumns)
                padded = max(padded, needs.padded)
                band = max(band, needs.band)
            }
        }
        self.init(paddedCapacity: padded, bandCapacity: band, threads: threads, bandColumns: bandColumns,
                  winogradBandCapacity: winogradBand, winogradScratchCapacity: winogradScratch,
                  winogradBandTiles: winogradBandTiles)
    }

    func band(_ thread: Int) -> UnsafeMutablePointer<Float> { bands.base + thread * bandCapacity }

    func winogradScratch(_ thread: Int) -> UnsafeMutablePointer<Float> {
        winogradScratchBuffer.base + thread * winogradScratchCapacity
    }

    public var bytes: Int {
        (padded.count + bands.count + winogradInput.count + winogradProducts.count + winogradScratchBuffer.count)
            * MemoryLayout<Float>.stride
    }
}

/// 3×3 convolution, stride 1, zero padding 1, followed by bias and ReLU, on `cblas_sgemm`.
///
/// Layers with many input channels use nine shifted GEMMs over a zero-padded copy of the input:
/// for kernel tap (ky, kx) the input matrix is the padded image itself, offset by
/// `ky·(W+2) + kx`, so no im2col matrix is ever written. Outputs are computed on the padded
/// width (two wasted columns per row) and cropped while bias and ReLU are applied. Measured on
/// this project's 2-core machine, the nine K=Cin GEMMs run as fast as one K=9·Cin GEMM, and
/// skipping im2col saves about 0.5 s of memory traffic per 512×512 iteration.
///
/// Backward to the input is the same convolution of the output gradient with the kernel
/// transposed over channels and rotated by 180°. Layers with three channels on one side (the
/// image) use small im2col / col2im steps instead, where a GEMM with K or M = 3 would crawl.
///
/// Threads: OpenBLAS runs single-threaded (`BLAS.setThreads(1)`) and the engine splits bands
/// over its own threads, each with its own band buffer. OpenBLAS's own workers spin between
/// calls (90,000 `sched_yield` calls in one 256-pixel benchmark) and starve the engine's
/// element-wise work; one owner of the cores avoids that. Every band is computed by one thread
/// in a fixed order, so results do not depend on scheduling.
public struct Conv3x3: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let bias: [Float]
    /// [out, in, 3, 3] as given: the im2col A matrix [out, 9·in].
    let kernel: FloatBuffer
    /// [out, 9, in]: tap s's [out × in] matrix starts at `s·in`, row stride 9·in.
    let tapMajor: FloatBuffer
    /// [in, 9, out] of the rotated, channel-transposed kernel, for backward-to-input.
    let flippedTapMajor: FloatBuffer
    /// How this layer convolves; a Winograd layer keeps only its transformed weights.
    public let method: ConvolutionMethod
    let winograd: WinogradConv3x3?

    /// Target GEMM width (output pixels per band): wide enough for OpenBLAS to run at speed,
    /// small enough to stay in cache: 4096 beat 8192 side by side at 512×512 (2.53 vs 2.72 s per
    /// iteration), mostly on the 64-channel layers.
    public static let bandColumns = 4096
    /// Tiles per band of a Winograd layer (see `WinogradConv3x3.bandTiles`).
    public static let winogradBandTiles = WinogradConv3x3.bandTiles
    /// Below this many channels on the GEMM's K side, im2col/col2im beats nine thin GEMMs.
    static let shiftedMinimumChannels = 16

    public init(inChannels: Int, outChannels: Int, weights: [Float], bias: [Float], method: ConvolutionMethod = .direct) {
        precondition(weights.count == outChannels * inChannels * 9 && bias.count == outChannels,
                     "Conv3x3: weight/bias sizes do not match \(inChannels)→\(outChannels)")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.bias = bias
        self.method = method
        if let transform = method.transform {
            winograd = WinogradConv3x3(transform: transform, inChannels: inChannels, outChannels: outChannels, kernel: weights)
            kernel = FloatBuffer(count: 0)
            tapMajor = FloatBuffer(count: 0)
            flippedTapMajor = FloatBuffer(count: 0)
            return
        }
        winograd = nil
        // Keep only the layouts this layer's kernels read: the plain kernel for the im2col and
        // col2im paths of a 3-channel input, the tap-major pair for the shifted-GEMM paths.
        let usesIm2col = inChannels < Self.shiftedMinimumChannels
        kernel = FloatBuffer(count: usesIm2col ? weights.count : 0)
        tapMajor = FloatBuffer(count: usesIm2col ? 0 : weights.count)
        flippedTapMajor = FloatBuffer(count: usesIm2col ? 0 : weights.count)
        for o in 0..<outChannels {
            for c in 0..<inChannels {
                for s in 0..<9 {
                    let w = weights[(o * inChannels + c) * 9 + s]
                    if usesIm2col {
                        kernel.base[(o * inChannels + c) * 9 + s] = w
                    } else {
                        tapMajor.base[(o * 9 + s) * inChannels + c] = w
                        flippedTapMajor.base[(c * 9 + (8 - s)) * outChannels + o] = w
                    }
                }
            }
        }
    }

    /// Floats of padded input and band the workspace needs for this layer at `width`.
    public func workspaceNeeds(height: Int, width: Int, bandColumns: Int = Conv3x3.bandColumns) -> (padded: Int, band: Int) {
        Self.workspaceNeeds(inChannels: inChannels, outChannels: outChannels, height: height, width: width, bandColumns: bandColumns)
    }

    /// The same for a layer of these channel counts (what a memory plan needs without weights).
    public static func workspaceNeeds(inChannels: Int, outChannels: Int, height: Int, width: Int,
                                      bandColumns: Int = Conv3x3.bandColumns) -> (padded: Int, band: Int) {
        let paddedPlane = (height + 2) * (width + 2)
        let rows = Self.bandRows(height: height, rowWidth: width + 2, bandColumns: bandColumns)
        var band = max(inChannels, outChannels) * rows * (width + 2)
        if inChannels < Self.shiftedMinimumChannels {
            // im2col (forward) and col2im (backward) columns: 9·in rows of at least one image
            // row, and the backward's masked gradient beside them. Neither pads the image.
            band = max(band, (9 * inChannels + outChannels) * width * max(1, rows / 2))
            return (0, band)
        }
        return (max(inChannels, outChannels) * paddedPlane, band)
    }

    /// Rows per band: at most `bandColumns` output pixels, and a band count that is a multiple
    /// of the thread count where the height allows, so every thread gets equal work (a 64-row
    /// layer in one band would leave the other core idle).
    static func bandRows(height: Int, rowWidth: Int, bandColumns: Int, threads: Int = 1) -> Int {
        let maxRows = max(1, min(height, bandColumns / max(rowWidth, 1)))
        let rounds = (height + maxRows * threads - 1) / (maxRows * threads)
        return max(1, (height + rounds * threads - 1) / (rounds * threads))
    }

    // MARK: Forward

    /// `output = ReLU(conv(input) + bias)`; with `preActivation` non-nil, the biased value
    /// before the ReLU is stored there too (for losses on `blockN_convM` layers).
    public func forward(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                        preActivation: UnsafeMutablePointer<Float>?,
                        height: Int, width: Int, workspace: ConvWorkspace, threads: Int) {
        if let winograd {
            bias.withUnsafeBufferPointer { b in
                guard let base = b.baseAddress else { return }
                winograd.forward(input, output, preActivation: preActivation, bias: base, height: height, width: width,
                                 workspace: workspace, threads: threads)
            }
            return
        }
        if inChannels < Self.shiftedMinimumChannels {
            forwardIm2col(input, output, preActivation: preActivation, height: height, width: width,
                          workspace: workspace, threads: threads)
            return
        }
        Self.pad(input, channels: inChannels, height: height, width: width, into: workspace.padded.base,
                 mask: nil, extra: nil, threads: threads)
        let bias = self.bias
        Self.shiftedConvolution(workspace.padded.base, inChannels: inChannels, outChannels: outChannels,
                                taps: tapMajor.base, height: height, width: width, workspace: workspace) { band, y0, rows in
            bias.withUnsafeBufferPointer { b in
                Self.crop(band, rows: rows, width: width, channels: outChannels, into: output, firstRow: y0,
                          height: height, bias: b.baseAddress, relu: true, preActivation: preActivation)
            }
        }
    }

    /// The 3-channel first layer: im2col (27 rows) and one GEMM per band.
    private func forwardIm2col(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                               preActivation: UnsafeMutablePointer<Float>?,
                               height: Int, width: Int, workspace: ConvWorkspace, threads: Int) {
        let k = 9 * inChannels
        let rowsPerBand = max(1, min(height, workspace.bandCapacity / max(k * width, 1)))
        let bandCount = (height + rowsPerBand - 1) / rowsPerBand
        Self.forEachBand(bandCount, threads: workspace.threads) { index, thread in
            let y0 = index * rowsPerBand
            let rows = min(rowsPerBand, height - y0)
            let n = rows * width
            let columns = workspace.band(thread)
            Self.im2col(input, channels: inChannels, height: height, width: width, firstRow: y0, rows: rows, into: columns)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outChannels), Int32(n), Int32(k),
                        1, kernel.base, Int32(k), columns, Int32(n), 0, output + y0 * width, Int32(height * width))
        }
        Activation.addBiasReLU(output, bias: bias, planeSize: height * width, preActivation: preActivation, threads: threads)
    }

    // MARK: Backward

    /// The input gradient, given the gradient with respect to this layer's ReLU output, the
    /// ReLU output itself (its mask), and optionally a gradient with respect to the
    /// pre-activation (a loss on `blockN_convM`), which is added after the mask.
    public func backward(outputGradient: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         preActivationGradient: UnsafePointer<Float>?, inputGradient: UnsafeMutablePointer<Float>,
                         height: Int, width: Int, workspace: ConvWorkspace, threads: Int) {
        if let winograd {
            winograd.backward(outputGradient: outputGradient, output: output, extra: preActivationGradient,
                              inputGradient: inputGradient, height: height, width: width, workspace: workspace, threads: threads)
            return
        }
        if inChannels < Self.shiftedMinimumChannels {
            backwardCol2im(outputGradient, mask: output, extra: preActivationGradient, inputGradient,
                           height: height, width: width, workspace: workspace)
            return
        }
        Self.pad(outputGradient, channels: outChannels, height: height, width: width, into: workspace.padded.base,
                 mask: output, extra: preActivationGradient, threads: threads)
        Self.shiftedConvolution(workspace.padded.base, inChannels: outChannels, outChannels: inChannels,
                                taps: flippedTapMajor.base, height: height, width: width, workspace: workspace) { band, y0, rows in
            Self.crop(band, rows: rows, width: width, channels: inChannels, into: inputGradient, firstRow: y0,
                      height: height, bias: nil, relu: false, preActivation: nil)
        }
    }

    /// dX for a 3-channel input: per band of rows, dY masked by the ReLU (plus `extra`), then
    /// columns = Kᵀ × dY (M = 27, K = out), then scatter-add (col2im). The band is masked into
    /// the band area rather than padding the whole gradient first: a 64-channel padded copy of
    /// the full image (68 MB at 512²) was the largest buffer a Winograd network still needed.
    private func backwardCol2im(_ outputGradient: UnsafePointer<Float>, mask: UnsafePointer<Float>,
                                extra: UnsafePointer<Float>?, _ inputGradient: UnsafeMutablePointer<Float>,
                                height: Int, width: Int, workspace: ConvWorkspace) {
        let k = 9 * inChannels
        let plane = height * width
        // The whole multi-thread band area, used as one: masked dY (out × n), then columns (k × n).
        let area = workspace.bands.count
        let rowsPerBand = max(1, min(height, area / max((k + outChannels) * width, 1)))
        let bandCount = (height + rowsPerBand - 1) / rowsPerBand
        inputGradient.update(repeating: 0, count: inChannels * plane)
        // Bands scatter into overlapping input rows, so bands run one after another; within a
        // band the masking splits its channels, the GEMM its columns and the scatter its channels.
        let threads = workspace.threads
        let masked = workspace.bands.base
        for index in 0..<bandCount {
            let y0 = index * rowsPerBand
            let rows = min(rowsPerBand, height - y0)
            let n = rows * width
            let columns = masked + outChannels * n
            Parallel.forEachChunk(outChannels, threads: threads, minimumChunk: 4) { range in
                for o in range {
                    let offset = o * plane + y0 * width
                    let src = outputGradient + offset, m = mask + offset, dst = masked + o * n
                    for i in 0..<n { dst[i] = m[i] > 0 ? src[i] : 0 }
                    if let extra {
                        let e = extra + offset
                        for i in 0..<n { dst[i] += e[i] }
                    }
                }
            }
            Parallel.forEachChunk(n, threads: threads, minimumChunk: 256) { range in
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(k), Int32(range.count), Int32(outChannels),
                            1, kernel.base, Int32(k), masked + range.lowerBound, Int32(n),
                            0, columns + range.lowerBound, Int32(n))
            }
            // Forward: Y[o, y, x] = Σ W[o, c, ky, kx]·X[c, y+ky−1, x+kx−1], so column (c, ky, kx) at
            // output (y, x) adds to dX[c, y+ky−1, x+kx−1].
            Parallel.forEachChunk(inChannels, threads: threads) { channelRange in
                for c in channelRange {
                    let dst = inputGradient + c * plane
                    for s in 0..<9 {
                        let ky = s / 3, kx = s % 3
                        let row = columns + (c * 9 + s) * n
                        for r in 0..<rows {
                            let yIn = y0 + r + ky - 1
                            guard yIn >= 0, yIn < height else { continue }
                            let src = row + r * width
                            let d = dst + yIn * width
                            // Output x reaches input x + kx − 1 when that lies inside the image.
                            let lo = max(0, 1 - kx), hi = min(width, width + 1 - kx)
                            for x in lo..<hi { d[x + kx - 1] += src[x] }
                        }
                    }
                }
            }
        }
    }

    /// Nine accumulating GEMMs per band of output rows over a padded input; `finish` receives
    /// the band (`outChannels × rows·(W+2)`, padded width) to crop.
    static func shiftedConvolution(_ padded: UnsafePointer<Float>, inChannels: Int, outChannels: Int,
                                   taps: UnsafePointer<Float>, height: Int, width: Int, workspace: ConvWorkspace,
                                   finish: (UnsafePointer<Float>, Int, Int) -> Void) {
        let wp = width + 2
        let plane = (height + 2) * wp
        let rowsPerBand = bandRows(height: height, rowWidth: wp, bandColumns: workspace.bandColumns, threads: workspace.threads)
        precondition(outChannels * rowsPerBand * wp <= workspace.bandCapacity,
                     "ConvWorkspace band too small for \(outChannels)×\(rowsPerBand)×\(wp)")
        let bandCount = (height + rowsPerBand - 1) / rowsPerBand
        forEachBand(bandCount, threads: workspace.threads) { index, thread in
            let y0 = index * rowsPerBand
            let rows = min(rowsPerBand, height - y0)
            let band = workspace.band(thread)
            // Outputs on the padded width; the last two columns of the band are never read, and
            // leaving them out keeps the (ky, kx) = (2, 2) view inside the padded plane.
            let n = rows * wp - 2
            for s in 0..<9 {
                let ky = s / 3, kx = s % 3
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outChannels), Int32(n), Int32(inChannels),
                            1, taps + s * inChannels, Int32(9 * inChannels),
                            padded + (y0 + ky) * wp + kx, Int32(plane),
                            s == 0 ? 0 : 1, band, Int32(rows * wp))
            }
            finish(UnsafePointer(band), y0, rows)
        }
    }

    /// Runs `body(band, thread)` for every band; thread t takes bands t, t+T, t+2T, … so the
    /// assignment (and each band's arithmetic) is fixed.
    static func forEachBand(_ count: Int, threads: Int, _ body: (Int, Int) -> Void) {
        let workers = max(1, min(threads, count))
        Parallel.forEachChunk(workers, threads: workers) { range in
            for thread in range {
                for index in stride(from: thread, to: count, by: workers) { body(index, thread) }
            }
        }
    }

    /// Copies `source` (C×H×W) into the interior of a zero-bordered (H+2)×(W+2) layout. With
    /// `mask`, elements whose mask is not positive become 0 (ReLU backward); `extra` is added after.
    static func pad(_ source: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                    into padded: UnsafeMutablePointer<Float>, mask: UnsafePointer<Float>?,
                    extra: UnsafePointer<Float>?, threads: Int) {
        let wp = width + 2
        let plane = (height + 2) * wp
        Parallel.forEachChunk(channels, threads: threads, minimumChunk: 4) { range in
            for c in range {
                let dst = padded + c * plane
                dst.update(repeating: 0, count: wp)
                (dst + (height + 1) * wp).update(repeating: 0, count: wp)
                for y in 0..<height {
                    let row = dst + (y + 1) * wp
                    row[0] = 0
                    row[wp - 1] = 0
                    let offset = (c * height + y) * width
                    let src = source + offset
                    let out = row + 1
                    if let mask {
                        let m = mask + offset
                        for x in 0..<width { out[x] = m[x] > 0 ? src[x] : 0 }
                    } else {
                        out.update(from: src, count: width)
                    }
                    if let extra {
                        let e = extra + offset
                        for x in 0..<width { out[x] += e[x] }
                    }
                }
            }
        }
    }

    /// Copies a padded-width band into rows `firstRow …` of a C×H×W tensor, dropping the two
    /// wasted columns, with optional bias, ReLU and pre-activation copy.
    static func crop(_ band: UnsafePointer<Float>, rows: Int, width: Int, channels: Int,
                     into output: UnsafeMutablePointer<Float>, firstRow: Int, height: Int,
                     bias: UnsafePointer<Float>?, relu: Bool, preActivation: UnsafeMutablePointer<Float>?) {
        let wp = width + 2
        do {
            for c in 0..<channels {
                let b = bias?[c] ?? 0
                for r in 0..<rows {
                    let src = band + c * rows * wp + r * wp
                    let offset = (c * height + firstRow + r) * width
                    let dst = output + offset
                    if let preActivation {
                        let pre = preActivation + offset
                        for x in 0..<width { pre[x] = src[x] + b }
                    }
                    if relu {
                        for x in 0..<width { let v = src[x] + b; dst[x] = v > 0 ? v : 0 }
                    } else if bias != nil {
                        for x in 0..<width { dst[x] = src[x] + b }
                    } else {
                        dst.update(from: src, count: width)
                    }
                }
            }
        }
    }

    /// Rows `firstRow ..< firstRow+rows` of the im2col matrix: row `(c·9 + ky·3 + kx)` holds
    /// `input[c, y+ky-1, x+kx-1]` for every output pixel (y, x) of the band, zero outside.
    static func im2col(_ input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                       firstRow: Int, rows: Int, into columns: UnsafeMutablePointer<Float>) {
        let n = rows * width
        do {
            for c in 0..<channels {
                let plane = input + c * height * width
                for ky in 0..<3 {
                    for kx in 0..<3 {
                        let dstRow = columns + (c * 9 + ky * 3 + kx) * n
                        for r in 0..<rows {
                            let y = firstRow + r + ky - 1
                            let dst = dstRow + r * width
                            if y < 0 || y >= height {
                                dst.update(repeating: 0, count: width)
                                continue
                            }
                            let src = plane + y * width
                            switch kx {
                            case 0:
                                dst[0] = 0
                                if width > 1 { (dst + 1).update(from: src, count: width - 1) }
                            case 1:
                                dst.update(from: src, count: width)
                            default:
                                if width > 1 { dst.update(from: src + 1, count: width - 1) }
                                dst[width - 1] = 0
                            }
                        }
                    }
                }
            }
        }
    }
}
