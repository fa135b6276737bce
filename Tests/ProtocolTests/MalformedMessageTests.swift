import Foundation
import Protocol
import Testing

@Suite("Malformed messages")
struct MalformedMessageTests {
    /// Decodes and returns the error code, or nil if the frames decoded.
    func code(_ frames: [Data], limits: WireLimits = .default) -> ProtocolError.Code? {
        code(Multipart(frames: frames), limits: limits)
    }

    func code(_ multipart: Multipart, limits: WireLimits = .default) -> ProtocolError.Code? {
        do {
            _ = try Message(decoding: multipart, limits: limits)
            return nil
        } catch {
            #expect(!error.message.isEmpty)
            return error.code
        }
    }

    static let readyHeader = #"{"credit":1}"#

    @Test("an empty message is truncated")
    func empty() { #expect(code([]) == .truncated) }

    @Test("a message with tag and kind but no header is truncated")
    func noHeader() {
        #expect(code(Array(frames(kind: "ready", header: Self.readyHeader).prefix(2))) == .truncated)
    }

    @Test("a foreign first frame is the wrong tag", arguments: [Data(), Data("HTTP/1.1".utf8), Data("SFAR".utf8), Data("SFARM".utf8), Data("SFARM\0\u{1}\0".utf8)])
    func wrongTag(tag: Data) {
        var message = frames(kind: "ready", header: Self.readyHeader)
        message[0] = tag
        #expect(code(message) == .wrongTag)
    }

    @Test("another protocol version is unsupported", arguments: [UInt16(0), 2, 0x0100, .max])
    func wrongVersion(version: UInt16) {
        #expect(code(frames(kind: "ready", header: Self.readyHeader, version: version)) == .unsupportedVersion)
    }

    @Test("an unknown kind is refused", arguments: ["", "Ready", "launchMissiles", String(repeating: "x", count: 100), "r\u{e9}ady"])
    func unknownKind(kind: String) {
        #expect(code(frames(kind: kind, header: Self.readyHeader)) == .unknownKind)
    }

    @Test("a header that is not the kind's JSON is malformed", arguments: [
        "", "{", "null", "[]", #"{"credit":"two"}"#, #"{"credit":1.5}"#, "{}", #"{"credit":1,"bonus":true}"#,
        #"{"credit":1}x"#, "\u{0}\u{ff}",
    ])
    func brokenHeader(header: String) {
        #expect(code(frames(kind: "ready", header: header)) == .malformedHeader)
    }

    @Test("a missing field is named in the error")
    func missingField() throws {
        let error = #expect(throws: ProtocolError.self) {
            try Message(decoding: Multipart(frames: frames(kind: "failure", header: #"{"taskID":"t","attemptID":1,"reason":"x"}"#)))
        }
        #expect(error?.code == .malformedHeader)
        #expect(error?.message.contains("retryable") == true)
        #expect(error?.kind == "failure")
    }

    @Test("unknown keys are refused at any depth")
    func nestedUnknownKey() {
        let header = #"{"taskID":"t","attemptID":1,"lines":[{"iteration":1,"total":1,"content":1,"styles":[],"tv":0,"elapsed":0,"gpu":1}]}"#
        #expect(code(frames(kind: "progress", header: header)) == .malformedHeader)
    }

    // Found by the libFuzzer harness (Fuzz/): JSONDecoder kept the first of two values and the
    // unknown-key check the last, so {"credit":1,"credit":5000} read as credit 1.
    @Test("a key given twice is refused, however it is spelled", arguments: [
        ("ready", #"{"credit":1,"credit":5000}"#),
        ("ready", #"{"credit":1,"\u0063redit":2}"#),
        ("progress", #"{"taskID":"t","attemptID":1,"lines":[{"iteration":1,"iteration":2,"total":1,"content":1,"styles":[],"tv":0,"elapsed":0}]}"#),
    ])
    func duplicateKeys(kind: String, header: String) {
        #expect(code(frames(kind: kind, header: header)) == .malformedHeader)
    }

    @Test("a header nested hundreds deep is refused before it is decoded")
    func deepNesting() {
        let deep = #"{"credit":1,"x":"# + String(repeating: "[", count: 500) + String(repeating: "]", count: 500) + "}"
        let error = #expect(throws: ProtocolError.self) { try Message(decoding: Multipart(frames: frames(kind: "ready", header: deep))) }
        #expect(error?.message.contains("nests deeper") == true)
        let quoted = #"{"credit":1}"#   // brackets inside strings do not count
        #expect(code(frames(kind: "ready", header: quoted)) == nil)
        let inString = #"{"workerName":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[","threads":1,"capabilities":[],"weightsSHA256":""# + String(repeating: "0", count: 64) + #"","engineVersion":"x","zmqVersion":"4","protocolVersion":1}"#
        #expect(code(frames(kind: "hello", header: inString)) == nil)
    }

    @Test("the same key in two objects is not a duplicate")
    func sameKeyInTwoObjects() {
        let header = #"{"taskID":"t","attemptID":1,"lines":[{"iteration":1,"total":1,"content":1,"styles":[],"tv":0,"elapsed":0},{"iteration":2,"total":1,"content":1,"styles":[],"tv":0,"elapsed":0}]}"#
        #expect(code(frames(kind: "progress", header: header)) == nil)
    }

    @Test("an explicit null for an optional field is accepted")
    func nullOptional() {
        #expect(code(frames(kind: "status", header: #"{"jobID":null}"#)) == nil)
    }

    @Test("a digest that is not 64 hex digits is malformed", arguments: ["abc", String(repeating: "g", count: 64), ""])
    func badDigest(hex: String) {
        #expect(code(frames(kind: "blobRequest", header: #"{"sha256":"\#(hex)"}"#)) == .malformedHeader)
    }

    @Test("values the type allows but the protocol does not are malformed")
    func invalidValues() {
        #expect(code(frames(kind: "ready", header: #"{"credit":-3}"#)) == .malformedHeader)
        #expect(code(frames(kind: "progress", header: #"{"taskID":"t","attemptID":1,"lines":[]}"#)) == .malformedHeader)
    }

    @Test("a kind gets exactly the binary frames it carries")
    func payloadCounts() {
        #expect(code(frames(kind: "ready", header: Self.readyHeader, payloads: [Data([1])])) == .wrongPayloadCount)
        let result = #"{"taskID":"t","attemptID":1,"finalLosses":{"iteration":1,"total":1,"content":1,"styles":[],"tv":0,"elapsed":0},"summary":{}}"#
        #expect(code(frames(kind: "result", header: result)) == .wrongPayloadCount)
        #expect(code(frames(kind: "result", header: result, payloads: [Data(), Data()])) == .wrongPayloadCount)
        let digest = String(repeating: "ab", count: 32)
        #expect(code(frames(kind: "blob", header: #"{"sha256":"\#(digest)","found":false}"#, payloads: [Data([1])])) == .wrongPayloadCount)
        #expect(code(frames(kind: "submit", header: #"{"spec":{},"priority":0,"blobs":["\#(digest)"]}"#)) == .wrongPayloadCount)
    }

    @Test("an oversize header is too large")
    func oversizeHeader() {
        let padding = String(repeating: " ", count: 64 * 1024)
        #expect(code(frames(kind: "ready", header: #"{"credit":1}"# + padding)) == .tooLarge)
    }

    @Test("an oversize binary frame is too large")
    func oversizeFrame() {
        let limits = WireLimits(maxFrameBytes: 1000, maxMessageBytes: 10_000)
        let message = frames(kind: "blob", header: #"{"sha256":"\#(String(repeating: "ab", count: 32))","found":true}"#, payloads: [Data(count: 1001)])
        #expect(code(message, limits: limits) == .tooLarge)
    }

    @Test("an oversize message is too large even when each frame fits")
    func oversizeMessage() {
        let limits = WireLimits(maxFrameBytes: 1000, maxMessageBytes: 1500)
        let message = frames(kind: "submit", header: #"{"spec":{},"priority":0,"blobs":[]}"#, payloads: [Data(count: 900), Data(count: 900)])
        #expect(code(message, limits: limits) == .tooLarge)
    }

    @Test("too many frames are refused before anything is parsed")
    func tooManyFrames() {
        let message = frames(kind: "submit", header: "not even json", payloads: Array(repeating: Data([1]), count: 14))
        #expect(message.count == 17)
        #expect(code(message) == .tooManyFrames)
        #expect(code(Multipart(frames: [], discardedFrames: 40, byteCount: 40)) == .tooManyFrames)
    }

    @Test("an error reply carries the code and message of the refusal")
    func errorReply() throws {
        let error = #expect(throws: ProtocolError.self) {
            try Message(decoding: Multipart(frames: frames(kind: "nope", header: "{}")))
        }
        let reply = try #require(error.map(ErrorReply.init))
        #expect(reply.code == "unknownKind")
        #expect(reply.inReplyTo == "nope")
    }

    /// Random frames and random corruptions of valid messages: every outcome is a message or a
    /// ProtocolError; the test passing at all shows that nothing trapped.
    @Test("random and corrupted bytes never crash the decoder")
    func fuzz() throws {
        var generator = SplitMix64(seed: 0x5EED)
        var decodedCount = 0
        for round in 0..<3000 {
            var message: [Data]
            if round % 2 == 0 {
                let count = Int.random(in: 0...5, using: &generator)
                message = (0..<count).map { _ in Data((0..<Int.random(in: 0...24, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
            } else {
                message = try Samples.all[round / 2 % Samples.all.count].frames()
                let frame = Int.random(in: 0..<message.count, using: &generator)
                if !message[frame].isEmpty {
                    let index = Int.random(in: 0..<message[frame].count, using: &generator)
                    message[frame][message[frame].startIndex + index] ^= UInt8.random(in: 1...255, using: &generator)
                }
            }
            if code(message) == nil { decodedCount += 1 }
        }
        // Some corruptions leave a valid message (a flipped byte inside a string); most do not.
        #expect(decodedCount < 3000)
    }
}

/// A small seeded generator so the fuzz test is reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
