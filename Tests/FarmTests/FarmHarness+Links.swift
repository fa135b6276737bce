import Foundation

extension FarmHarness {
    /// The relative `href` and `src` targets of a job folder's index.html, percent-decoded
    /// (the page escapes `&` as `&amp;`; job folder names never hold one).
    static func localLinks(in page: String) -> [String] {
        var links: [String] = []
        for attribute in ["href=\"", "src=\""] {
            var rest = page[...]
            while let start = rest.range(of: attribute) {
                rest = rest[start.upperBound...]
                guard let end = rest.firstIndex(of: "\"") else { break }
                let value = String(rest[..<end])
                if !value.contains("://") { links.append(value.removingPercentEncoding ?? value) }
                rest = rest[end...]
            }
        }
        return links
    }
}
