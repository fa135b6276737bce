import Foundation

/// Checks an HTML page with Python's html.parser: every tag closed in order (void elements
/// aside), no `<script>`, nothing loaded from outside, and the local files it links to.
/// Runs `python3` on the page written to a temporary file; the result comes back as JSON.
enum HTMLCheck {
    struct Report: Decodable {
        var errors: [String]
        var links: [String]
        var text: String
    }

    static let script = #"""
import json, sys, urllib.parse
from html.parser import HTMLParser
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
class Check(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.links, self.text = [], [], [], []
    def handle_starttag(self, tag, attrs):
        if tag == "script": self.errors.append("a script element")
        for name, value in attrs:
            if name.startswith("on"): self.errors.append("an event handler attribute " + name)
            if name in ("href", "src") and value is not None:
                if "://" in value or value.startswith("//") or value.startswith("data:") or value.startswith("javascript:"):
                    self.errors.append("an external reference " + value)
                else:
                    self.links.append(urllib.parse.unquote(value))
        if tag not in VOID: self.stack.append((tag, self.getpos()))
    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID: self.stack.pop()
    def handle_endtag(self, tag):
        if tag in VOID: return
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append("</%s> at %s closes %s" % (tag, self.getpos(), self.stack[-1] if self.stack else "nothing"))
            return
        self.stack.pop()
    def handle_data(self, data): self.text.append(data)
check = Check()
check.feed(open(sys.argv[1], encoding="utf-8").read())
check.close()
if check.stack: check.errors.append("unclosed: %s" % check.stack[:5])
print(json.dumps({"errors": check.errors, "links": check.links, "text": "".join(check.text)}))
"""#

    static func run(_ html: String) throws -> Report {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("stylefarm-page-\(UInt64.random(in: 0...UInt64.max)).html")
        try Data(html.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, file.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try JSONDecoder().decode(Report.self, from: data)
    }
}
