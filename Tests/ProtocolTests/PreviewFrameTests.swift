import Foundation
import Protocol
import Testing

/// `progress` may carry one preview as frame 3, checked from its header alone.
@Suite("Progress previews")
struct PreviewFrameTests {
    /// The first bytes of a PNG declaring `width`×`height` (the checks read nothing more).
    static func pngHeader(width: UInt32, height: UInt32, padding: Int = 32) -> Data {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
        for value in [width, height] { bytes += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
        bytes += [8, 2, 0, 0, 0] + [UInt8](repeating: 0, count: padding)
        return Data(bytes)
    }

    /// SOI, an APP0 segment, then a baseline SOF0 declaring `width`×`height`.
    static func jpegHeader(width: UInt16, height: UInt16) -> Data {
        var bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8) + [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]
        bytes += [0xFF, 0xC0, 0x00, 0x11, 8, UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF), 3]
        bytes += [1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9]
        return Data(bytes)
    }

    static let line = LossLine(iteration: 7, total: 1, content: 0.5, styles: [0.25], tv: 0.1, elapsed: 2)

    /// The frames of a progress whose frame 3 is `payload`, as a peer could send them.
    static func progressFrames(_ payloads: [Data]) throws -> [Data] {
        let header = Data(#"{"attemptID":3,"lines":[{"content":0.5,"elapsed":2,"iteration":7,"styles":[0.25],"total":1,"tv":0.1}],"taskID":"9"}"#.utf8)
        return WireMessage(kind: .progress, header: header, payloads: payloads).frames
    }

    static func decodeError(_ frames: [Data]) -> ProtocolError? {
        do {
            _ = try Message(decoding: Multipart(frames: frames))
            return nil
        } catch {
            return error
        }
    }

    @Test("a progress with a JPEG or PNG preview survives encode and decode", arguments: [
        jpegHeader(width: 256, height: 171), pngHeader(width: 171, height: 256),
    ])
    func roundTrip(bytes: Data) throws {
        let preview = try PreviewImage(validating: bytes)
        let message = Message.progress(TaskProgress(taskID: "9", attemptID: 3, lines: [Self.line], preview: preview, iterations: 40))
        let frames = try message.frames()
        #expect(frames.count == 4 && frames[3] == bytes, "the preview is frame 3, not in the JSON")
        #expect(!String(decoding: frames[2], as: UTF8.self).contains("preview"))
        guard case .progress(let back) = try Message(decoding: Multipart(frames: frames)) else {
            Issue.record("wrong kind")
            return
        }
        #expect(back == TaskProgress(taskID: "9", attemptID: 3, lines: [Self.line], preview: preview, iterations: 40))
        #expect(back.preview?.width == (bytes[0] == 0xFF ? 256 : 171) && back.preview?.height == (bytes[0] == 0xFF ? 171 : 256))
        #expect(back.preview?.format.mimeType == (bytes[0] == 0xFF ? "image/jpeg" : "image/png"))
    }

    @Test("a progress without a preview is byte for byte what older builds send and read")
    func withoutPreviewIsUnchanged() throws {
        let frames = try Message.progress(TaskProgress(taskID: "9", attemptID: 3, lines: [Self.line])).frames()
        #expect(frames == (try Self.progressFrames([])))
    }

    @Test("an oversize preview is refused as too large")
    func oversize() throws {
        var big = Self.jpegHeader(width: 64, height: 64)
        big.append(Data(count: PreviewImage.maximumBytes))
        let error = Self.decodeError(try Self.progressFrames([big]))
        #expect(error?.code == .tooLarge && error?.message.contains("262144") == true, "\(String(describing: error))")
        #expect(throws: ProtocolError.self) { try PreviewImage(validating: big) }
    }

    @Test("a preview that is not a PNG or JPEG is refused", arguments: [
        Data(), Data("GIF89a.........".utf8), Data([0xFF, 0xD8, 0xFF, 0xDA, 0, 2]), Data([0xFF, 0xD8, 0xFF]),
        Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]), pngHeader(width: 0, height: 10),
        jpegHeader(width: 10, height: 0), Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x00]),
    ])
    func notAnImage(bytes: Data) throws {
        let error = Self.decodeError(try Self.progressFrames([bytes]))
        #expect(error?.code == .invalidPayload && error?.message.contains("not a readable PNG or JPEG") == true, "\(String(describing: error))")
    }

    @Test("a preview whose header declares 4096×4096 is refused, saying so", arguments: [
        pngHeader(width: 4096, height: 4096), jpegHeader(width: 4096, height: 4096), pngHeader(width: 513, height: 1),
        pngHeader(width: UInt32.max, height: UInt32.max),
    ])
    func tooManyPixels(bytes: Data) throws {
        let error = Self.decodeError(try Self.progressFrames([bytes]))
        #expect(error?.code == .tooLarge && error?.message.contains("at most 512×512") == true, "\(String(describing: error))")
    }

    @Test("two frames after a progress header are refused")
    func twoPreviews() throws {
        let one = Self.pngHeader(width: 8, height: 8)
        #expect(Self.decodeError(try Self.progressFrames([one, one]))?.code == .wrongPayloadCount)
    }

    @Test("a welcome offers previews only when told to, and a worker reads the offer")
    func welcomeOffer() throws {
        let plain = try Message.welcome(Welcome(workerID: "w", heartbeatIntervalMilliseconds: 500, liveness: 6)).frames()
        #expect(!String(decoding: plain[2], as: UTF8.self).contains("previews"), "an older worker's strict decoder never sees the key")
        let offer = PreviewOffer(maxSide: 256, intervalMilliseconds: 2000)
        let message = Message.welcome(Welcome(workerID: "w", heartbeatIntervalMilliseconds: 500, liveness: 6, previews: offer))
        #expect(try Message(decoding: Multipart(frames: message.frames())) == message)
        let absurd = Message.welcome(Welcome(workerID: "w", heartbeatIntervalMilliseconds: 500, liveness: 6,
                                             previews: PreviewOffer(maxSide: 4096, intervalMilliseconds: 2000)))
        #expect(throws: ProtocolError.self) { try absurd.frames() }
    }
}
