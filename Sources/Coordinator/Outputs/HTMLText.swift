/// Text made safe to put between tags or inside a quoted attribute, in HTML and in XML (SVG).
///
/// Everything a job brings — style and file names, keys, error messages — goes through here
/// before it reaches a page or a plot: a style named `</svg><script>` must stay text.
public enum HTMLText {
    /// `text` with `&`, `<`, `>`, `"` and `'` replaced by character references, and the
    /// control characters XML 1.0 forbids (a NUL in a file name would make a whole SVG
    /// unreadable) replaced by U+FFFD. Safe in element content and in single- or
    /// double-quoted attribute values; not in unquoted attributes, URLs' schemes, or scripts.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            case "\t", "\n", "\r": escaped.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    escaped += "\u{FFFD}"
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped
    }

    /// A relative link to a file in the job's folder (`tiles/tile-r0-c1.png`), each path
    /// segment percent-encoded (a `#` or `?` in a name would otherwise cut the link short) and
    /// then escaped for an attribute.
    public static func link(_ relativePath: String) -> String {
        let segments = relativePath.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            var encoded = ""
            for byte in segment.utf8 {
                // Unreserved characters (RFC 3986) stay as they are; everything else is %XX.
                let unreserved = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
                if unreserved || byte == 0x3D || byte == 0x2C {   // '=' and ',' are common in keys and harmless in a path
                    encoded.unicodeScalars.append(Unicode.Scalar(byte))
                } else {
                    encoded += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
                }
            }
            return encoded
        }
        return escape(segments.joined(separator: "/"))
    }
}
