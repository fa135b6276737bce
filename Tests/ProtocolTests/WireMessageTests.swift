import Foundation
import Protocol
import Testing

@Suite("Wire format")
struct WireMessageTests {
    @Test("every kind has a sample")
    func everyKindIsCovered() {
        #expect(Set(Samples.all.map(\.kind)) == Set(MessageKind.allCases))
    }

    @Test("every message survives encode and decode unchanged", arguments: Samples.all)
    func roundTrip(message: Message) throws {
        let frames = try message.frames()
        #expect(frames[0] == Data("SFARM".utf8) + Data([0, 1]))
        #expect(frames[1] == Data(message.kind.rawValue.utf8))
        let decoded = try Message(decoding: Multipart(frames: frames))
        #expect(decoded == message)
    }

    @Test("binary payloads travel as frames after the header, not inside it")
    func payloadsAreFrames() throws {
        let frames = try Samples.all[3].frames() // result
        #expect(frames.count == 4)
        #expect(frames[3] == Samples.png)
        let header = String(decoding: frames[2], as: UTF8.self)
        #expect(!header.contains("image"))
    }

    @Test("non-finite losses travel as strings and come back")
    func nonFiniteLosses() throws {
        let line = LossLine(iteration: 1, total: .nan, content: .infinity, styles: [-.infinity], tv: 0, elapsed: 0)
        let message = Message.progress(TaskProgress(taskID: "t", attemptID: 1, lines: [line]))
        guard case .progress(let back) = try Message(decoding: Multipart(frames: message.frames())) else {
            Issue.record("wrong kind")
            return
        }
        #expect(back.lines[0].total.isNaN)
        #expect(back.lines[0].content == .infinity)
        #expect(back.lines[0].styles == [-.infinity])
    }

    @Test("a sender cannot encode a message the receiver would refuse")
    func encodeValidates() {
        #expect(throws: ProtocolError.self) { try Message.ready(Ready(credit: -1)).frames() }
        #expect(throws: ProtocolError.self) { try Message.progress(TaskProgress(taskID: "t", attemptID: 1, lines: [])).frames() }
    }

    @Test("JSONValue carries a Codable value of the receiver's choosing")
    func jsonValueCarriesCodable() throws {
        struct Settings: Codable, Equatable { var iterations: Int; var gamma: Double; var name: String? }
        let settings = Settings(iterations: 300, gamma: 0.5, name: nil)
        let value = try JSONValue(encoding: settings)
        #expect(try value.decode(Settings.self) == settings)
        #expect(try JSONValue(jsonData: value.jsonData()) == value)
    }

    @Test("a blob chunk must name a sane range", arguments: [
        BlobRequest(sha256: Samples.digestA, offset: -1, length: 10),
        BlobRequest(sha256: Samples.digestA, offset: 0, length: 0),
        BlobRequest(sha256: Samples.digestA, offset: 0, length: BlobRequest.maximumChunk + 1),
        BlobRequest(sha256: Samples.digestA, offset: 5, length: nil),
    ])
    func blobChunkRanges(request: BlobRequest) throws {
        let frames = try Message.blobRequest(BlobRequest(sha256: Samples.digestA, offset: 0, length: 1)).frames()
        #expect(throws: Never.self) { try Message(decoding: Multipart(frames: frames)) }
        #expect(throws: ProtocolError.self) { try request.validate() }
    }
}
