import ArgumentParser
import Coordinator
import Engine
import Foundation
import Logging

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render one image on this machine (no farm).",
        discussion: """
        Example:
          stylefarm render --content photo.jpg --style starry.jpg --out out.png --size 512 --iterations 300
          stylefarm render --content photo.jpg --style a.jpg --style b.jpg --gamma 0.3 --out mix.png
          stylefarm render --content photo.jpg --style a.jpg --style b.jpg --gamma 0.5 --balance auto --out balanced.png
          stylefarm render --content photo.jpg --style starry.jpg --size 1024 --scales 3 --preserve-color luminance --out big.png
          stylefarm render --content photo.jpg --style a.jpg --style b.jpg --mask left.png --mask none --out masked.png
          stylefarm render --content photo.jpg --style a.jpg --style b.jpg --style-layers block1_relu1,block2_relu1 --style-layers block4_relu1,block5_relu1 --out layered.png
        """)

    @OptionGroup var options: RenderOptions

    @Option(help: "Output PNG.")
    var out: String

    @Option(help: "Bits per sample of the output PNG: 8 or 16.")
    var bitDepth = 8

    @Option(help: "Write one CSV row per iteration: iteration,total,content,style_1,…,style_n,tv,elapsed_s (coarse to fine: stage,width,height first, iteration within the stage).")
    var log: String?

    @Option(help: "Write the settings, final losses, relative improvements and timings as JSON.")
    var summary: String?

    @Option(help: "off, or auto: first a calibration render (at γ = 0.5 for two styles without --style-weights, else the given weights) whose relative improvements give σ, as `submit sweep --balance auto` does; then the render with that σ.")
    var balance: SweepSpec.Balance = .off

    func validate() throws {
        if options.style.isEmpty { throw ValidationError("give at least one --style image") }
        if bitDepth != 8 && bitDepth != 16 { throw ValidationError("--bit-depth must be 8 or 16 (got \(bitDepth))") }
        if !out.lowercased().hasSuffix(".png") { throw ValidationError("--out must name a .png file (got '\(out)')") }
        if balance == .auto && options.style.count < 2 { throw ValidationError("--balance auto needs two or more --style images") }
        if balance == .auto && options.sigma != nil { throw ValidationError("--balance auto derives σ itself; drop --sigma or --balance") }
    }

    func run() throws {
        CLILogging.bootstrap()
        let logger = Logger(label: "stylefarm.render")
        var request = try options.request(defaultThreads: ProcessInfo.processInfo.activeProcessorCount)
        let network = try WeightsStore.fromEnvironment(logger: logger).loadNetwork(for: try request.resolve().tappedLayers)
        var calibration: BalanceCalibration? = nil
        if balance == .auto {
            let measured = try BalanceCalibration.run(request, network: network, logger: logger)
            request.sigmas = measured.sigmas
            calibration = measured
        }
        let settings = try request.resolve()
        let logWriter = try log.map { try LossLogWriter(path: $0, styleCount: settings.stylePaths.count, stageCount: settings.stageSizes.count,
                                                          sigmas: settings.sigmas) }
        let progress = TerminalProgress()

        let result = try Renderer(settings: settings, network: network, logger: logger).run(progress: { record in
            try logWriter?.append(record)
            progress.show(record)
        })
        try ImageFile.writePNG(result.image, path: out, bitDepth: bitDepth)
        if let summary {
            try JSONOutput.write(BalancedSummary(render: result.summary, calibration: calibration), to: summary)
        }
        let s = result.summary
        if let calibration {
            print("calibration at \(calibration.weightsDescription): RI " + calibration.relativeImprovement.map { String(format: "%.3f", $0) }.joined(separator: ", ")
                  + " → σ " + calibration.sigmas.map { String(format: "%.3f", $0) }.joined(separator: ", "))
            print("final RI " + s.relativeImprovement.map { String(format: "%.3f", $0) }.joined(separator: ", "))
        }
        print("wrote \(out) (\(s.contentSize[0])×\(s.contentSize[1]), \(s.iterationsRun) iterations, "
              + "loss \(TerminalProgress.short(s.initialLosses.total)) → \(TerminalProgress.short(s.finalLosses.total)), "
              + "\(String(format: "%.2f", s.timings.secondsPerIteration)) s/iteration)")
        if let reason = s.stoppedEarly { print("stopped early: \(reason)") }
        for (i, stage) in s.stages.enumerated() where s.stages.count > 1 {
            print("  stage \(i + 1)/\(s.stages.count) \(stage.size[0])×\(stage.size[1]): \(stage.iterationsRun) iterations, "
                  + "loss \(TerminalProgress.short(stage.initialLosses.total)) → \(TerminalProgress.short(stage.finalLosses.total))")
        }
        if let d = s.denoising {
            print("  denoised (ROF λ \(d.lambda)): TV \(TerminalProgress.short(d.tvBefore)) → \(TerminalProgress.short(d.tvAfter)), "
                  + "\(d.iterations) iterations, within \(String(format: "%.2f", d.rmsBoundLevels)) levels RMS of the exact minimiser")
        }
    }
}
