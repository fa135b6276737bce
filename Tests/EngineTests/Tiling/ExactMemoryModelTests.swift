import Testing
import TestSupport
@testable import Engine

/// The memory model's terms against what the engine really allocates.
@Suite(.serialized)
struct ExactMemoryModelTests {
    static let networks: [ConvolutionPolicy: Result<VGG19Network, any Error>] = Dictionary(uniqueKeysWithValues: [ConvolutionPolicy.direct, .auto, .winograd2].map { policy in
        (policy, Result { try VGG19Network(weights: try TestWeights.load(), convolutions: 11, policy: policy) })
    })

    @Test(arguments: [(64, 48, 1, ConvolutionPolicy.direct), (96, 64, 2, .direct), (40, 72, 1, .direct),
                      (64, 48, 1, .auto), (96, 64, 2, .auto), (40, 72, 2, .winograd2)])
    func aPlannedGraphIsTheGraphsOwnSize(width: Int, height: Int, threads: Int, policy: ConvolutionPolicy) throws {
        let network = try #require(Self.networks[policy]).get()
        let taps = ["block1_relu1", "block2_relu1", "block3_relu1", "block3_conv2"]
        let graph = try FeatureGraph(network: network, pooling: .max, height: height, width: width, taps: taps, threads: threads)
        #expect(try FeatureGraph.plannedBytes(height: height, width: width, taps: taps, threads: threads, policy: policy) == graph.bytesAllocated)
        // With rows cut after the first two poolings.
        let crops: [Int: Range<Int>] = [2: 4..<(height / 2 - 4), 5: 4..<(height / 4 - 2)]
        let cut = try FeatureGraph(network: network, pooling: .max, height: height, width: width, taps: taps, threads: threads, rowCrops: crops)
        #expect(try FeatureGraph.plannedBytes(height: height, width: width, taps: taps, threads: threads, rowCrops: crops, policy: policy) == cut.bytesAllocated)
        #expect(cut.bytesAllocated != graph.bytesAllocated)
    }

    /// The weights term is what the network's layers really keep, for each method.
    @Test(arguments: [ConvolutionPolicy.direct, .auto, .winograd2])
    func theWeightsTermIsWhatTheLayersKeep(policy: ConvolutionPolicy) throws {
        let network = try #require(Self.networks[policy]).get()
        let kept = network.convolutions.reduce(0) {
            $0 + $1.kernel.count + $1.tapMajor.count + $1.flippedTapMajor.count + ($1.winograd?.weights.count ?? 0) + $1.bias.count
        }
        let model = ExactMemoryModel(layers: ["block4_relu3"], optimizer: .adam, history: 10, policy: policy)   // the 11th convolution
        #expect(try model.weightsBytes() == kept * 4, "\(policy)")
    }

    @Test func theModelCountsEveryWindowOrOnlyTheLargestAndTheOptimisersState() throws {
        let layers = ["block1_relu1", "block2_relu1", "block3_relu1", "block4_relu1", "block5_relu1", "block4_relu2"]
        let objective = TiledObjective(width: 1024, height: 1024, pooling: .max, contentLayers: [WeightedLayer("block4_relu2", 1)],
                                       styles: [StyleTerm(layers: layers.dropLast().map { WeightedLayer($0, 1) }, weight: 1, grams: [:])],
                                       alpha: 1, beta: 1, tvWeight: 0)
        let one = try ExactShard.geometry(objective: objective, tile: 128, halo: nil, scheme: .gradientExchange, shards: 2, index: 0)
        let four = try ExactShard.geometry(objective: objective, tile: 128, halo: nil, scheme: .gradientExchange, shards: 2, index: 0, columns: 4)
        let adam = ExactMemoryModel(layers: objective.tappedLayers, optimizer: .adam, history: 100)
        let lbfgs = ExactMemoryModel(layers: objective.tappedLayers, optimizer: .lbfgs, history: 10)
        let kept = try adam.breakdown(one, recompute: false), recomputed = try adam.breakdown(four, recompute: true)
        // One window of four (416 of 1024 columns with its halo) at a time.
        #expect(recomputed.graphs < kept.graphs / 2, "\(recomputed.graphs) against \(kept.graphs)")
        // VGG19's convolutions to block5_conv1: 12.9 million weights and biases, held twice by
        // the direct method, transformed to 36/9 of their size by F(4×4) (the default).
        let direct = ExactMemoryModel(layers: objective.tappedLayers, optimizer: .adam, history: 100, policy: .direct)
        #expect(try direct.weightsBytes() > 2 * (40 << 20) && direct.weightsBytes() < 2 * (60 << 20))
        let winograd = ExactMemoryModel(layers: objective.tappedLayers, optimizer: .adam, history: 100, policy: .auto)
        #expect(try winograd.weightsBytes() > 4 * (40 << 20) && winograd.weightsBytes() < 4 * (60 << 20))
        let own = 3 * one.interior.pixelCount * 4
        #expect(kept.optimizer == 5 * own)
        #expect(try lbfgs.breakdown(one, recompute: false).optimizer == 28 * own)
        // Shard counts for a budget: more memory, fewer shards.
        let small = try #require(try adam.shards(objective: objective, tile: 128, budget: 1 << 30, maxShards: 8))
        let large = try #require(try adam.shards(objective: objective, tile: 128, budget: 4 << 30, maxShards: 8))
        #expect(small.count > large.count && small.peak <= 1 << 30 && large.peak <= 4 << 30)
        #expect(try adam.shards(objective: objective, tile: 128, budget: 64 << 20, maxShards: 8) == nil)
    }
}
