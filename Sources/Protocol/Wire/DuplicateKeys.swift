public import Foundation

/// Finds a key given twice in one JSON object. JSON readers disagree about duplicates
/// (`JSONDecoder` keeps the first value, `JSONSerialization` the last), so a header that
/// repeats a key could mean one thing to the coordinator and another to any other reader:
/// such headers are refused. Runs on text that has already parsed as JSON.
public enum DuplicateKeys {
    /// Whether objects and arrays nest deeper than `limit` (strings skipped). Checked before
    /// decoding: no message of the protocol nests beyond a handful of levels, and Foundation's
    /// decoders take seconds on a header nested hundreds deep.
    static func nestDeeper(than limit: Int, in json: Data) -> Bool {
        var depth = 0
        var inString = false
        var escaped = false
        for byte in json {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                if depth > limit { return true }
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
        }
        return false
    }

    /// The first repeated key, with its path ("credit", "spec.base.size"), or nil.
    public static func first(in json: Data) -> String? {
        enum Frame {
            case object(keys: Set<String>, expectingKey: Bool, path: String, lastKey: String)
            case array(path: String)
        }
        var stack: [Frame] = []
        let bytes = [UInt8](json)
        var i = 0
        func currentPath() -> String {
            switch stack.last {
            case .object(_, _, let path, let key)?: return path.isEmpty ? key : path + "." + key
            case .array(let path)?: return path
            case nil: return ""
            }
        }
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "{"):
                stack.append(.object(keys: [], expectingKey: true, path: currentPath(), lastKey: ""))
            case UInt8(ascii: "["):
                stack.append(.array(path: currentPath()))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = stack.popLast()
            case UInt8(ascii: ","):
                if case .object(let keys, _, let path, let key)? = stack.last {
                    stack[stack.count - 1] = .object(keys: keys, expectingKey: true, path: path, lastKey: key)
                }
            case UInt8(ascii: "\""):
                let start = i
                var escaped = false
                i += 1
                while i < bytes.count {
                    if bytes[i] == UInt8(ascii: "\\") { escaped = true; i += 2; continue }
                    if bytes[i] == UInt8(ascii: "\"") { break }
                    i += 1
                }
                guard case .object(var keys, true, let path, _)? = stack.last else { break }
                let raw = Data(bytes[start...min(i, bytes.count - 1)])
                // Escapes spell the same key differently ("a" and "\u0061"): compare decoded.
                let key = escaped ? ((try? JSONDecoder().decode(String.self, from: raw)) ?? String(decoding: raw, as: UTF8.self))
                                  : String(decoding: raw.dropFirst().dropLast(), as: UTF8.self)
                if keys.contains(key) { return path.isEmpty ? key : path + "." + key }
                keys.insert(key)
                stack[stack.count - 1] = .object(keys: keys, expectingKey: false, path: path, lastKey: key)
            default:
                break
            }
            i += 1
        }
        return nil
    }
}
