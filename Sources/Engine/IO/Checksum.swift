internal import Crypto
internal import Foundation

/// SHA-256 over bytes in memory, as raw bytes or lowercase hex.
public enum Checksum {
    static func sha256(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }

    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        sha256(bytes[...]).hexString
    }
}
