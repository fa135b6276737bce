internal import Foundation

/// POSIX shell quoting for command lines that a person copies into a terminal.
public enum ShellQuoting {
    /// `word` unchanged when it holds only characters no shell treats specially
    /// (letters, digits and `@%+=:,./_-`), else in single quotes with each `'` as `'\''`.
    public static func quote(_ word: String) -> String {
        guard !word.isEmpty else { return "''" }
        let plain = word.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "@%+=:,./_-".unicodeScalars.contains(scalar))
        }
        if plain { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    public static func join(_ words: [String]) -> String {
        words.map(quote).joined(separator: " ")
    }
}
