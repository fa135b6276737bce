import Foundation
import Protocol

// The libFuzzer entry points. Built with `swift build --sanitize fuzzer` (which compiles with
// `-parse-as-library`), this module has no `main`: libFuzzer's runs, calls `LLVMFuzzerInitialize`
// once, then `LLVMFuzzerTestOneInput` for every input. See `scripts/fuzz-decoders.sh`.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoders(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Data(bytes: $0, count: count) } ?? Data()
    DecoderTarget.exercise(FuzzInput(bytes))
    return 0
}

/// Runs the harness's own modes, which end the process before libFuzzer parses its flags:
/// `--write-corpus DIR` and `--explain FILE…`. Anything else goes to libFuzzer.
@_cdecl("LLVMFuzzerInitialize")
public func initializeFuzzer(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    let arguments = Array(CommandLine.arguments.dropFirst())
    guard let mode = arguments.first, mode.hasPrefix("--") else { return 0 }
    do {
        switch mode {
        case "--write-corpus":
            guard arguments.count == 2 else { throw HarnessError("usage: --write-corpus DIR") }
            let count = try SeedCorpus.write(to: URL(fileURLWithPath: arguments[1], isDirectory: true))
            print("wrote \(count) seeds (\(Set(SeedCorpus.messages().map(\.kind)).count) of \(MessageKind.allCases.count) kinds) to \(arguments[1])")
        case "--explain":
            guard arguments.count >= 2 else { throw HarnessError("usage: --explain FILE…") }
            for path in arguments.dropFirst() {
                print(try Explain.report(for: Data(contentsOf: URL(fileURLWithPath: path)), name: path))
            }
        default:
            throw HarnessError("unknown option \(mode); the harness takes --write-corpus DIR or --explain FILE…, libFuzzer takes -flag=value")
        }
    } catch {
        FileHandle.standardError.write(Data("DecodersFuzzer: \(error)\n".utf8))
        exit(2)
    }
    exit(0)
}
