internal import CSFPNG

/// Writes an 8- or 16-bit RGB PNG one row at a time, holding one row, never the image.
///
/// The file appears at `path` only when `finish()` succeeds (it is written beside it and
/// renamed), so a failed or abandoned write leaves nothing half-written. Samples are
/// quantised like `ImageFile.writePNG`: rounded and clamped to 0…255, or value × 257 in
/// 0…65535 for 16 bits, NaN as 0; 8-bit files carry an sRGB chunk and 16-bit files none, so
/// `ImageFile.read` gives back exactly what `ImageFile.writePNG` would have written.
///
/// libpng. The simplified `png_image` API cannot stream, so this uses `png_create_write_struct_2`
/// with our own write, flush, warning, error, malloc and free callbacks (see
/// `PNGRowWriter+LibPNG.swift`). libpng reports errors through `png_error`, which must not
/// return: without `setjmp` (which Swift cannot use safely) it aborts the process. So nothing
/// that comes from the caller may reach `png_error`:
/// - every parameter is checked here first: width and height 1…1,000,000 (libpng's default
///   user limits, checked again by `png_set_IHDR`), bit depth 8 or 16, colour type RGB,
///   no interlacing, compression level 0…9;
/// - rows are counted here: no row is passed after the last one, `png_write_end` is called
///   only once all rows are written ("No IDATs written" cannot happen), and every call after a
///   failure is refused here;
/// - I/O errors never reach libpng: the write callback records the first one and drops
///   further output, and `write(row:)` and `finish()` throw it;
/// - warnings, and benign errors (made warnings with `png_set_benign_errors`), are recorded,
///   not printed.
/// What remains is libpng or zlib running out of memory (`png_malloc` and `deflateInit`
/// call `png_error`) or an internal libpng bug. Both abort the process with libpng's message
/// on stderr, which is what Swift itself does when an allocation fails, so it is accepted.
///
/// Not thread-safe: one owner writes. Memory: one row of samples, plus what libpng and zlib
/// allocate (about 300 KB for a 4096-pixel row, independent of the height; `peakLibraryBytes`).
public final class PNGRowWriter: ImageRowSink {
    public let path: String
    public let width: Int
    public let height: Int
    public let bitDepth: Int
    public private(set) var rowsWritten = 0

    /// libpng's largest width and height (its default user limits).
    public static let maxSide = 1_000_000

    private let context: PNGWriteContext
    private var png: png_structp?
    private var info: png_infop?
    private var rowBytes: [UInt8]
    private var failure: EngineError?
    private var finished = false

    /// Creates the file (as a temporary beside `path`) and writes the PNG header.
    public convenience init(
        path: String, width: Int, height: Int, bitDepth: Int = 8, compressionLevel: Int = 6
    ) throws(EngineError) {
        try Self.validate(width: width, height: height, bitDepth: bitDepth, compressionLevel: compressionLevel, name: path)
        let file = try AtomicFileWriter(path: path, what: "image '\(path)'")
        try self.init(file: file, path: path, width: width, height: height, bitDepth: bitDepth,
                      compressionLevel: compressionLevel)
    }

    /// Writes to `file`, which it then owns. For tests that write to a descriptor.
    init(
        file: AtomicFileWriter, path: String, width: Int, height: Int, bitDepth: Int, compressionLevel: Int
    ) throws(EngineError) {
        try Self.validate(width: width, height: height, bitDepth: bitDepth, compressionLevel: compressionLevel, name: path)
        self.path = path
        self.width = width
        self.height = height
        self.bitDepth = bitDepth
        context = PNGWriteContext(file: file)
        rowBytes = [UInt8](repeating: 0, count: width * 3 * bitDepth / 8)
        (png, info) = try context.startWriting(width: width, height: height, bitDepth: bitDepth,
                                               compressionLevel: compressionLevel)
        try checkIO()
    }

    deinit {
        context.destroy(&png, &info)
        if !finished { context.file.abandon() }
    }

    /// The most bytes libpng and zlib have held at once (allocated through our callbacks).
    public var peakLibraryBytes: Int { context.peakHeapBytes }
    /// libpng's last warning, if any (none are expected).
    public var lastWarning: String? { context.lastWarning }

    /// Writes the next row: `width × 3` RGB samples on the 0…255 scale.
    public func write(row: UnsafeBufferPointer<Float>) throws(EngineError) {
        if let failure { throw failure }
        guard !finished else { throw EngineError(.invalidArgument, "'\(path)' is already finished; no more rows can be written") }
        guard row.count == width * 3 else {
            throw EngineError(
                .invalidArgument,
                "a row of '\(path)' needs \(width * 3) samples (\(width) RGB pixels), got \(row.count)")
        }
        guard rowsWritten < height else {
            throw EngineError(.invalidArgument, "'\(path)' has \(height) rows and all of them are written; call finish()")
        }
        quantise(row)
        rowBytes.withUnsafeBufferPointer { bytes in png_write_row(png, bytes.baseAddress) }
        rowsWritten += 1
        try checkIO()
    }

    public func write(row: [Float]) throws(EngineError) {
        try row.withUnsafeBufferPointer { (samples: UnsafeBufferPointer<Float>) throws(EngineError) in
            try write(row: samples)
        }
    }

    /// Ends the PNG, flushes it to disk and moves it to `path`. Every row must be written.
    public func finish() throws(EngineError) {
        if let failure { throw failure }
        guard !finished else { return }
        guard rowsWritten == height else {
            throw EngineError(
                .invalidArgument,
                "'\(path)' has \(rowsWritten) of its \(height) rows; write every row before finish()")
        }
        png_write_end(png, nil)
        try checkIO()
        context.destroy(&png, &info)
        do {
            try context.file.commit()
        } catch {
            failure = error
            throw error
        }
        finished = true
    }

    /// Throws (and gives up the file) if the write callback has recorded an I/O error.
    private func checkIO() throws(EngineError) {
        guard let error = context.ioError else { return }
        failure = error
        context.destroy(&png, &info)
        context.file.abandon()
        throw error
    }

    private func quantise(_ row: UnsafeBufferPointer<Float>) {
        rowBytes.withUnsafeMutableBufferPointer { bytes in
            if bitDepth == 8 {
                for i in 0..<row.count {
                    bytes[i] = UInt8(PNGEncoder.quantise(row[i], scale: 1, max: 255))
                }
            } else {
                for i in 0..<row.count {
                    let level = UInt16(PNGEncoder.quantise(row[i], scale: 257, max: 65535))
                    bytes[2 * i] = UInt8(level >> 8)  // PNG samples are big-endian
                    bytes[2 * i + 1] = UInt8(level & 0xFF)
                }
            }
        }
    }

    private static func validate(
        width: Int, height: Int, bitDepth: Int, compressionLevel: Int, name: String
    ) throws(EngineError) {
        guard (1...maxSide).contains(width), (1...maxSide).contains(height) else {
            throw EngineError(
                .invalidArgument,
                "cannot write '\(name)' as a \(width)×\(height) PNG: each side must be 1…\(maxSide) pixels")
        }
        guard bitDepth == 8 || bitDepth == 16 else {
            throw EngineError(.invalidArgument, "PNG bit depth must be 8 or 16, got \(bitDepth)")
        }
        guard (0...9).contains(compressionLevel) else {
            throw EngineError(.invalidArgument, "PNG compression level must be 0…9 (zlib's), got \(compressionLevel)")
        }
    }
}
