internal import CSFOpenBLAS

/// The OpenBLAS calls the engine makes outside the convolution and Gram kernels, and the
/// process-wide thread count.
public enum BLAS {
    /// Sets OpenBLAS's thread count for this process. Results are deterministic for a given count.
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
    public static var threads: Int { Int(openblas_get_num_threads()) }
    public static var configuration: String { String(cString: openblas_get_config()) }
    public static var coreName: String { String(cString: openblas_get_corename()) }

    static func dsdot(_ n: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) -> Double {
        cblas_dsdot(Int32(n), a, 1, b, 1)
    }

    static func saxpy(_ n: Int, _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        cblas_saxpy(Int32(n), alpha, x, 1, y, 1)
    }

    static func sscal(_ n: Int, _ alpha: Float, _ x: UnsafeMutablePointer<Float>) {
        cblas_sscal(Int32(n), alpha, x, 1)
    }

    static func sasum(_ n: Int, _ x: UnsafePointer<Float>) -> Double {
        Double(cblas_sasum(Int32(n), x, 1))
    }
}
