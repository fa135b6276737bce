internal import CSFOpenBLAS

/// 3×3 convolution, stride 1, zero padding 1, by Winograd's F(m×m, 3×3): α² = (m+2)² GEMMs of
/// [out × in] · [in × tiles] replace nine of [out × in] · [in × pixels], i.e. 36/16 = 2.25
/// multiplications per output and tap-row instead of 9 for F(4×4) (16/4 = 4 for F(2×2)).
///
/// Per band of tile rows, three phases, each split over the engine's threads:
/// 1. input transform (SIMD, `WinogradTransform+Tiles`), split over input channels;
/// 2. one single-threaded sgemm per transform position, split over positions;
/// 3. output transform with bias / ReLU / pre-activation copy, split over output channels.
/// Every value is computed by one thread with arithmetic that does not depend on the split, so
/// results are deterministic, and even identical across thread counts. Bands are sequential
/// so that the transformed buffers (workspace `winogradInput`, `winogradProducts`) stay bounded.
///
/// Backward to the data reuses the forward weights: the rotated, channel-transposed kernel's
/// transform at position ξ is `s_ξ · U[π(ξ)]ᵀ` (see `WinogradTransform`), a transposed GEMM.
struct WinogradConv3x3: Sendable {
    let transform: WinogradTransform
    let inChannels: Int
    let outChannels: Int
    /// U = G g Gᵀ as [α², out, in]: position ξ's [out × in] matrix starts at ξ·out·in.
    let weights: FloatBuffer

    /// Tiles per band the workspace aims for: 1024 tiles keep every GEMM wide enough for
    /// OpenBLAS (N ≥ 128 even for the deepest layers, see `bandRows`).
    static let bandTiles = 1024
    /// Upper bound on each transformed buffer (floats), so that wide, deep layers take fewer
    /// tile rows per band: 3 Mi floats = 12 MiB per buffer.
    static let maximumBandFloats = 3 << 20

    init(transform: WinogradTransform, inChannels: Int, outChannels: Int, kernel: [Float]) {
        self.transform = transform
        self.inChannels = inChannels
        self.outChannels = outChannels
        let pairs = outChannels * inChannels
        let u = FloatBuffer(count: transform.positions * pairs)
        kernel.withUnsafeBufferPointer { k in
            guard let base = k.baseAddress, k.count >= pairs * 9 else { return }
            for pair in 0..<pairs {
                transform.transformKernel(base + pair * 9, into: u.base + pair, stride: pairs)
            }
        }
        weights = u
    }

    struct Geometry {
        let tilesX: Int
        let tilesY: Int
        /// Tile rows per band.
        let bandRows: Int
        /// Row stride of the transformed matrices: a band's tiles plus SIMD slack.
        var leading: Int { bandRows * tilesX + WinogradTransform.lanes }
    }

    func geometry(height: Int, width: Int, bandTiles: Int = Self.bandTiles) -> Geometry {
        Self.geometry(transform: transform, channels: max(inChannels, outChannels), height: height, width: width, bandTiles: bandTiles)
    }

    static func geometry(transform: WinogradTransform, channels: Int, height: Int, width: Int, bandTiles: Int) -> Geometry {
        let m = transform.outputSize
        let tilesX = (width + m - 1) / m, tilesY = (height + m - 1) / m
        let perRow = transform.positions * channels * tilesX
        let rows = min(tilesY, bandTiles / tilesX, Self.maximumBandFloats / max(perRow, 1))
        return Geometry(tilesX: tilesX, tilesY: tilesY, bandRows: max(1, rows))
    }

    /// Floats of each transformed buffer and of per-thread scratch for this layer at this size.
    func workspaceNeeds(height: Int, width: Int, bandTiles: Int = Self.bandTiles) -> (band: Int, scratch: Int) {
        Self.workspaceNeeds(transform: transform, inChannels: inChannels, outChannels: outChannels,
                            height: height, width: width, bandTiles: bandTiles)
    }

    /// The same for a layer of these channel counts (what a memory plan needs without weights).
    static func workspaceNeeds(transform: WinogradTransform, inChannels: Int, outChannels: Int, height: Int, width: Int,
                               bandTiles: Int = Self.bandTiles) -> (band: Int, scratch: Int) {
        let g = geometry(transform: transform, channels: max(inChannels, outChannels), height: height, width: width, bandTiles: bandTiles)
        return (transform.positions * max(inChannels, outChannels) * g.leading, transform.scratchFloats(tiles: g.tilesX))
    }

    /// `output = ReLU(conv(input) + bias)`, and the pre-activation when asked.
    func forward(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                 preActivation: UnsafeMutablePointer<Float>?, bias: UnsafePointer<Float>,
                 height: Int, width: Int, workspace: ConvWorkspace, threads: Int) {
        run(input, mask: nil, extra: nil, backward: false, output, preActivation: preActivation, bias: bias,
            relu: true, height: height, width: width, workspace: workspace, threads: threads)
    }

    /// The input gradient from the output gradient masked by `output > 0`, plus `extra`.
    func backward(outputGradient: UnsafePointer<Float>, output: UnsafePointer<Float>, extra: UnsafePointer<Float>?,
                  inputGradient: UnsafeMutablePointer<Float>, height: Int, width: Int,
                  workspace: ConvWorkspace, threads: Int) {
        run(outputGradient, mask: output, extra: extra, backward: true, inputGradient, preActivation: nil, bias: nil,
            relu: false, height: height, width: width, workspace: workspace, threads: threads)
    }

    private func run(_ source: UnsafePointer<Float>, mask: UnsafePointer<Float>?, extra: UnsafePointer<Float>?,
                     backward: Bool, _ destination: UnsafeMutablePointer<Float>,
                     preActivation: UnsafeMutablePointer<Float>?, bias: UnsafePointer<Float>?, relu: Bool,
                     height: Int, width: Int, workspace: ConvWorkspace, threads: Int) {
        let transform = self.transform
        let g = geometry(height: height, width: width, bandTiles: workspace.winogradBandTiles)
        let sourceChannels = backward ? outChannels : inChannels
        let targetChannels = backward ? inChannels : outChannels
        let ld = g.leading
        precondition(transform.positions * max(sourceChannels, targetChannels) * ld <= workspace.winogradBandCapacity
                     && transform.scratchFloats(tiles: g.tilesX) <= workspace.winogradScratchCapacity,
                     "ConvWorkspace too small for Winograd \(inChannels)→\(outChannels) at \(width)×\(height)")
        let threads = max(1, min(threads, workspace.threads))
        let plane = height * width
        let v = workspace.winogradInput.base, products = workspace.winogradProducts.base
        let u = weights.base
        let pairs = inChannels * outChannels
        for firstRow in stride(from: 0, to: g.tilesY, by: g.bandRows) {
            let rows = min(g.bandRows, g.tilesY - firstRow)
            let n = rows * g.tilesX
            Parallel.forEachIndexedChunk(sourceChannels, threads: threads) { part, channels in
                let scratch = workspace.winogradScratch(part)
                for c in channels {
                    for r in 0..<rows {
                        transform.gatherRow(source + c * plane, mask: mask.map { $0 + c * plane },
                                            extra: extra.map { $0 + c * plane }, height: height, width: width,
                                            tileRow: firstRow + r, tiles: g.tilesX, into: scratch)
                        transform.transformInputRow(scratch, tiles: g.tilesX, into: v + c * ld + r * g.tilesX,
                                                    positionStride: sourceChannels * ld)
                    }
                }
            }
            Parallel.forEachChunk(transform.positions, threads: threads) { positions in
                for xi in positions {
                    let vXi = v + xi * sourceChannels * ld, out = products + xi * targetChannels * ld
                    if backward {
                        let a = transform.inputSize
                        let i = xi / a, j = xi % a
                        let flipped = transform.flipPosition[i] * a + transform.flipPosition[j]
                        let scale = Float(transform.flipScale[i] * transform.flipScale[j])
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(inChannels), Int32(n), Int32(outChannels),
                                    scale, u + flipped * pairs, Int32(inChannels), vXi, Int32(ld), 0, out, Int32(ld))
                    } else {
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outChannels), Int32(n), Int32(inChannels),
                                    1, u + xi * pairs, Int32(inChannels), vXi, Int32(ld), 0, out, Int32(ld))
                    }
                }
            }
            Parallel.forEachIndexedChunk(targetChannels, threads: threads) { part, channels in
                let scratch = workspace.winogradScratch(part)
                for o in channels {
                    for r in 0..<rows {
                        transform.transformOutputRow(products + o * ld + r * g.tilesX, positionStride: targetChannels * ld,
                                                     tiles: g.tilesX, bias: bias?[o] ?? 0, into: scratch)
                        transform.scatterRow(scratch, tiles: g.tilesX, tileRow: firstRow + r, height: height, width: width,
                                             into: destination + o * plane, relu: relu,
                                             preActivation: preActivation.map { $0 + o * plane })
                    }
                }
            }
        }
    }
}
