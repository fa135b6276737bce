/// Where finished image rows go, top to bottom: a PNG file written as it goes
/// (`PNGRowWriter`), an array in a test, a stream to a client.
public protocol ImageRowSink {
    /// Takes the next row: `width × 3` interleaved RGB samples on the 0…255 scale (a sink that
    /// quantises rounds and clamps them; NaN becomes 0). Rows come in order, each once. The
    /// buffer is only valid during the call.
    mutating func write(row: UnsafeBufferPointer<Float>) throws(EngineError)
}
