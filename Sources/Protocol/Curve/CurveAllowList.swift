public import Foundation

/// The public keys allowed to connect to a CURVE server, with a name for each (for logs).
///
/// Loaded from a directory of public key files (`NAME.key`, as written by ``CurveKeyFile``):
/// `stylefarm keys authorize` copies a worker's public key file there, and the coordinator
/// reloads the list (``ZAPHandler/update(_:)``) without restarting.
public struct CurveAllowList: Sendable, Hashable {
    /// Key → name (the file name without extension).
    public private(set) var names: [CurveKey: String]

    public init(_ names: [CurveKey: String] = [:]) {
        self.names = names
    }

    public func contains(_ key: CurveKey) -> Bool { names[key] != nil }
    public var count: Int { names.count }

    public mutating func insert(_ key: CurveKey, name: String) {
        names[key] = name
    }

    /// Loads every `*.key` file of `directory`. A malformed file is an error rather than
    /// silently skipped: an operator who authorised a worker should learn why it is refused.
    public static func load(directory: URL) throws(CurveKeyFileError) -> CurveAllowList {
        let entries: [URL]
        do {
            entries = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        } catch {
            let missing = !FileManager.default.fileExists(atPath: directory.path)
            throw CurveKeyFileError(code: missing ? .notFound : .unreadable, path: directory.path,
                                    message: missing ? "no such allow-list directory; create it and add worker public keys with 'stylefarm keys authorize'" : "cannot list the allow-list directory: \(error)")
        }
        var list = CurveAllowList()
        for url in entries.sorted(by: { $0.lastPathComponent < $1.lastPathComponent })
        where url.pathExtension == CurveKeyFile.publicExtension {
            list.insert(try CurveKeyFile.readPublicKey(at: url), name: url.deletingPathExtension().lastPathComponent)
        }
        // Keys with a role live in a folder per role; their names carry it ("worker:node1"),
        // and so does the `User-Id` of every message their holders send.
        for role in CurveKeyRole.allCases {
            let folder = directory.appendingPathComponent(role.folder)
            guard let keys = try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil) else { continue }
            for url in keys.sorted(by: { $0.lastPathComponent < $1.lastPathComponent }) where url.pathExtension == CurveKeyFile.publicExtension {
                list.insert(try CurveKeyFile.readPublicKey(at: url), name: role.rawValue + ":" + url.deletingPathExtension().lastPathComponent)
            }
        }
        return list
    }
}

/// What an authorised key may do: a worker's key cannot submit or cancel jobs, a client's key
/// cannot act as a worker. Keys authorised without a role (before roles existed) may do both.
public enum CurveKeyRole: String, Sendable, CaseIterable {
    case worker, client

    /// The allow-list subfolder of keys with this role.
    public var folder: String { rawValue + "s" }

    /// The role a message's `User-Id` names; nil for a key without a role (or no keys at all).
    public init?(userID: String?) {
        guard let userID, let colon = userID.firstIndex(of: ":") else { return nil }
        self.init(rawValue: String(userID[..<colon]))
    }
}
