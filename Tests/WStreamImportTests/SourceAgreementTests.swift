import Testing
import TestSupport
import WStreamFormat
import WStreamImport

/// The same weights read from GGUF and from Hugging Face safetensors must come out identical.
@Suite struct SourceAgreementTests {
    @Test func storiesGGUFAndHuggingFaceGiveTheSameConfigAndValues() throws {
        let gguf = try ModelImporter.importWeights(at: SharedModels.storiesGGUF)
        let hf = try ModelImporter.importWeights(at: SharedModels.storiesHF)
        var ggufConfig = gguf.config
        // llama.cpp's converter recorded a 128-token context for stories260K; config.json says 512.
        #expect(ggufConfig.contextLength == 128)
        #expect(hf.config.contextLength == 512)
        ggufConfig.contextLength = hf.config.contextLength
        #expect(ggufConfig == hf.config)
        try expectSameTensors(gguf.tensors, hf.tensors)
    }

    @Test func storiesConfigMatchesTheModelCard() throws {
        let config = try ModelImporter.importWeights(at: SharedModels.storiesHF).config
        #expect(config == ModelConfig(
            architecture: "llama", hiddenSize: 64, layerCount: 5, headCount: 8, kvHeadCount: 4, headDim: 8, ffnSize: 172,
            vocabSize: 512, contextLength: 512, normEps: 1e-5, ropeTheta: 10_000, tiedEmbeddings: true))
    }

    @Test func tinyLFM2GGUFAndHuggingFaceGiveTheSameConfigAndValues() throws {
        let gguf = try ModelImporter.importWeights(at: SharedModels.tinyLFM2GGUF)
        let hf = try ModelImporter.importWeights(at: SharedModels.tinyLFM2HF)
        #expect(gguf.config == hf.config)
        try expectSameTensors(gguf.tensors, hf.tensors)
    }

    @Test func tinyLFM2ConfigMatchesTheModelCard() throws {
        let config = try HuggingFaceModel.loadConfig(directory: SharedModels.tinyLFM2HF)
        #expect(config == ModelConfig(
            architecture: "lfm2", hiddenSize: 128, layerCount: 6, headCount: 4, kvHeadCount: 2, headDim: 32, ffnSize: 256,
            vocabSize: 50257, contextLength: 4096, normEps: 1e-5, ropeTheta: 1e6, tiedEmbeddings: true,
            blockKinds: [.shortConv, .shortConv, .attention, .shortConv, .attention, .shortConv], convKernelSize: 3))
    }

    @Test func tinyLFM2TensorsUseCanonicalNamesAndShapes() throws {
        let tensors = try HuggingFaceModel(directory: SharedModels.tinyLFM2HF).tensors
        let shapes = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.shape) })
        #expect(shapes[TensorName.outputNorm] == [128])
        #expect(shapes[TensorName.block(0, .convWeight)] == [128, 3])
        #expect(shapes[TensorName.block(0, .convInProjection)] == [384, 128])
        #expect(shapes[TensorName.block(2, .attentionQNorm)] == [32])
        #expect(shapes[TensorName.block(2, .attentionK)] == [64, 128])
        #expect(shapes[TensorName.block(0, .attentionQ)] == nil)
        #expect(shapes[TensorName.output] == nil)
        #expect(tensors.first?.name == TensorName.tokenEmbedding)
    }

    private func expectSameTensors(_ left: [any TensorSource], _ right: [any TensorSource]) throws {
        #expect(left.map(\.name) == right.map(\.name))
        for (a, b) in zip(left, right) {
            #expect(a.shape == b.shape, "\(a.name)")
            let (valuesA, valuesB) = (try readAll(a), try readAll(b))
            let differing = zip(valuesA, valuesB).filter { $0 != $1 }.count
            #expect(differing == 0, "\(a.name): \(differing) of \(valuesA.count) values differ")
        }
    }
}
