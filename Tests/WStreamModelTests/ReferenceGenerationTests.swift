import Testing
import TestSupport
import WStreamImport
import WStreamModel
import WStreamPack
import WStreamQuant

/// Exactness against independent implementations: float32 packs must reproduce their greedy ids.
@Suite(.serialized) struct ReferenceGenerationTests {
    static func packed(_ source: String, bits: Int, headBits: Int? = nil, parameters: GroupParameters = .rowScaled,
                       in directory: TemporaryDirectory) throws -> String {
        var options = PackOptions()
        options.bits = bits
        options.headBits = headBits
        options.groupParameters = parameters
        let path = directory.file("model-\(bits)-\(headBits.map(String.init) ?? "default")-\(parameters).wst")
        try Packer.pack(try ModelImporter.importModel(at: source), to: path, options: options)
        return path
    }

    static func greedyIds(model path: String, prompt: String, count: Int, expectedPromptIds: [Int]) throws -> [Int] {
        let model = try LanguageModel(path: path, options: .init(contextLength: 256, budget: nil, threads: 2))
        let promptIds = model.tokenizer.encode(prompt)
        #expect(promptIds == expectedPromptIds, "prompt tokenisation differs")
        var options = GenerationOptions()
        options.maxTokens = count
        options.sampling = .greedy
        return try model.generate(promptIds: expectedPromptIds, options: options).generatedIds
    }

    @Test(arguments: ["hf", "gguf"])
    func stories260KFloat32MatchesLlama2c(input: String) throws {
        let reference = try ReferenceFile.load("stories260K/reference.json")
        let directory = TemporaryDirectory()
        let source = input == "hf" ? try SharedModels.storiesHF : try SharedModels.storiesGGUF
        let path = try Self.packed(source, bits: 32, in: directory)
        for item in reference.cases {
            let ids = try Self.greedyIds(model: path, prompt: item.promptText, count: item.generatedIds.count, expectedPromptIds: item.promptIds)
            #expect(ids == item.generatedIds)
        }
    }

    @Test(arguments: ["hf", "gguf"])
    func tinyLFM2Float32MatchesLlamaCpp(input: String) throws {
        let reference = try ReferenceFile.load("tiny-lfm2/reference.json")
        let directory = TemporaryDirectory()
        let source = input == "hf" ? try SharedModels.tinyLFM2HF : try SharedModels.tinyLFM2GGUF
        let path = try Self.packed(source, bits: 32, in: directory)
        for item in reference.cases {
            let ids = try Self.greedyIds(model: path, prompt: item.promptText, count: item.generatedIds.count, expectedPromptIds: item.promptIds)
            #expect(ids == item.generatedIds)
        }
    }

    @Test(arguments: ["hf", "gguf"])
    func tinyQwen3Float32MatchesLlamaCpp(input: String) throws {
        let reference = try ReferenceFile.load("tiny-qwen3/reference.json")
        let directory = TemporaryDirectory()
        let source = try SharedModels.path(input == "hf" ? "tiny-qwen3/hf" : "tiny-qwen3/tiny-qwen3.gguf")
        let path = try Self.packed(source, bits: 32, in: directory)
        for item in reference.cases {
            let ids = try Self.greedyIds(model: path, prompt: item.promptText, count: item.generatedIds.count, expectedPromptIds: item.promptIds)
            #expect(ids == item.generatedIds)
        }
    }

    @Test func stories260KLogitsMatchRunC() throws {
        let reference = try ReferenceFile.load("stories260K/reference.json").cases[0]
        let bytes = try FileContents.read(try SharedModels.path("stories260K/logits-once-upon-a-time.f32"))
        let expected = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let directory = TemporaryDirectory()
        let path = try Self.packed(try SharedModels.storiesHF, bits: 32, in: directory)
        var options = LanguageModel.Options(contextLength: 128, budget: nil, threads: 2)
        options.logitsForEveryPosition = true
        let model = try LanguageModel(path: path, options: options)
        let rows = expected.count / 512
        #expect(rows == 65)
        let ids = Array((reference.promptIds + reference.generatedIds).prefix(rows))
        var worst: Float = 0
        var start = 0
        while start < ids.count {
            let end = min(start + model.chunkCapacity, ids.count)
            let logits = try model.feedReturningAllLogits(ids[start..<end])
            for i in 0..<((end - start) * 512) { worst = max(worst, abs(logits[i] - expected[start * 512 + i])) }
            start = end
        }
        #expect(worst < 1e-3, "largest logit difference \(worst)")
    }
}
