/// A single image-shaped float tensor in CHW layout (batch size 1, as style transfer needs).
///
/// A value type over a shared `FloatBuffer`: copies are free, the first write to a shared
/// tensor copies its buffer. Kernels reach the memory through `withUnsafe…` and allocate nothing.
public struct Tensor: Sendable {
    public private(set) var channels: Int
    public private(set) var height: Int
    public private(set) var width: Int
    @usableFromInline var storage: FloatBuffer

    public init(channels: Int, height: Int, width: Int) {
        precondition(channels >= 0 && height >= 0 && width >= 0, "Tensor: negative shape")
        self.channels = channels
        self.height = height
        self.width = width
        storage = FloatBuffer(count: channels * height * width)
    }

    public init(channels: Int, height: Int, width: Int, values: [Float]) {
        precondition(values.count == channels * height * width,
                     "Tensor: \(channels)×\(height)×\(width) needs \(channels * height * width) values, got \(values.count)")
        self.init(channels: channels, height: height, width: width)
        values.withUnsafeBufferPointer { storage.base.update(from: $0.baseAddress!, count: values.count) }
    }

    public var count: Int { channels * height * width }
    public var planeSize: Int { height * width }
    public var shape: [Int] { [channels, height, width] }

    public var values: [Float] { Array(UnsafeBufferPointer(start: storage.base, count: count)) }

    public subscript(c: Int, y: Int, x: Int) -> Float {
        get { storage.base[(c * height + y) * width + x] }
        set { makeUnique(); storage.base[(c * height + y) * width + x] = newValue }
    }

    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.base, count: count))
    }

    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.base, count: count))
    }

    /// The raw pointer, for kernels that need several tensors at once. The caller must not write
    /// through it unless it owns the tensor exclusively (call `makeUnique()` first).
    public var pointer: UnsafeMutablePointer<Float> { storage.base }

    @inlinable
    public mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = FloatBuffer(copying: storage) }
    }

    public mutating func fill(_ value: Float) {
        withUnsafeMutableBufferPointer { $0.update(repeating: value) }
    }
}
