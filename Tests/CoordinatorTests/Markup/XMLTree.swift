import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A parsed XML document (an SVG), with a real parser — Foundation's XMLParser over libxml2 —
/// so that a test fails on anything a browser's SVG loader would refuse.
final class XMLTree {
    final class Element {
        let name: String
        let attributes: [String: String]
        var children: [Element] = []
        var text = ""

        init(name: String, attributes: [String: String]) {
            self.name = name
            self.attributes = attributes
        }

        /// This element and every element under it, in document order.
        var all: [Element] { [self] + children.flatMap(\.all) }

        func number(_ attribute: String) -> Double? { attributes[attribute].flatMap(Double.init) }
    }

    let root: Element

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    init(_ text: String) throws {
        let delegate = Builder()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = delegate
        guard parser.parse(), let root = delegate.root else {
            throw ParseError(description: "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "no root element") at line \(parser.lineNumber)")
        }
        self.root = root
    }

    func elements(named name: String) -> [Element] { root.all.filter { $0.name == name } }

    func elements(withClass className: String) -> [Element] { root.all.filter { $0.attributes["class"] == className } }

    private final class Builder: NSObject, XMLParserDelegate {
        var root: Element?
        var stack: [Element] = []

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            let element = Element(name: name, attributes: attributes)
            if let parent = stack.last { parent.children.append(element) } else { root = element }
            stack.append(element)
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            stack.removeLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.text += string
        }
    }
}
