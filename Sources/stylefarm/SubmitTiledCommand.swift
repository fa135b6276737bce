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
        every --checkpoint-every iterations, so that a gang that loses a worker resumes there. \
        With --shards auto (the default) the coordinator takes as many shards as there are \
        tile rows and connected workers that run shards, and cuts each shard's band into as \
        few windows as fit --worker-memory (ExactMemoryModel), refusing a job that cannot fit. \
        --scale-sizes 1024,2048,4096 renders coarse to fine, every stage exactly: each stage's \
        shards start from the stitched stage before (stage-N.png), the last stage is the output.

        Example:
          stylefarm submit tiled --content photo.jpg --style starry_night.jpg --size 4096 --tile 512
          stylefarm watch JOB        # the tile grid fills in
          stylefarm inspect seams DATA/jobs/JOB/output.png --tile 512
          stylefarm submit tiled --content photo.jpg --style starry_night.jpg --size 512 --tile 256 \\
              --mode exact --shards 2 --init content --lr 1 --iterations 50
          stylefarm submit tiled --content photo.jpg --style starry_night.jpg --size 4096 --tile 512 \
              --mode exact --scale-sizes 1024,2048,4096 --scale-iterations 20,6,3 --worker-memory 1.5G
        """)

    @OptionGroup var farm: CoordinatorOption
    @OptionGroup var options: RenderOptions

    @Option(help: "Tile side in pixels, a multiple of 16 (e.g. 256 or 512).")
    var tile: Int

    @Option(help: "Context pixels rendered around each tile and blended with its neighbours (default: a quarter tile, at most 64).")
    var halo: Int?

    @Option(help: "independent: each tile optimised on its own, overlaps blended (fast, approximate). exact: the whole image's loss, every Adam step synchronised across --shards workers through the coordinator (the same optimisation as one machine rendering the whole image).")
    var mode: TiledSpec.Mode = .independent

    @Option(help: "Exact mode: workers that share the image, each taking whole rows of tiles: a number, or auto (the default: as many as tile rows and connected shard workers allow; the job waits until that many are free).")
    var shards: ShardCount = .auto

    @Option(help: "Exact mode: the memory one shard may use, e.g. 1.5G or 1536M (default: the smallest a connected shard worker announced, else 2G). Each shard's band is cut into as few windows as fit it.")
    var workerMemory: String?

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

    enum ShardCount: ExpressibleByArgument, Equatable {
        case auto
        case count(Int)

        init?(argument: String) {
            if argument == "auto" { self = .auto } else if let n = Int(argument), n >= 1 { self = .count(n) } else { return nil }
        }

        var number: Int? { if case .count(let n) = self { n } else { nil } }
    }

    func validate() throws {
        if let workerMemory, MemorySize.bytes(workerMemory) == nil {
            throw ValidationError("--worker-memory '\(workerMemory)' is not a size; give bytes or a number with K, M, G or T (e.g. 1.5G)")
        }
    }

    func run() throws {
        CLILogging.bootstrap()
        var options = self.options
        var size = options.size
        if size == nil, mode == .exact, let last = options.scaleSizes?.split(separator: ",").last.flatMap({ Int($0) }) {
            size = .longestSide(last)   // the last stage is the output
        }
        options.size = nil
        var request = try options.request(defaultThreads: 1)
        request.threads = nil   // each worker renders with its own thread budget
        var spec = TiledSpec(base: request, tile: tile, halo: halo, mode: mode, shards: shards.number, coarseSize: coarseSize,
                             coarseIterations: coarseIterations, bitDepth: bitDepth, priority: priority,
                             exactScheme: mode == .exact ? exactScheme : nil, checkpointEvery: checkpointEvery,
                             workerMemory: workerMemory.flatMap(MemorySize.bytes))
        switch size {
        case .longestSide(let side)?: spec.size = side
        case .exact(let width, let height)?: (spec.width, spec.height) = (width, height)
        case nil: throw ValidationError("give the output size: --size N (longest side) or --size WxH")
        }
        print(try farm.client().submit(spec))
    }
}
