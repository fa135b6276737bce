public import Foundation

/// A message header: the Codable struct behind one ``MessageKind``.
///
/// Conformers describe the binary frames they carry through ``payloads`` and
/// ``attach(payloads:)`` (by default: none) and may check their values in ``validate()``.
public protocol WireBody: Codable, Sendable, Equatable {
    static var kind: MessageKind { get }
    /// The binary frames that travel after the header.
    var payloads: [Data] { get }
    /// Takes the binary frames of a received message; throws if the count is wrong for the kind.
    mutating func attach(payloads: [Data]) throws(ProtocolError)
    /// Checks values the type system cannot (non-empty names, consistent counts).
    func validate() throws(ProtocolError)
}

extension WireBody {
    public var payloads: [Data] { [] }

    public mutating func attach(payloads: [Data]) throws(ProtocolError) {
        guard payloads.isEmpty else {
            throw ProtocolError(.wrongPayloadCount, "'\(Self.kind.rawValue)' carries no binary frames; got \(payloads.count)", kind: Self.kind.rawValue)
        }
    }

    public func validate() throws(ProtocolError) {}

    /// Throws ``ProtocolError/Code/malformedHeader`` with `message` unless `condition` holds.
    func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(ProtocolError) {
        if !condition {
            throw ProtocolError(.malformedHeader, message(), kind: Self.kind.rawValue)
        }
    }
}

/// The JSON coding used for every header: sorted keys (stable bytes for tests and logs),
/// non-finite numbers as strings (a diverging render reports `"nan"` rather than failing to send).
enum HeaderCoding {
    static let infinity = "inf", negativeInfinity = "-inf", nan = "nan"

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: infinity, negativeInfinity: negativeInfinity, nan: nan)
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: infinity, negativeInfinity: negativeInfinity, nan: nan)
        return decoder
    }

    static func encode<Body: WireBody>(_ body: Body) throws(ProtocolError) -> Data {
        do {
            return try encoder().encode(body)
        } catch {
            throw ProtocolError(.unencodable, "could not encode a '\(Body.kind.rawValue)' header", kind: Body.kind.rawValue, underlying: error)
        }
    }

    /// Decodes `header` into `Body` and refuses keys `Body` does not know.
    ///
    /// JSONDecoder ignores unknown keys, so the decoded value is encoded again and every
    /// non-null key of the input, at any depth, must reappear: a key that does not is one the
    /// struct never read (a typo such as `"atempt"`, or a field from a newer version).
    /// Objects and arrays within each other, at most: a job spec needs about eight.
    static let maximumNesting = 32

    static func decodeStrictly<Body: WireBody>(_ type: Body.Type, from header: Data) throws(ProtocolError) -> Body {
        let kind = Body.kind.rawValue
        guard !DuplicateKeys.nestDeeper(than: maximumNesting, in: header) else {
            throw ProtocolError(.malformedHeader, "the '\(kind)' header nests deeper than \(maximumNesting) levels", kind: kind)
        }
        let body: Body
        do {
            body = try decoder().decode(Body.self, from: header)
        } catch let error as DecodingError {
            throw ProtocolError(.malformedHeader, "the '\(kind)' header does not decode: \(describe(error))", kind: kind, underlying: error)
        } catch {
            throw ProtocolError(.malformedHeader, "the '\(kind)' header does not decode", kind: kind, underlying: error)
        }
        let unknown: [String]
        do {
            let input = try JSONSerialization.jsonObject(with: header, options: [.fragmentsAllowed])
            let again = try JSONSerialization.jsonObject(with: encoder().encode(body), options: [.fragmentsAllowed])
            unknown = unknownKeys(input: input, known: again, path: "")
        } catch {
            throw ProtocolError(.malformedHeader, "the '\(kind)' header could not be checked for unknown keys", kind: kind, underlying: error)
        }
        if !unknown.isEmpty {
            throw ProtocolError(.malformedHeader, "the '\(kind)' header has unknown keys: \(unknown.joined(separator: ", ")); is the peer a newer version?", kind: kind)
        }
        if let repeated = DuplicateKeys.first(in: header) {
            throw ProtocolError(.malformedHeader, "the '\(kind)' header gives '\(repeated.prefix(100))' twice; give each key once", kind: kind)
        }
        return body
    }

    static func unknownKeys(input: Any, known: Any, path: String) -> [String] {
        if let input = input as? [String: Any] {
            let known = known as? [String: Any] ?? [:]
            var result: [String] = []
            for key in input.keys.sorted() {
                let value = input[key] ?? NSNull()
                let keyPath = path.isEmpty ? key : "\(path).\(key)"
                if let knownValue = known[key] {
                    result += unknownKeys(input: value, known: knownValue, path: keyPath)
                } else if !(value is NSNull) {
                    result.append(keyPath)
                }
            }
            return result
        }
        if let input = input as? [Any], let known = known as? [Any] {
            var result: [String] = []
            for (index, value) in input.enumerated() where index < known.count {
                result += unknownKeys(input: value, known: known[index], path: "\(path)[\(index)]")
            }
            return result
        }
        return []
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "" : " at '\(keys.joined(separator: "."))'"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field '\(key.stringValue)'\(path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(context.debugDescription)\(path(context))"
        case .dataCorrupted(let context):
            return "\(context.debugDescription)\(path(context))"
        @unknown default:
            return "\(error)"
        }
    }
}
