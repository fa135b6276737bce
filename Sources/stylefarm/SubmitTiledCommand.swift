import ArgumentParser
import Coordinator
import Engine


struct SubmitTiledCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tiled",
        abstract: "Submit a large render cut into tiles across the farm; prints the job id.",
        discussion: """
        The job runs a coarse pass of the whole image (coarse to fine, at --coarse-size), the \
        style targets at the output's scale (so strokes keep their size as the output grows), \
        then every tile with --halo pixels of context, and the coordinator stitches the tiles \
        into jobs/<id>/output.png with smooth ramps across the overlaps. --iterations is each \
        tile's (and the coarse pass's unless --coarse-iterations is given). With --init content \
        the tiles start from the content and there is no coarse pass.

        --mode exact optimises the whole image's loss (Adam, or --optimizer lbfgs): --shards \
        workers each hold whole rows of tiles and exchange partial Gram sums, gradients or \
        edge pixels through the coordinator every step (--exact-scheme), and save their state \
        every --checkpoint-every iterations, so that a gang that loses a worker resumes there.

        Example:
          stylefarm submit tiled --content photo.jpg --style starry_night.jpg --size 4096 --tile 512
          stylefarm watch JOB        # the tile grid fills in
          stylefarm inspect seams DATA/jobs/JOB/output.png --tile 512
          stylefarm submit tiled --content photo.jpg --style starry_night.jpg --size 512 --tile 256 \\
              --mode exact --shards 2 --init content --lr 1 --iterations 50
        """)

    @OptionGroup var farm: CoordinatorOption
    @OptionGroup var options: RenderOptions

    @Option(help: "Tile side in pixels, a multiple of 16 (e.g. 256 or 512).")
    var tile: Int

    @Option(help: "Context pixels rendered around each tile and blended with its neighbours (default: a quarter tile, at most 64).")
    var halo: Int?

    @Option(help: "independent: each tile optimised on its own, overlaps blended (fast, approximate). exact: the whole image's loss, every Adam step synchronised across --shards workers through the coordinator (the same optimisation as one machine rendering the whole image).")
    var mode: TiledSpec.Mode = .independent

    @Option(help: "Exact mode: workers that share the image, each taking whole rows of tiles (default 2; the job waits until that many are free).")
    var shards: Int?

    @Option(help: "Exact mode: how gradients are made exact. wide-halo: each tile back-propagates a window as wide as the deepest layer's receptive field. gradient-exchange: each shard back-propagates its band once and exchanges the gradient on its neighbours' rows (one more round per iteration). auto: the cheaper for this job's sizes (shown in job.json).")
    var exactScheme: ExactSchemeCost.Choice = .auto

    @Option(help: "Exact mode: iterations between checkpoints of every shard's state, stored by the coordinator; a gang that loses a worker resumes from the latest (default 10; 0: none).")
    var checkpointEvery: Int?

    @Option(help: "Longest side of the coarse whole-image pass (default 512).")
    var coarseSize: Int?

    @Option(help: "Iterations of the coarse pass (default: --iterations).")
    var coarseIterations: Int?

    @Option(help: "Bits per sample of the stitched PNG: 8 or 16.")
    var bitDepth = 8

    @Option(help: "Higher runs first.")
    var priority = 0

    func run() throws {
        CLILogging.bootstrap()
        var options = self.options
        let size = options.size
        options.size = nil
        var request = try options.request(defaultThreads: 1)
        request.threads = nil   // each worker renders with its own thread budget
        var spec = TiledSpec(base: request, tile: tile, halo: halo, mode: mode, shards: shards, coarseSize: coarseSize,
                             coarseIterations: coarseIterations, bitDepth: bitDepth, priority: priority,
                             exactScheme: mode == .exact ? exactScheme : nil, checkpointEvery: checkpointEvery)
        switch size {
        case .longestSide(let side)?: spec.size = side
        case .exact(let width, let height)?: (spec.width, spec.height) = (width, height)
        case nil: throw ValidationError("give the output size: --size N (longest side) or --size WxH")
        }
        print(try farm.client().submit(spec))
    }
}
