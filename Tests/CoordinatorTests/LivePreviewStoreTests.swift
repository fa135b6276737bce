import Foundation
import Testing
import Protocol
@testable import Coordinator

/// The coordinator's in-memory previews: one per running attempt, gone when it ends.
struct LivePreviewStoreTests {
    /// A PNG header declaring `side`×`side`, padded to `bytes` bytes (only the header is read).
    static func preview(side: UInt32 = 64, bytes: Int = 64) throws -> PreviewImage {
        var header: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
        for value in [side, side] { header += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
        header += [UInt8](repeating: 0, count: max(0, bytes - header.count))
        return try PreviewImage(validating: Data(header))
    }

    @Test func aPreviewIsKeptOnlyForARunningAttemptAndReplacedByTheNext() throws {
        let store = LivePreviewStore()
        #expect(!store.update(1, preview: try Self.preview(), iteration: 0, iterations: 10), "not assigned: dropped")
        store.assigned(1, job: "j", key: "point-000")
        store.assigned(2, job: "j", key: "point-001")
        store.assigned(3, job: "k", key: "point-000")
        #expect(store.update(1, preview: try Self.preview(side: 32), iteration: 0, iterations: 10))
        #expect(store.update(1, preview: try Self.preview(side: 48), iteration: 4, iterations: 10))
        #expect(store.update(3, preview: try Self.preview(), iteration: 1, iterations: nil))
        let latest = try #require(store.preview(job: "j", key: "point-000"))
        #expect(latest.iteration == 4 && latest.width == 48 && latest.mimeType == "image/png" && latest.attemptID == 1)
        #expect(store.previews(job: "j").map(\.key) == ["point-000"], "point-001 has sent none yet")
        #expect(store.preview(job: "j", key: "point-001") == nil)
        #expect(store.counts() == LivePreviewCounts(received: 3, dropped: 1, held: 2, heldBytes: 128))

        store.ended([1])
        #expect(store.preview(job: "j", key: "point-000") == nil)
        #expect(!store.update(1, preview: try Self.preview(), iteration: 5, iterations: 10), "an ended attempt takes no more")
        store.retain(only: [2])
        #expect(store.previews(job: "k").isEmpty, "pruned against the sessions' attempts")
        #expect(store.counts().held == 0 && store.counts().heldBytes == 0)
        store.noteDropped()
        #expect(store.counts().dropped == 3)
    }

    @Test func theStoreHoldsNoMoreThanItsByteBound() throws {
        let store = LivePreviewStore(maxBytes: 1000)
        for attempt in Int64(1)...3 { store.assigned(attempt, job: "j", key: "tile-\(attempt)") }
        #expect(store.update(1, preview: try Self.preview(bytes: 600), iteration: 0, iterations: nil))
        #expect(!store.update(2, preview: try Self.preview(bytes: 600), iteration: 0, iterations: nil))
        #expect(store.update(1, preview: try Self.preview(bytes: 900), iteration: 1, iterations: nil), "a replacement counts its own old bytes out")
        #expect(store.counts().heldBytes == 900)
    }

    @Test func readersOnOtherThreadsSeeWholePreviews() async throws {
        let store = LivePreviewStore()
        store.assigned(1, job: "j", key: "point-000")
        let previews = try (1...8).map { try Self.preview(side: UInt32(8 * $0), bytes: 64 * $0) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for i in 0..<2000 { store.update(1, preview: previews[i % 8], iteration: i, iterations: nil) }
            }
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<2000 {
                        if let seen = store.preview(job: "j", key: "point-000") {
                            #expect(seen.bytes.count == 8 * seen.width, "bytes and header of one preview, never mixed")
                        }
                    }
                }
            }
        }
    }
}
