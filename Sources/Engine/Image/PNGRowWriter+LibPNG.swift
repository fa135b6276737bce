internal import CSFPNG
#if canImport(Glibc)
internal import Glibc
#endif

/// What libpng's callbacks reach through their user pointers (io, error and mem pointers all
/// point here, unretained: `PNGRowWriter` keeps it alive until the png struct is destroyed).
/// See `PNGRowWriter` for why no callback ever unwinds libpng.
final class PNGWriteContext {
    let file: AtomicFileWriter
    /// The first write error; later output is dropped.
    var ioError: EngineError?
    var heapBytes = 0
    var peakHeapBytes = 0
    var lastWarning: String?

    init(file: AtomicFileWriter) {
        self.file = file
    }

    /// Creates the write and info structs, sets up RGB at `bitDepth` and writes the header
    /// chunks. The parameters are already validated (see `PNGRowWriter`).
    func startWriting(
        width: Int, height: Int, bitDepth: Int, compressionLevel: Int
    ) throws(EngineError) -> (png_structp, png_infop) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        guard let png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, me, pngError, pngWarning,
                                                  me, pngMalloc, pngFree) else {
            throw EngineError(.failed, "cannot start libpng's writer for \(file.what)", cause: lastWarning)
        }
        guard let info = png_create_info_struct(png) else {
            var png: png_structp? = png
            png_destroy_write_struct(&png, nil)
            throw EngineError(.failed, "cannot start libpng's writer for \(file.what) (out of memory?)")
        }
        png_set_write_fn(png, me, pngWrite, pngFlush)
        png_set_benign_errors(png, 1)
        png_set_compression_level(png, Int32(compressionLevel))
        png_set_IHDR(png, info, UInt32(width), UInt32(height), Int32(bitDepth), PNG_COLOR_TYPE_RGB,
                     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT)
        // As png_image_write does: 8-bit samples are sRGB and say so; 16-bit ones stay untagged
        // (see PNGEncoder for why).
        if bitDepth == 8 { png_set_sRGB(png, info, PNG_sRGB_INTENT_PERCEPTUAL) }
        png_write_info(png, info)
        return (png, info)
    }

    /// Frees libpng's structs (and so zlib's state); safe to call more than once.
    func destroy(_ png: inout png_structp?, _ info: inout png_infop?) {
        guard png != nil else { return }
        png_destroy_write_struct(&png, &info)
        png = nil
        info = nil
    }

    static func from(_ pointer: UnsafeMutableRawPointer?) -> PNGWriteContext? {
        pointer.map { Unmanaged<PNGWriteContext>.fromOpaque($0).takeUnretainedValue() }
    }
}

private func pngWrite(_ png: png_structp?, _ data: png_bytep?, _ length: Int) {
    guard let context = PNGWriteContext.from(png_get_io_ptr(png)), context.ioError == nil, let data else { return }
    do {
        try context.file.write(UnsafeRawBufferPointer(start: data, count: length))
    } catch {
        context.ioError = error
    }
}

/// Writes go straight to the file descriptor; there is nothing to flush. `finish()` fsyncs.
private func pngFlush(_ png: png_structp?) {}

private func pngWarning(_ png: png_structp?, _ message: png_const_charp?) {
    guard let context = PNGWriteContext.from(png_get_error_ptr(png)) else { return }
    context.lastWarning = message.map { "libpng: " + String(cString: $0) }
}

/// libpng aborts the process when this returns (see `PNGRowWriter`): say why first.
private func pngError(_ png: png_structp?, _ message: png_const_charp?) {
    let text = message.map { String(cString: $0) } ?? "unknown error"
    let what = PNGWriteContext.from(png_get_error_ptr(png))?.file.what ?? "a PNG"
    let line = "stylefarm: libpng failed while writing \(what): \(text). Inputs are checked before they reach "
        + "libpng, so this is out of memory or a bug; the process stops here.\n"
    line.utf8CString.withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count - 1) }
}

/// Each block carries its size in a 16-byte header (keeping malloc's 16-byte alignment), so
/// that `pngFree` can count what is released.
private let sizeHeader = 16

private func pngMalloc(_ png: png_structp?, _ size: png_alloc_size_t) -> png_voidp? {
    let (total, overflow) = Int(size).addingReportingOverflow(sizeHeader)
    guard !overflow, let block = malloc(total) else { return nil }
    block.storeBytes(of: Int(size), as: Int.self)
    if let context = PNGWriteContext.from(png_get_mem_ptr(png)) {
        context.heapBytes += Int(size)
        context.peakHeapBytes = max(context.peakHeapBytes, context.heapBytes)
    }
    return block + sizeHeader
}

private func pngFree(_ png: png_structp?, _ memory: png_voidp?) {
    guard let memory else { return }
    let block = memory - sizeHeader
    if let context = PNGWriteContext.from(png_get_mem_ptr(png)) {
        context.heapBytes -= block.load(as: Int.self)
    }
    free(block)
}
