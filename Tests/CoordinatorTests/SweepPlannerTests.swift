import Testing
@testable import Coordinator
import Engine

struct ParameterListTests {
    @Test func aRangeIncludesItsEndDespiteBinaryRounding() throws {
        let values = try ParameterList.parse("0:1:0.1", option: "--gamma")
        #expect(values.count == 11)
        #expect(values.first == 0 && values.last == 1)
        #expect(values[3] == 0.3)
    }

    @Test func aListKeepsItsOrder() throws {
        #expect(try ParameterList.parse("0.5, 0, 1", option: "--gamma") == [0.5, 0, 1])
    }

    @Test(arguments: ["1:0:0.1", "0:1:0", "0:1", "a,b", "", "0:1:0.0001", "0:nan:1"])
    func malformedListsAreRefused(text: String) {
        let error = #expect(throws: EngineError.self) { try ParameterList.parse(text, option: "--gamma") }
        #expect(error?.message.contains("START:STOP:STEP") == true)
    }
}

struct SweepPlannerTests {
    func base(styles: Int = 2) -> RenderRequest {
        RenderRequest(contentPath: "content.png", stylePaths: (1...styles).map { "style\($0).png" })
    }

    @Test func aGammaSweepIsOneTaskPerPointNamedAfterItsParameters() throws {
        let tasks = try SweepPlanner.plan(SweepSpec(base: base(), gammas: [0, 0.5, 1]))
        #expect(tasks.map(\.key) == ["gamma=0", "gamma=0.5", "gamma=1"])
        #expect(tasks.map(\.outputName) == ["gamma-0.png", "gamma-0.5.png", "gamma-1.png"])
        #expect(try tasks[1].request.resolve().styleWeights == [0.5, 0.5])
        #expect(try tasks[0].request.resolve().styleWeights == [0, 1])
        #expect(tasks.allSatisfy { $0.kind == .render && $0.dependsOn.isEmpty })
    }

    @Test func aGridIsTheProductOfItsAxesWithTheLastVaryingFastest() throws {
        let spec = SweepSpec(base: base(), gammas: [0.2, 0.8],
                             axes: [try SweepAxis(parsing: "beta=1e3,1e4"), try SweepAxis(parsing: "tv-weight=0:10:5")])
        let tasks = try SweepPlanner.plan(spec)
        #expect(tasks.count == 12)
        #expect(tasks[0].key == "gamma=0.2,beta=1000,tv-weight=0")
        #expect(tasks[1].key == "gamma=0.2,beta=1000,tv-weight=5")
        #expect(tasks[11].key == "gamma=0.8,beta=10000,tv-weight=10")
        let settings = try tasks[11].request.resolve()
        #expect(settings.beta == 10000 && settings.tvWeight == 10 && settings.styleWeights[0] == 0.8)
        #expect(Set(tasks.map(\.key)).count == 12)
    }

    @Test func autoBalanceAddsACalibrationAtHalfGammaThatEveryPointWaitsFor() throws {
        let tasks = try SweepPlanner.plan(SweepSpec(base: base(), gammas: [0, 1], balance: .auto))
        #expect(tasks.first?.kind == .calibrate)
        #expect(try tasks.first?.request.resolve().styleWeights == [0.5, 0.5])
        #expect(tasks.dropFirst().allSatisfy { $0.dependsOn == ["calibrate"] })
    }

    @Test func aBadPointRefusesTheWholeSweepNamingThePoint() {
        let error = #expect(throws: EngineError.self) {
            try SweepPlanner.plan(SweepSpec(base: base(), gammas: [0.5, 1.5]))
        }
        #expect(error?.message.hasPrefix("sweep point gamma = 1.5: --gamma must be in [0, 1]") == true, "got \(error?.message ?? "")")
    }

    @Test func sweepingAnUnknownOptionIsRefusedListingTheSweepableOnes() {
        let error = #expect(throws: EngineError.self) { try SweepAxis(parsing: "colour=1,2") }
        #expect(error?.message.contains("sweepable options are alpha, beta") == true)
    }

    @Test func aGammaSweepNeedsExactlyTwoStyles() {
        #expect(throws: EngineError.self) { try SweepPlanner.plan(SweepSpec(base: base(styles: 3), gammas: [0.5])) }
    }

    @Test func gammaCannotBeSweptTwice() {
        #expect(throws: EngineError.self) {
            try SweepPlanner.plan(SweepSpec(base: base(), gammas: [0.5], axes: [SweepAxis(option: "gamma", values: [1])]))
        }
    }
}

struct BalancingTests {
    @Test func theStyleThatImprovedLessIsBoostedBySquareRootOfTheRatio() throws {
        // RI₁ = 400 improved 4× more than RI₂ = 100: σ₂ = sqrt(4) = 2, σ₁ = 1.
        #expect(try Balancing.sigmas(relativeImprovements: [400, 100]) == [1, 2])
        #expect(try Balancing.sigmas(relativeImprovements: [9, 36, 4]) == [2, 1, 3])
    }

    @Test(arguments: [[Double](), [1, 0], [1, .nan], [.infinity, 2]])
    func unusableImprovementsAreRefused(values: [Double]) {
        #expect(throws: EngineError.self) { try Balancing.sigmas(relativeImprovements: values) }
    }
}
