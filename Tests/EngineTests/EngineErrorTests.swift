import Testing
@testable import Engine

@Test func engineErrorDescriptionIncludesCause() {
    let error = EngineError(.io, "cannot read 'x.png'", cause: "No such file or directory")
    #expect(error.description == "cannot read 'x.png' (No such file or directory)")
}
