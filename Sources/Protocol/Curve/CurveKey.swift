public import Foundation
internal import CSFZeroMQ

/// A CURVE public key: 32 bytes, written as 40 Z85 characters.
public struct CurveKey: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The 40-character Z85 form, as in key files and logs.
    public let z85: String
    /// The 32 raw bytes, as ZAP credentials carry them.
    public let bytes: Data

    /// Returns nil unless `z85` is 40 valid Z85 characters.
    public init?(z85: String) {
        guard let bytes = CurveKey.decodeZ85(z85) else { return nil }
        self.z85 = z85
        self.bytes = bytes
    }

    /// Returns nil unless `bytes` is 32 bytes long.
    public init?(bytes: Data) {
        guard let z85 = CurveKey.encodeZ85(bytes) else { return nil }
        self.z85 = z85
        self.bytes = bytes
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        guard let key = CurveKey(z85: string) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a CURVE key (40 Z85 characters)")
        }
        self = key
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(z85)
    }

    public var description: String { z85 }

    static func decodeZ85(_ z85: String) -> Data? {
        guard z85.utf8.count == 40 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        let ok = bytes.withUnsafeMutableBufferPointer { buffer in
            zmq_z85_decode(buffer.baseAddress, z85) != nil
        }
        return ok ? Data(bytes) : nil
    }

    static func encodeZ85(_ bytes: Data) -> String? {
        guard bytes.count == 32 else { return nil }
        var text = [CChar](repeating: 0, count: 41)
        let ok = bytes.withUnsafeBytes { raw in
            text.withUnsafeMutableBufferPointer { buffer in
                zmq_z85_encode(buffer.baseAddress, raw.bindMemory(to: UInt8.self).baseAddress, 32) != nil
            }
        }
        guard ok else { return nil }
        return String(decoding: text.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A CURVE secret key. Its description is redacted so that it never reaches a log.
public struct CurveSecretKey: Sendable, Hashable, CustomStringConvertible {
    public let z85: String
    public let bytes: Data

    public init?(z85: String) {
        guard let bytes = CurveKey.decodeZ85(z85) else { return nil }
        self.z85 = z85
        self.bytes = bytes
    }

    public var description: String { "CurveSecretKey(redacted)" }

    /// The public key that goes with this secret key (`zmq_curve_public`).
    public func publicKey() throws(ZMQError) -> CurveKey {
        var text = [CChar](repeating: 0, count: 41)
        let secret = self.z85
        let result = text.withUnsafeMutableBufferPointer { buffer in
            zmq_curve_public(buffer.baseAddress, secret)
        }
        let derived = String(decoding: text.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard result == 0, let key = CurveKey(z85: derived) else {
            throw ZMQError(code: .other, errno: zmq_errno(), operation: "zmq_curve_public", message: "could not derive the public key (is libzmq built with CURVE?)")
        }
        return key
    }
}

/// A CURVE key pair.
public struct CurveKeyPair: Sendable, Hashable {
    public let publicKey: CurveKey
    public let secretKey: CurveSecretKey

    public init(publicKey: CurveKey, secretKey: CurveSecretKey) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// The pair of a secret key, its public half derived.
    public init(secretKey: CurveSecretKey) throws(ZMQError) {
        self.init(publicKey: try secretKey.publicKey(), secretKey: secretKey)
    }

    /// A fresh random key pair (`zmq_curve_keypair`).
    public static func generate() throws(ZMQError) -> CurveKeyPair {
        guard ZMQContext.has("curve") else {
            throw ZMQError(code: .other, errno: ENOTSUP, operation: "zmq_curve_keypair", message: "this libzmq was built without CURVE; install a libzmq with libsodium support")
        }
        var publicText = [CChar](repeating: 0, count: 41)
        var secretText = [CChar](repeating: 0, count: 41)
        let result = publicText.withUnsafeMutableBufferPointer { p in
            secretText.withUnsafeMutableBufferPointer { s in zmq_curve_keypair(p.baseAddress, s.baseAddress) }
        }
        guard result == 0 else {
            throw ZMQError(errno: zmq_errno(), operation: "zmq_curve_keypair")
        }
        let publicZ85 = String(decoding: publicText.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let secretZ85 = String(decoding: secretText.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let publicKey = CurveKey(z85: publicZ85), let secretKey = CurveSecretKey(z85: secretZ85) else {
            throw ZMQError(code: .other, errno: 0, operation: "zmq_curve_keypair", message: "libzmq returned keys that are not Z85")
        }
        return CurveKeyPair(publicKey: publicKey, secretKey: secretKey)
    }
}
