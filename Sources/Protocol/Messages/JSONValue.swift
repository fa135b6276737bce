public import Foundation

/// Any JSON value, carried opaquely inside a header.
///
/// Render settings, job specs, result summaries and status documents travel as `JSONValue` so
/// that Protocol need not know the engine's types: the sender builds one from its own Codable
/// value (``init(encoding:)``), the receiver decodes it back (``decode(_:)``). It stays readable
/// in logs, unlike base64 of a JSON blob. Numbers are integers when they have no fraction
/// and fit `Int64`, doubles otherwise.
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The JSON form of any Encodable value (for instance the engine's render settings).
    public init(encoding value: some Encodable) throws(ProtocolError) {
        do {
            let data = try HeaderCoding.encoder().encode(value)
            self = try HeaderCoding.decoder().decode(JSONValue.self, from: data)
        } catch {
            throw ProtocolError(.unencodable, "could not represent \(type(of: value)) as JSON", underlying: error)
        }
    }

    /// Parses JSON bytes.
    public init(jsonData: Data) throws(ProtocolError) {
        do {
            self = try HeaderCoding.decoder().decode(JSONValue.self, from: jsonData)
        } catch {
            throw ProtocolError(.malformedHeader, "not valid JSON (\(jsonData.count) bytes)", underlying: error)
        }
    }

    /// The JSON bytes, keys sorted.
    public func jsonData() throws(ProtocolError) -> Data {
        do {
            return try HeaderCoding.encoder().encode(self)
        } catch {
            throw ProtocolError(.unencodable, "could not encode a JSON value", underlying: error)
        }
    }

    /// Decodes the value strictly: a key the type does not know (a misspelt `gama`, a field of a
    /// newer version) is refused by name rather than ignored.
    public func decodeStrictly<T: Codable>(_ type: T.Type) throws(ProtocolError) -> T {
        let value = try decode(T.self)
        let unknown: [String]
        do {
            let input = try JSONSerialization.jsonObject(with: try jsonData(), options: [.fragmentsAllowed])
            let again = try JSONSerialization.jsonObject(with: HeaderCoding.encoder().encode(value), options: [.fragmentsAllowed])
            unknown = HeaderCoding.unknownKeys(input: input, known: again, path: "")
        } catch let error as ProtocolError {
            throw error
        } catch {
            throw ProtocolError(.malformedHeader, "JSON could not be checked for unknown keys", underlying: error)
        }
        guard unknown.isEmpty else {
            throw ProtocolError(.malformedHeader, "unknown keys: \(unknown.prefix(10).joined(separator: ", ")); check their spelling")
        }
        return value
    }

    /// Decodes the value into a Codable type of the receiver's choosing.
    public func decode<T: Decodable>(_ type: T.Type) throws(ProtocolError) -> T {
        do {
            return try HeaderCoding.decoder().decode(T.self, from: jsonData())
        } catch let error as ProtocolError {
            throw error
        } catch {
            throw ProtocolError(.malformedHeader, "JSON does not decode as \(T.self)", underlying: error)
        }
    }
}
