import Engine
public import Foundation
public import Protocol
import Farm

/// The weights file a coordinator gives its workers and checks them against: every worker
/// renders with these bytes (a worker with other weights is refused), and a node without any
/// fetches them in chunks (`blobRequest` with an offset), so that nodes need no internet.
public struct ServedWeights: Sendable {
    public let path: String
    public let offer: WeightsOffer

    /// Hashes the file once (about 80 MB: a fraction of a second).
    public init(path: String) throws {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        guard let size = (attributes[.size] as? NSNumber)?.int64Value, size > 0 else {
            throw EngineError(.weightsMissing, "\(path) is empty")
        }
        guard let digest = SHA256Digest(hex: try StreamingSHA256.hex(ofFileAt: path)) else {
            throw EngineError(.weightsCorrupt, "could not hash \(path)")
        }
        self.path = path
        self.offer = WeightsOffer(sha256: digest, bytes: size)
    }

    /// `length` bytes from `offset` (fewer at the end); nil past the end.
    public func chunk(offset: Int64, length: Int) throws -> Data? {
        guard offset >= 0, offset < offer.bytes, length > 0 else { return nil }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw EngineError(.io, "cannot open \(path)") }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        return try handle.read(upToCount: Int(min(Int64(length), offer.bytes - offset))) ?? Data()
    }

    /// Why a worker announcing `hello` may not join, or nil. Workers of another engine version,
    /// or with weights other than these, would render other pixels for the same request.
    public static func refusal(of hello: Hello, served: ServedWeights?) -> String? {
        guard hello.engineVersion == StyleFarmBuild.engineVersion else {
            return "engine \(hello.engineVersion.prefix(64)) differs from the coordinator's \(StyleFarmBuild.engineVersion): install the same stylefarm package on every node"
        }
        switch (hello.weightsSHA256, served) {
        case (nil, nil):
            return "this worker has no weights and the coordinator has none to give: run `stylefarm weights fetch` on the head (or give the node its own)"
        case (let theirs?, let served?) where theirs != served.offer.sha256:
            return "this worker's weights (sha256 \(theirs.hex)) differ from the coordinator's (\(served.offer.sha256.hex)): remove the node's weights file and it fetches the coordinator's"
        default:
            return nil
        }
    }
}
