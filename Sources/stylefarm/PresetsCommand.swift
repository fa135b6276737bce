import ArgumentParser
import Engine
import Foundation

struct PresetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presets",
        abstract: "List the presets and every value each one sets (any explicit render option overrides them).")

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        if json {
            print(String(decoding: try JSONOutput.encoder(pretty: true).encode(Preset.all), as: UTF8.self))
        } else {
            print(Preset.listing(), terminator: "")
        }
    }
}
