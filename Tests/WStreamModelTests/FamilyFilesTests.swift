#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import WStreamFormat
@testable import WStreamImport
@testable import WStreamModel

/// Every model family is two files: its forward pass (`WStreamModel/Families/X.swift`) and its checkpoint names
/// (`WStreamImport/Families/XCheckpoint.swift`), registered by the build from those folders.
@Suite struct FamilyFilesTests {
    /// A small configuration of `architecture` with the given block kinds.
    static func config(_ architecture: Architecture, _ kinds: [BlockKind]) -> ModelConfig {
        ModelConfig(architecture: architecture, hiddenSize: 64, layerCount: kinds.count, headCount: 4, kvHeadCount: 2,
                    headDim: 16, ffnSize: 128, vocabSize: 100, contextLength: 64, normEps: 1e-5, ropeTheta: 10_000,
                    tiedEmbeddings: true, blockKinds: kinds, convKernelSize: 3)
    }

    @Test func everyFamilyHasItsModelFileAndItsCheckpointFile() throws {
        let modelFamilies = ModelFamilies.all
        #expect(modelFamilies.count >= 2, "the build registered \(modelFamilies.count) families")
        for family in modelFamilies {
            let name = String(describing: family)
            let modelFile = SharedModels.repositoryRoot + "/Sources/WStreamModel/Families/\(name).swift"
            let checkpointFile = SharedModels.repositoryRoot + "/Sources/WStreamImport/Families/\(name)Checkpoint.swift"
            #expect(access(modelFile, F_OK) == 0, "\(modelFile) is missing")
            #expect(access(checkpointFile, F_OK) == 0, "\(checkpointFile) is missing")
            let checkpoint = CheckpointFamilies.all.first { String(describing: $0) == name + "Checkpoint" }
            #expect(checkpoint?.architecture == family.architecture, "\(name) and its checkpoint name different architectures")
        }
        #expect(Set(CheckpointFamilies.all.map { $0.architecture }) == Set(modelFamilies.map { $0.architecture }))
    }

    /// The importer writes exactly the tensors the forward pass reads, for every kind of block a family accepts.
    @Test func importerAndModelAgreeOnEachBlocksTensors() throws {
        for family in ModelFamilies.all {
            let checkpoint = try #require(CheckpointFamilies.all.first { $0.architecture == family.architecture })
            var acceptedLayouts = 0
            for kinds in [[BlockKind.attention, .attention], [.attention, .shortConv]] {
                let config = Self.config(family.architecture, kinds)
                guard let model = try? family.init(config: config, file: "test") else { continue }
                acceptedLayouts += 1
                for (layer, kind) in kinds.enumerated() {
                    #expect(model.tensors(ofBlock: layer) == checkpoint.blockTensors(kind, config: config),
                            "\(family.architecture) block \(layer) (\(kind))")
                }
            }
            #expect(acceptedLayouts > 0, "\(family.architecture) accepted no block layout")
        }
    }

    @Test func anArchitectureNoFamilyRunsIsRefusedByName() {
        #expect(throws: ModelError.unsupportedArchitecture(file: "m.wst", architecture: "gpt2", supported: ModelFamilies.all.map { $0.architecture.rawValue }.sorted())) {
            _ = try ModelFamilies.family(for: Self.config("gpt2", [.attention]), file: "m.wst")
        }
    }
}
