internal import CSFCPUFeatures
internal import F4Kernels
internal import F4KernelsAVX2
import Foundation

/// Which compilation of Winograd F(4×4)'s row kernels (`F4Kernels.WinogradF4`) this process
/// runs: the one built for x86-64-v3 (AVX2: eight floats per register instead of four) when the
/// CPU has it, else the one for any x86-64. Results are the same bit for bit; only the speed
/// differs. `STYLEFARM_SIMD=baseline` keeps the portable one (to compare the two, or to rule
/// the wider one out).
enum WinogradF4Kernels: String, Sendable, CaseIterable {
    case baseline
    case avx2

    static let environmentVariable = "STYLEFARM_SIMD"

    /// What this machine supports.
    static let available: [Self] = sf_cpu_runs_x86_64_v3() != 0 ? [.baseline, .avx2] : [.baseline]

    /// What a new network uses.
    static let selected: Self = {
        if ProcessInfo.processInfo.environment[environmentVariable] == "baseline" { return .baseline }
        return available.last ?? .baseline
    }()

    static var inputMatrix: [Float] { F4Kernels.WinogradF4.inputMatrix }
    static var outputMatrix: [Float] { F4Kernels.WinogradF4.outputMatrix }

    func transformInputRow(_ scratch: UnsafePointer<Float>, tiles: Int, stride: Int, into v: UnsafeMutablePointer<Float>,
                           positionStride: Int) {
        switch self {
        case .baseline: F4Kernels.WinogradF4.transformInputRow(scratch, tiles: tiles, stride: stride, into: v, positionStride: positionStride)
        case .avx2: F4KernelsAVX2.WinogradF4.transformInputRow(scratch, tiles: tiles, stride: stride, into: v, positionStride: positionStride)
        }
    }

    func transformOutputRow(_ products: UnsafePointer<Float>, positionStride: Int, tiles: Int, stride: Int, bias: Float,
                            into scratch: UnsafeMutablePointer<Float>) {
        switch self {
        case .baseline:
            F4Kernels.WinogradF4.transformOutputRow(products, positionStride: positionStride, tiles: tiles, stride: stride, bias: bias, into: scratch)
        case .avx2:
            F4KernelsAVX2.WinogradF4.transformOutputRow(products, positionStride: positionStride, tiles: tiles, stride: stride, bias: bias, into: scratch)
        }
    }

    func gatherRow(_ source: UnsafePointer<Float>, mask: UnsafePointer<Float>?, extra: UnsafePointer<Float>?, width: Int,
                   count: Int, stride: Int, padded: UnsafeMutablePointer<Float>, into row: UnsafeMutablePointer<Float>) {
        switch self {
        case .baseline:
            F4Kernels.WinogradF4.gatherRow(source, mask: mask, extra: extra, width: width, count: count, stride: stride, padded: padded, into: row)
        case .avx2:
            F4KernelsAVX2.WinogradF4.gatherRow(source, mask: mask, extra: extra, width: width, count: count, stride: stride, padded: padded, into: row)
        }
    }

    func scatterRow(_ row: UnsafePointer<Float>, tiles: Int, stride: Int, joined: UnsafeMutablePointer<Float>, width: Int,
                    into output: UnsafeMutablePointer<Float>, relu: Bool, preActivation: UnsafeMutablePointer<Float>?) {
        switch self {
        case .baseline:
            F4Kernels.WinogradF4.scatterRow(row, tiles: tiles, stride: stride, joined: joined, width: width, into: output,
                                            relu: relu, preActivation: preActivation)
        case .avx2:
            F4KernelsAVX2.WinogradF4.scatterRow(row, tiles: tiles, stride: stride, joined: joined, width: width, into: output,
                                                relu: relu, preActivation: preActivation)
        }
    }
}
