// swift-tools-version:6.0
import PackageDescription

// A libFuzzer harness for the wire protocol's decoders, kept apart from the root package so
// that its `swift build` never sees the fuzzer flags. Build and run it with
// `scripts/fuzz-decoders.sh`: `swift build -c release --sanitize fuzzer` instruments every
// module (Protocol included, so that libFuzzer sees coverage inside the decoders) and leaves
// `main` to libFuzzer. See README.md.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "StyleFarmFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "StyleFarm", path: ".."),
    ],
    targets: [
        // LLVMFuzzerTestOneInput over the envelope and header decoders, plus two modes run
        // before libFuzzer starts: `--write-corpus DIR` (the seed corpus) and `--explain FILE…`.
        .executableTarget(
            name: "DecodersFuzzer",
            dependencies: [.product(name: "StyleFarmProtocol", package: "StyleFarm")],
            swiftSettings: swiftSettings
        ),
    ]
)
