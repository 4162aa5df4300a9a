import Synchronization
import Testing
import TestSupport
import WStreamModel

/// Several generations in one batch: each forward pass serves all of them, and each comes out as it would alone.
@Suite(.serialized) struct GenerationBatchTests {
    let directory = TemporaryDirectory()

    /// Runs `prompts` together on a model with as many sequences, greedily, and returns each one's result.
    static func together(_ model: LanguageModel, _ prompts: [[Int]], maxTokens: Int) throws -> [GenerationResult] {
        let results = Mutex<[Int: Result<GenerationResult, any Error>]>([:])
        var options = GenerationOptions()
        options.maxTokens = maxTokens
        options.sampling = .greedy
        for (index, prompt) in prompts.enumerated() {
            let started = model.generations.start(GenerationRequest(
                promptIds: prompt, options: options, onText: { _ in true },
                onFinish: { ending in results.withLock { $0[index] = ending } }))
            #expect(started, "sequence \(index) should be free")
        }
        while model.generations.activeCount > 0 { model.generations.step() }
        return try results.withLock { results in try prompts.indices.map { try results[$0]!.get() } }
    }

    @Test(arguments: ["stories260K/hf", "tiny-lfm2/hf", "tiny-qwen3/hf"])
    func greedyIdsInABatchEqualThoseAlone(source: String) throws {
        let path = try ReferenceGenerationTests.packed(try SharedModels.path(source), bits: 4, in: directory)
        var options = LanguageModel.Options(contextLength: 128, budget: nil, threads: 2)
        options.sequences = 5
        let batched = try LanguageModel(path: path, options: options)
        let vocabulary = batched.config.vocabSize
        // Prompts of different lengths, so that prefill chunks and decode rows share forward passes.
        let prompts = (0..<5).map { index in (0..<(3 + 7 * index)).map { (($0 + 1) * 37 + index * 101) % vocabulary } }
        let results = try Self.together(batched, prompts, maxTokens: 20)
        let alone = try LanguageModel(path: path, options: .init(contextLength: 128, budget: nil, threads: 2))
        for (prompt, result) in zip(prompts, results) {
            var options = GenerationOptions()
            options.maxTokens = 20
            options.sampling = .greedy
            let single = try alone.generate(promptIds: prompt, options: options)
            #expect(result.generatedIds == single.generatedIds, "prompt of \(prompt.count) tokens")
            #expect(result.generatedIds.count == 20 || result.statistics.stopReason == .endOfSequence)
        }
    }

    @Test func aRequestBeyondTheFreeSequencesWaitsAndAnInvalidOneFailsAlone() throws {
        let path = try ReferenceGenerationTests.packed(try SharedModels.storiesHF, bits: 4, in: directory)
        var options = LanguageModel.Options(contextLength: 64, budget: nil, threads: 2)
        options.sequences = 2
        let model = try LanguageModel(path: path, options: options)
        let failures = Mutex<[any Error]>([])
        var generation = GenerationOptions()
        generation.maxTokens = 4
        func request(_ prompt: [Int]) -> GenerationRequest {
            GenerationRequest(promptIds: prompt, options: generation, onText: { _ in true }, onFinish: { ending in
                if case .failure(let error) = ending { failures.withLock { $0.append(error) } }
            })
        }
        #expect(model.generations.start(request([1, 9999])), "an invalid request finishes at once, taking no sequence")
        #expect(failures.withLock { $0.count } == 1)
        #expect(model.generations.start(request([1, 403])))
        #expect(model.generations.start(request([1, 407])))
        #expect(!model.generations.start(request([1, 261])), "both sequences are busy")
        while model.generations.activeCount > 0 { model.generations.step() }
        #expect(model.generations.start(request([1, 261])))
        while model.generations.activeCount > 0 { model.generations.step() }
        #expect(failures.withLock { $0.count } == 1)
    }
}
