#if canImport(Glibc)
import Glibc
#endif

/// One 64-byte-aligned block of Float, owned by a final class so that a `Tensor` is a cheap value
/// whose storage is shared until someone writes (see `Tensor.makeUnique`).
///
/// 64 bytes: one cache line and one AVX-512 vector, so OpenBLAS and SIMD loops never straddle.
public final class FloatBuffer: @unchecked Sendable {
    // @unchecked Sendable: the pointer is written only through `Tensor`'s mutating API, which
    // copies the buffer first when it is shared (`isKnownUniquelyReferenced`); a buffer handed to
    // another thread is therefore either immutable or exclusively owned.
    public let count: Int
    public let base: UnsafeMutablePointer<Float>

    public init(count: Int) {
        precondition(count >= 0, "FloatBuffer: negative count \(count)")
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        base.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(copying other: FloatBuffer) {
        self.init(count: other.count)
        base.update(from: other.base, count: count)
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: base, count: count) }
}
