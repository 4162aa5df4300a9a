import Testing
import TestSupport
import WStreamFuzzing

/// The generated seeds are valid inputs that go all the way through their target (imported, built, generated
/// with): fuzzing starts deep in the code under test, not at its first check.
@Suite struct GeneratedSeedTests {
    @Test func ggufSeedsImportTokenizeAndPack() throws {
        try expectAllAccepted(GGUFTarget())
    }

    @Test func safetensorsSeedsImportAndPack() throws {
        try expectAllAccepted(SafetensorsTarget())
    }

    @Test func tokenizerSeedsLoadAndEncode() throws {
        try expectAllAccepted(TokenizerTarget())
    }

    @Test func frameSeedsDecode() throws {
        try expectAllAccepted(FrameTarget())
    }

    @Test func containerSeedsOpenAndGenerate() throws {
        let target = try ContainerTarget(sharedModels: try SharedModels.path(""))
        let seeds = try target.seeds(sharedModels: nil)
        // The seeds that change nothing, one per base, open and generate; the others exercise the checks.
        for seed in seeds where seed.bytes.count == 1 {
            #expect(throws: Never.self, "seed \(seed.name)") { try target.run(seed.bytes) }
        }
        #expect(throws: (any Error).self) { try target.run(seeds.first { $0.name == "storiesQ4-group-16" }!.bytes) }
    }

    private func expectAllAccepted(_ target: some FuzzTarget) throws {
        let seeds = try target.seeds(sharedModels: nil)
        #expect(!seeds.isEmpty)
        for seed in seeds {
            #expect(throws: Never.self, "seed \(seed.name)") { try target.run(seed.bytes) }
        }
    }
}
