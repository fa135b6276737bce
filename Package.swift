// swift-tools-version:6.0
import PackageDescription

// Swift 6 language mode everywhere, with the upcoming features hummingbird turns on:
// imports stay internal unless re-exported on purpose, and existentials are spelled `any`.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// Numeric kernels are only fast when optimised; `-Ounchecked` is not used so that bounds
// checks stay on in debug builds, where tests catch indexing mistakes. The engine is optimised
// (`-O`, checks kept) even in debug builds: unoptimised, its kernels made the farm tests'
// workers 3.5× slower (the Winograd transforms 15–30×).
let engineSettings = swiftSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]
let package = Package(
    name: "StyleFarm",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stylefarm", targets: ["stylefarm"]),
        // The wire protocol alone, for the libFuzzer harness in Fuzz/ (a package of its own, so
        // that its sanitizer flags never touch the main build).
        .library(name: "StyleFarmProtocol", targets: ["Protocol"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Already in the graph through swift-prometheus: the coordinator records its figures
        // through swift-metrics' API and never sees Prometheus.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    ],
    targets: [
        // Thin system-library targets over the C libraries (see STYLE.md, "Wrapping C libraries").
        .systemLibrary(name: "CSFOpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CSFPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CSFJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CSFZeroMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        // The commit a packaged binary was built from (scripts/package.sh defines it).
        .target(name: "CSFBuildInfo"),

        .target(
            name: "Engine",
            dependencies: [
                "CSFOpenBLAS", "CSFPNG", "CSFJPEG",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: engineSettings
        ),
        .target(
            name: "Protocol",
            dependencies: ["CSFZeroMQ"],
            swiftSettings: swiftSettings
        ),
        // The farm's one model: typed states, blob references, the blob store, work orders,
        // error codes and the status document. Engine stays pure compute over local images.
        .target(
            name: "Farm",
            dependencies: ["Engine", "CSFBuildInfo"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Coordinator",
            dependencies: [
                "Farm", "Engine", "Protocol",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The coordinator's HTTP side: the JSON API and Prometheus metrics, beside the ZeroMQ loop.
        .target(
            name: "Dashboard",
            dependencies: [
                "Coordinator", "Farm", "Protocol",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Worker",
            dependencies: ["Farm", "Engine", "Protocol", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "stylefarm",
            dependencies: [
                "Farm", "Engine", "Protocol", "Coordinator", "Worker", "Dashboard",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // Helpers shared by the test targets: golden-file loading, tiny fixtures, temp dirs.
        .target(
            name: "TestSupport",
            dependencies: ["Engine", "CSFJPEG"],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: ["Engine", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WorkerTests",
            dependencies: ["Farm", "Worker", "Engine", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CoordinatorTests",
            dependencies: ["Farm", "Coordinator", "Engine", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        // The farm end to end: real stylefarm processes, sockets on loopback, the SQLite file.
        .testTarget(
            name: "FarmTests",
            dependencies: ["Farm", "Coordinator", "Protocol", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        // Wire format, sockets and CURVE over real loopback sockets; no engine needed.
        .testTarget(
            name: "ProtocolTests",
            dependencies: ["Protocol"],
            swiftSettings: swiftSettings
        ),
    ]
)
