import Testing
import Engine

extension FarmHarness {
    /// Expects two finished jobs' output images to agree within `tolerance` (samples 0…255):
    /// a resumed job against an uninterrupted one.
    func expectOutputsAgree(_ job: String, _ reference: String, within tolerance: Float = 2,
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        let resumed = try ImageFile.read(path: data + "/jobs/\(job)/output.png")
        let whole = try ImageFile.read(path: data + "/jobs/\(reference)/output.png")
        #expect(resumed.width == whole.width && resumed.height == whole.height, sourceLocation: sourceLocation)
        let difference = zip(resumed.pixels, whole.pixels).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference <= tolerance, "resumed output differs from an uninterrupted run by \(difference)/255 (samples are 0…255)",
                sourceLocation: sourceLocation)
    }
}
