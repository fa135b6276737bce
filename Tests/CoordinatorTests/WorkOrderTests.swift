import Foundation
import Testing
import Engine
import Farm

/// Work orders travel as JSON and name their inputs; they round-trip and map their paths.
struct WorkOrderTests {
    @Test func aPlainRenderRequestIsARenderOrderAndTheOthersAreNamed() throws {
        let request = RenderRequest(contentPath: "blob:c", stylePaths: ["blob:s"])
        let tile = WorkOrder.tile(TileOrder(render: request, outputWidth: 100, outputHeight: 80,
                                            interior: PixelRect(x: 0, y: 0, width: 64, height: 64),
                                            window: PixelRect(x: 0, y: 0, width: 80, height: 80), styleTargetsPath: "blob:g"))
        let targets = WorkOrder.styleTargets(StyleTargetsOrder(render: request, outputWidth: 100, outputHeight: 80))
        for order in [WorkOrder.render(request), tile, targets] {
            #expect(try WorkOrder.decode(order.encoded()) == order)
        }
        #expect(try WorkOrder.decode(JSONEncoder().encode(request)) == .render(request))
        #expect(tile.inputPaths.contains("blob:g"))
        let local = tile.mappingPaths { $0.replacingOccurrences(of: "blob:", with: "/cache/") }
        #expect(local.inputPaths.allSatisfy { $0.hasPrefix("/cache/") })
        let unknown = #expect(throws: EngineError.self) { try WorkOrder.decode(Data(#"{"order":"teleport"}"#.utf8)) }
        #expect(unknown?.message.contains("teleport") == true)
    }
}
