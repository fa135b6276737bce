public import Engine
import Foundation

/// One swept render option and its values (`--sweep beta=1e3,1e4`), applied to a RenderRequest.
public struct SweepAxis: Sendable, Codable, Equatable {
    public var option: String
    public var values: [Float]

    public init(option: String, values: [Float]) {
        self.option = option
        self.values = values
    }

    /// `NAME=VALUES`, VALUES as in `ParameterList`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            throw EngineError(.invalidArgument, "--sweep '\(text)': give OPTION=VALUES, e.g. beta=1e3,1e4 or tv-weight=0:10:5")
        }
        let option = parts[0].trimmingCharacters(in: .whitespaces)
        guard Self.setters[option] != nil else {
            throw EngineError(.invalidArgument, "--sweep: '\(option)' cannot be swept; sweepable options are \(Self.sweepable.joined(separator: ", "))")
        }
        self.init(option: option, values: try ParameterList.parse(parts[1], option: "--sweep \(option)"))
    }

    /// Sets this option to `value` on a request.
    public static func apply(_ option: String, _ value: Float, to request: inout RenderRequest) throws {
        guard let setter = setters[option] else {
            throw EngineError(.invalidArgument, "'\(option)' cannot be swept; sweepable options are \(sweepable.joined(separator: ", "))")
        }
        try setter(&request, value)
    }

    public static var sweepable: [String] { setters.keys.sorted() }

    private static func integer(_ value: Float, _ option: String) throws -> Int {
        guard value.isFinite, value == value.rounded(), abs(value) < 1e9 else {
            throw EngineError(.invalidArgument, "--sweep \(option) needs whole numbers (got \(value))")
        }
        return Int(value)
    }

    /// The numeric render options a sweep may vary, by their command-line names.
    private static let setters: [String: @Sendable (inout RenderRequest, Float) throws -> Void] = [
        "gamma": { $0.gamma = $1 },
        "alpha": { $0.alpha = $1 },
        "beta": { $0.beta = $1 },
        "tv-weight": { $0.tvWeight = $1 },
        "lr": { $0.learningRate = $1 },
        "lr-decay": { $0.learningRateDecay = $1 },
        "iterations": { $0.iterations = try integer($1, "iterations") },
        "size": { $0.size = try integer($1, "size") },
        "style-size": { $0.styleSize = try integer($1, "style-size") },
        "seed": { $0.seed = UInt64(try integer($1, "seed").magnitude) },
        "denoise": { $0.denoise = $1 },
        "style-scale": { $0.styleScale = $1 },
        "scales": { $0.scales = try integer($1, "scales") },
    ]
}
