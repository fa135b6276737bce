import ArgumentParser
import Coordinator
import Dashboard
import ServiceLifecycle
import Farm
import Dispatch
import Engine
import Foundation
import Logging
import Protocol
import Worker

/// How a worker or client authenticates to a coordinator that uses CURVE keys.
struct KeyOptions: ParsableArguments {
    @Option(help: "This node's secret key file (from `stylefarm keys generate NAME`: NAME.key_secret).")
    var key: String?

    @Option(help: "The coordinator's public key file (its coordinator.key).")
    var serverKey: String?

    @Flag(help: "Connect without keys (the coordinator must run without --keys).")
    var insecure = false

    func validate() throws {
        if (key == nil) != (serverKey == nil) { throw ValidationError("give both --key and --server-key, or neither") }
        if key != nil && insecure { throw ValidationError("--insecure and --key contradict each other") }
    }

    func security() throws -> ZMQSecurity {
        guard let key, let serverKey else { return .none }
        let pair = try CurveKeyFile.readKeyPair(secretFile: URL(fileURLWithPath: key))
        return .curveClient(serverKey: try CurveKeyFile.readPublicKey(at: URL(fileURLWithPath: serverKey)), keyPair: pair)
    }
}

/// Where client commands find the coordinator.
struct CoordinatorOption: ParsableArguments {
    @Option(help: "Coordinator endpoint (default $STYLEFARM_COORDINATOR, else tcp://127.0.0.1:5555).")
    var coordinator: String = ProcessInfo.processInfo.environment["STYLEFARM_COORDINATOR"] ?? "tcp://127.0.0.1:5555"

    @OptionGroup var keys: KeyOptions

    func client(timeout: Duration = .seconds(30)) throws -> FarmClient {
        try FarmClient(endpoint: coordinator, context: try ZMQContext(), security: try keys.security(), timeout: timeout)
    }
}

func absolutePath(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}

struct CoordinatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Serve the farm: accept jobs, hand tasks to workers, record everything under --data.")

    @Option(help: "Endpoint to bind, e.g. tcp://0.0.0.0:5555.")
    var bind = "tcp://127.0.0.1:5555"

    @Option(help: "Data directory: farm.sqlite, blobs/, jobs/<id>/.")
    var data: String

    @Option(help: "Directory with the coordinator's key pair (coordinator.key, coordinator.key_secret from `stylefarm keys generate coordinator`). Workers and clients must then be authorised with `stylefarm keys authorize`.")
    var keys: String?

    @Flag(help: "Allow binding a non-loopback address without CURVE keys (traffic unencrypted, any worker accepted).")
    var insecure = false

    @Option(help: "Serve the JSON API and Prometheus metrics over HTTP on HOST:PORT, e.g. 127.0.0.1:8080 (port 0: any free one).")
    var http: String?

    @Option(help: "A file whose first line is the HTTP token (16+ characters): needed for actions, and off loopback for reading too.")
    var httpToken: String?

    @Flag(help: "Allow --http on a non-loopback address without --http-token (anyone who can reach it may read the farm's status).")
    var httpInsecure = false

    @Option(help: "The VGG19 weights file workers must render with; nodes without weights fetch it from here (default: $STYLEFARM_HOME/weights/, if present).")
    var weights: String?

    @Option(help: "Heartbeat interval in milliseconds; a worker silent for 6 intervals is lost.")
    var heartbeatMs = 500

    @Option(help: "Refuse jobs with more optimiser iterations than this in any stage of a task.")
    var maxIterations = JobLimits().maxIterations

    @Option(help: "Refuse jobs whose tasks render more pixels than this at once (a render's size², a tile's window); large images go tiled.")
    var maxPixels = JobLimits().maxTaskPixels

    @Option(help: "Refuse jobs with more tasks (sweep points, tiles) than this.")
    var maxTasks = JobLimits().maxTasks

    @Option(help: "Failures a task may cause itself before its job fails (lost workers and restarts do not count).")
    var maxFailures = FarmRecords.AttemptBudget().failures

    @Option(help: "Losses a task may suffer (killed or silent workers, hand-backs, restarts) before its job fails; retried with back-off.")
    var maxLosses = FarmRecords.AttemptBudget().losses

    @Option(help: "Failed tasks of one job after which a worker is blocked for that job (recorded; `stylefarm block JOB WORKER --undo` lifts it). Keep it below --max-failures so that one broken worker cannot fail a job alone.")
    var blockAfterFailures = CoordinatorService.Configuration(endpoint: "", dataDirectory: "").failuresBeforeBlocking

    func validate() throws {
        let host = bind.split(separator: "/").last?.split(separator: ":").first.map(String.init) ?? ""
        let loopback = Self.isLoopback(host) || bind.hasPrefix("ipc://") || bind.hasPrefix("inproc://")
        if !loopback && !insecure && keys == nil {
            throw ValidationError("refusing to bind \(bind) without keys: give --keys DIR (see `stylefarm keys generate`), bind a loopback address, or pass --insecure")
        }
        if keys != nil && insecure { throw ValidationError("--keys and --insecure contradict each other") }
        if let http {
            guard let (host, port) = Self.hostAndPort(http) else { throw ValidationError("--http takes HOST:PORT, e.g. 127.0.0.1:8080") }
            if !Self.isLoopback(host) && httpToken == nil && !httpInsecure {
                throw ValidationError("refusing to serve HTTP on \(host):\(port) without --http-token FILE (or --http-insecure)")
            }
        }
        if heartbeatMs < 10 || heartbeatMs > 3_600_000 { throw ValidationError("--heartbeat-ms must be 10…3600000") }
        if !(1...10_000_000).contains(maxIterations) { throw ValidationError("--max-iterations must be 1…10000000") }
        if !(256...(1 << 40)).contains(maxPixels) { throw ValidationError("--max-pixels must be 256…2^40") }
        if !(1...1_000_000).contains(maxTasks) { throw ValidationError("--max-tasks must be 1…1000000") }
        if !(1...1000).contains(maxFailures) || !(1...100_000).contains(maxLosses) {
            throw ValidationError("--max-failures must be 1…1000 and --max-losses 1…100000")
        }
        if !(1...1000).contains(blockAfterFailures) { throw ValidationError("--block-after-failures must be 1…1000") }
    }

    func run() throws {
        let signals = ShutdownSignals()
        CLILogging.bootstrap()
        var configuration = CoordinatorService.Configuration(endpoint: bind, dataDirectory: absolutePath(data))
        configuration.heartbeat = .milliseconds(heartbeatMs)
        configuration.jobLimits.maxIterations = maxIterations
        configuration.jobLimits.maxTaskPixels = maxPixels
        configuration.jobLimits.maxTasks = maxTasks
        configuration.budget.failures = maxFailures
        configuration.budget.losses = maxLosses
        configuration.failuresBeforeBlocking = blockAfterFailures
        if let keys {
            configuration.keyPair = try CurveKeyFile.readKeyPair(secretFile: URL(fileURLWithPath: keys + "/coordinator.key_secret"))
        }
        let logger = Logger(label: "stylefarm.coordinator")
        // The weights every worker must render with, and that nodes without any fetch from here.
        let weightsPath = weights ?? WeightsStore.fromEnvironment(logger: logger).weightsPath
        if FileManager.default.fileExists(atPath: weightsPath) {
            configuration.weights = try ServedWeights(path: weightsPath)
            logger.info("serving weights", metadata: ["weights.path": "\(weightsPath)", "weights.sha256": "\(configuration.weights?.offer.sha256.hex ?? "")"])
        } else if weights != nil {
            throw ValidationError("--weights \(weightsPath): no such file")
        } else {
            logger.notice("no weights to serve: workers must bring their own (run `stylefarm weights fetch` here to serve them)",
                          metadata: ["weights.path": "\(weightsPath)"])
        }
        // With --http the coordinator's figures go to the registry /metrics shows; without, nowhere.
        let metrics = http == nil ? nil : FarmMetrics()
        let service = try CoordinatorService(configuration: configuration, context: try ZMQContext(),
                                             logger: logger, metrics: metrics?.coordinator ?? CoordinatorMetrics())
        // Unbuffered: scripts and tests read the bound endpoint from this line.
        FileHandle.standardOutput.write(Data("coordinator listening on \(service.boundEndpoint), data in \(configuration.dataDirectory)\n".utf8))
        var services: [any Service] = [ThreadService(name: "stylefarm-coordinator", body: { try service.run() }, stop: { service.stop() })]
        if let http, let (host, port) = Self.hostAndPort(http) {
            let access = HTTPAccess(token: try httpToken.map(HTTPAccess.readToken(file:)), tokenNeededToRead: !Self.isLoopback(host) && !httpInsecure)
            services.append(DashboardServer.application(service: service, host: host, port: port, access: access,
                                                        logger: Logger(label: "stylefarm.http"), metrics: metrics ?? FarmMetrics()) { bound in
                let address = "http://\(host.contains(":") ? "[\(host)]" : host):\(bound)"
                service.setHTTPAddress(address)
                FileHandle.standardOutput.write(Data("HTTP on \(address)\n".utf8))
            })
        }
        try runServices(services, signals: signals, logger: Logger(label: "stylefarm.services"))
    }
}

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Join a farm and render its tasks. A node without the weights fetches them from the coordinator.")

    @Option(help: "Coordinator endpoint, e.g. tcp://farm-head:5555.")
    var join: String

    @Option(help: "Threads for rendering (default: all cores).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Name shown in `stylefarm status` (default: the host name).")
    var name = ProcessInfo.processInfo.hostName

    @Option(help: "Seconds a worker stopped (SIGTERM, SIGINT) while it runs an exact shard waits for its gang's checkpoint, so that the gang resumes from there; then it hands the shard back without one. 0: at once. At most 50 (the shutdown's own limit is 60).")
    var stopGrace = 30

    @OptionGroup var keys: KeyOptions

    func validate() throws {
        // The services' graceful shutdown gives up after 60 s (`runServices`); the hand-back and
        // goodbye must fit after the grace.
        guard (0...50).contains(stopGrace) else { throw ValidationError("--stop-grace must be 0–50 seconds; got \(stopGrace)") }
    }

    func run() throws {
        let signals = ShutdownSignals()
        CLILogging.bootstrap()
        let logger = Logger(label: "stylefarm.worker")
        let store = WeightsStore.fromEnvironment(logger: logger)
        let home = URL(fileURLWithPath: store.weightsPath).deletingLastPathComponent().deletingLastPathComponent().path
        let blobs = try BlobStore(root: home + "/blobs")
        let threads = threads
        @Sendable func runner(loading path: String) throws -> TaskRunner {
            let weights = try store.loadWeights()
            return TaskRunner(network: try VGG19Network(weights: weights, convolutions: 16), blobs: blobs, threads: threads, logger: logger)
        }
        // A node without weights fetches the coordinator's (once: they stay in STYLEFARM_HOME).
        let hasWeights = FileManager.default.fileExists(atPath: store.weightsPath)
        let runner = hasWeights ? try runner(loading: store.weightsPath) : nil
        var configuration = WorkerService.Configuration(endpoint: join, name: name, threads: threads,
                                                        weightsSHA256: hasWeights ? try StreamingSHA256.hex(ofFileAt: store.weightsPath) : nil)
        configuration.security = try keys.security()
        configuration.stopCheckpointGrace = .seconds(stopGrace)
        let service = WorkerService(configuration: configuration, runner: runner,
                                    provisioning: .init(destination: store.weightsPath, makeRunner: runner(loading:)),
                                    context: try ZMQContext(), logger: logger)
        if signals.received { return }   // stopped while loading its weights: nothing to hand back
        try runServices([ThreadService(name: "stylefarm-worker", body: { try service.run() }, stop: { service.stop() })],
                        signals: signals, logger: logger)
    }
}

struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit", abstract: "Submit a job to the farm.", subcommands: [SubmitSweepCommand.self, SubmitTiledCommand.self])
}

struct SubmitSweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Submit a γ sweep (and/or a grid over render options); prints the job id.",
        discussion: """
        Example:
          stylefarm submit sweep --content photo.jpg --style a.jpg --style b.jpg --gamma 0:1:0.25 --size 256
          stylefarm submit sweep --content photo.jpg --style a.jpg --style b.jpg --gamma 0.5 --sweep beta=1,10 --sweep tv-weight=0,1e-3
        """)

    @OptionGroup var farm: CoordinatorOption
    @OptionGroup var options: RenderOptions

    @Option(name: .customLong("sweep"), help: "Sweep a render option: OPTION=VALUES, e.g. beta=1e3,1e4 or tv-weight=0:10:5 (repeatable).")
    var sweeps: [String] = []

    @Option(help: "off, or auto: first a calibration at γ = 0.5 that derives σ so both styles improve alike.")
    var balance: SweepSpec.Balance = .off

    @Option(help: "Higher runs first.")
    var priority = 0

    func run() throws {
        CLILogging.bootstrap()
        let gammas = try options.gamma.map { try ParameterList.parse($0, option: "--gamma") }
        var single = options
        single.gamma = nil   // a list here, swept below
        var request = try single.request(defaultThreads: 1)
        request.threads = nil   // each worker renders with its own thread budget
        let spec = SweepSpec(base: request, gammas: gammas, axes: try sweeps.map(SweepAxis.init(parsing:)),
                             balance: balance, priority: priority)
        print(try farm.client().submit(spec))
    }
}


struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Jobs, their tasks and the connected workers (JSON); without a job id, at most --limit jobs, unfinished first.")

    @OptionGroup var farm: CoordinatorOption

    @Argument(help: "A job id (default: the farm).")
    var job: String?

    @Option(help: "Jobs listed at most (1–500; the rest are counted by state).")
    var limit = StatusQuery.defaultLimit

    func validate() throws {
        guard (1...StatusQuery.maximumLimit).contains(limit) else { throw ValidationError("--limit must be 1…\(StatusQuery.maximumLimit)") }
    }

    func run() throws {
        let status = try farm.client().status(jobID: job, limit: limit)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(status), as: UTF8.self))
    }
}

struct WaitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Wait for a job to finish, riding through coordinator restarts.",
        discussion: "Exit codes: 0 succeeded, 1 failed or cancelled, 2 still running at --timeout, 3 the coordinator unreachable past --timeout (or 600 s without one), 64 usage.")

    @OptionGroup var farm: CoordinatorOption

    @Argument(help: "The job id.")
    var job: String

    @Option(help: "Give up after this many seconds.")
    var timeout: Double?

    func validate() throws {
        if let timeout, !(timeout.isFinite && timeout > 0) { throw ValidationError("--timeout must be a positive number of seconds") }
    }

    func run() throws {
        let found = try JobPoller(farm: farm, job: job, timeout: timeout).follow { _, _ in }
        print("job \(job) \(found.state.rawValue); results in \(found.directory)" + (found.reason.map { " (\($0))" } ?? ""))
        if found.state != .succeeded { throw ExitCode(1) }
    }
}

struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a job.")

    @OptionGroup var farm: CoordinatorOption

    @Argument(help: "The job id.")
    var job: String

    func run() throws {
        try farm.client().cancel(jobID: job)
        print("job \(job) cancelled")
    }
}

extension CoordinatorCommand {
    /// Whether `host` (of `--bind` or `--http`) is a loopback address, where keys and tokens
    /// are not required.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// `HOST:PORT` (or `[IPv6]:PORT`) split, the port 0…65535; nil if malformed.
    static func hostAndPort(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }
}
