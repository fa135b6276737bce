import Testing
import TestSupport
@testable import Engine

struct PoolingTests {
    @Test(arguments: PoolingMode.allCases)
    func forwardOnAKnownWindow(mode: PoolingMode) {
        // One channel, 3×4: the odd last row is dropped (floor mode).
        let input: [Float] = [1, 2, 5, 0,
                              3, 4, -1, 2,
                              9, 9, 9, 9]
        var output = [Float](repeating: .nan, count: 2)
        input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { o in
                Pooling.forward(mode, i.baseAddress!, o.baseAddress!, channels: 1, height: 3, width: 4, threads: 1)
            }
        }
        #expect(output == (mode == .max ? [4, 5] : [2.5, 1.5]))
    }

    @Test(arguments: PoolingMode.allCases, [(2, 4, 6), (3, 5, 7), (1, 2, 2)])
    func backwardMatchesFiniteDifferences(mode: PoolingMode, shape: (c: Int, h: Int, w: Int)) {
        // Distinct values so that the max is unique and a small step does not change the argmax.
        let count = shape.c * shape.h * shape.w
        var x = (0..<count).map { Float($0) * 0.37 }
        var rng = SeededRandom(seed: 9)
        x.shuffle(using: &rng)
        let (oh, ow) = Pooling.outputSize(height: shape.h, width: shape.w)
        let r = ReferenceKernels.randomValues(shape.c * oh * ow, seed: 10)
        func pool(_ input: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: shape.c * oh * ow)
            input.withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer { o in
                    Pooling.forward(mode, i.baseAddress!, o.baseAddress!, channels: shape.c, height: shape.h, width: shape.w, threads: 1)
                }
            }
            return out
        }
        let y = pool(x)
        var gradient = [Float](repeating: .nan, count: count)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                r.withUnsafeBufferPointer { rp in
                    gradient.withUnsafeMutableBufferPointer { g in
                        Pooling.backward(mode, input: xp.baseAddress!, output: yp.baseAddress!, outputGradient: rp.baseAddress!,
                                         inputGradient: g.baseAddress!, channels: shape.c, height: shape.h, width: shape.w, threads: 2)
                    }
                }
            }
        }
        for i in 0..<count {
            // Values are ≥ 0.37 apart, so a step of 0.01 never changes which element is the max.
            let numeric = ReferenceKernels.finiteDifference(x, i, epsilon: 1e-2) { input in
                zip(pool(input), r).reduce(0.0) { $0 + Double($1.0 * $1.1) }
            }
            #expect(abs(numeric - Double(gradient[i])) <= 1e-3)
        }
    }

    @Test func maxPoolingSplitsTheGradientBetweenElementsEqualWithinRounding() {
        // Window 1: 346.0855 and its float32 neighbour tie; window 2 has a clear maximum.
        let a: Float = 346.0855
        let input: [Float] = [a, a.nextDown, 1, 9,
                              3, 0, 2, 3]
        var output = [Float](repeating: 0, count: 2)
        var gradient = [Float](repeating: .nan, count: 8)
        let upstream: [Float] = [1, 1]
        input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { o in
                Pooling.forward(.max, i.baseAddress!, o.baseAddress!, channels: 1, height: 2, width: 4, threads: 1)
            }
        }
        input.withUnsafeBufferPointer { i in
            output.withUnsafeBufferPointer { o in
                upstream.withUnsafeBufferPointer { u in
                    gradient.withUnsafeMutableBufferPointer { g in
                        Pooling.backward(.max, input: i.baseAddress!, output: o.baseAddress!, outputGradient: u.baseAddress!,
                                         inputGradient: g.baseAddress!, channels: 1, height: 2, width: 4, threads: 1)
                    }
                }
            }
        }
        #expect(output == [a, 9])
        #expect(gradient == [0.5, 0.5, 0, 1, 0, 0, 0, 0])
    }
}
