import Testing
import TestSupport
import WStreamModel

/// The generation loop's stopping rules, on the real stories260K weights.
@Suite(.serialized) struct GenerationTests {
    let directory = TemporaryDirectory()
    let model: LanguageModel
    /// "Once upon a time" with BOS, as reference.json gives it.
    let once = [1, 403, 407, 261, 378]

    init() throws {
        let path = try ReferenceGenerationTests.packed(try SharedModels.storiesHF, bits: 32, in: directory)
        model = try LanguageModel(path: path, options: .init(contextLength: 256, budget: nil, threads: 2))
    }

    /// Greedy decoding of at most `maxTokens`.
    func greedy(_ maxTokens: Int) -> GenerationOptions {
        var options = GenerationOptions()
        options.maxTokens = maxTokens
        options.sampling = .greedy
        return options
    }

    @Test func aConsumerThatStopsListeningCancelsGeneration() throws {
        let options = greedy(100)
        var pieces = 0
        let result = try model.generate(promptIds: once, options: options) { _ in
            pieces += 1
            return pieces < 3
        }
        #expect(result.statistics.stopReason == .cancelled)
        #expect(pieces == 3)
        #expect(result.generatedIds.count < 10)
    }

    @Test func aCancelledGenerationStopsBeforeThePromptIsFed() throws {
        let cancellation = GenerationCancellation()
        cancellation.cancel()
        let prompt = Array(repeating: 403, count: 3 * model.chunkCapacity)
        let result = try model.generate(promptIds: prompt, options: GenerationOptions(), cancellation: cancellation)
        #expect(result.statistics.stopReason == .cancelled)
        #expect(result.generatedIds.isEmpty)
        #expect(model.position == 0, "a cancelled prompt leaves nothing in the cache")
    }

    @Test func theFirstGeneratedWordKeepsItsLeadingSpace() throws {
        let options = greedy(3)
        // "Once upon a time, there was a little girl" continues with " named Lily".
        let prompt = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421]
        let result = try model.generate(promptIds: prompt, options: options)
        #expect(result.text.hasPrefix(" named"), "\(result.text)")
    }

    @Test func anEmptyPromptIsAnErrorAndTheModelCarriesOn() throws {
        #expect(throws: ModelError.emptyPrompt) { try model.generate(promptIds: [], options: GenerationOptions()) }
        #expect(throws: ModelError.tokenOutOfRange(id: 9999, vocabularySize: 512)) {
            try model.generate(promptIds: [1, 9999], options: GenerationOptions())
        }
        let options = greedy(4)
        #expect(try model.generate(promptIds: once, options: options).generatedIds == [432, 383, 286, 261])
    }

    @Test func theDecodeRateCountsForwardPassesNotTokens() throws {
        let result = try model.generate(promptIds: once, options: greedy(6))
        let s = result.statistics
        #expect(s.generatedTokens == 6)
        // The first token comes with the prompt's pass; the last one sampled is never fed.
        #expect(s.decodeSteps == 5)
        #expect(model.position == once.count + s.decodeSteps)
        #expect(s.decodeSeconds > 0)
        #expect(s.decodeTokensPerSecond == 5 / s.decodeSeconds)
    }

    @Test func aStopStringEndsTheTextBeforeIt() throws {
        var options = greedy(64)
        options.stopStrings = ["Lily"]
        let result = try model.generate(promptIds: once, options: options)
        #expect(result.statistics.stopReason == .stopString)
        #expect(result.text == ", there was a little girl named ")
    }

    @Test func aNextTurnContinuingTheCacheMatchesStartingOver() throws {
        let options = greedy(8)
        let first = try model.generate(promptIds: once, options: options)
        // Prompt + generated minus the last sampled token (never fed) is what the cache holds.
        let held = first.promptIds + first.generatedIds.dropLast()
        #expect(model.position == held.count)
        let next = held + [first.generatedIds.last!, 13]
        let second = try model.generate(promptIds: next, options: options)
        #expect(second.generatedIds.count == 8)
        // Same as starting over from scratch.
        model.reset()
        let fresh = try model.generate(promptIds: next, options: options)
        #expect(fresh.generatedIds == second.generatedIds)
    }
}
