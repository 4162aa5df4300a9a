import Testing
import TestSupport
import WStream
import WStreamImport
import WStreamPack
import WStreamSynth

/// The embedding API: what a server sees.
@Suite(.serialized) struct EngineTests {
    static func packed(_ source: String, bits: Int, in directory: TemporaryDirectory) throws -> String {
        var options = PackOptions()
        options.bits = bits
        let path = directory.file("model.wst")
        try Packer.pack(try ModelImporter.importModel(at: source), to: path, options: options)
        return path
    }

    @Test func streamedPiecesSpellTheResultAndReproduceTheReference() async throws {
        let reference = try ReferenceFile.load("stories260K/reference.json").cases[0]
        let directory = TemporaryDirectory()
        let engine = try Engine(path: try Self.packed(try SharedModels.storiesHF, bits: 32, in: directory))
        var options = GenerationOptions()
        options.sampling = .greedy
        options.maxTokens = reference.generatedIds.count
        var pieces: [String] = []
        for try await piece in engine.generate(prompt: reference.promptText, options: options) { pieces.append(piece) }
        let result = try #require(engine.lastResult)
        #expect(result.promptIds == reference.promptIds)
        #expect(result.generatedIds == reference.generatedIds)
        #expect(pieces.count > 1, "text should arrive in pieces")
        #expect(pieces.joined() == result.text)
        #expect(result.text == reference.continuationText)
    }

    /// Breaking out of the loop ends the stream at once and leaves the engine ready for the next request.
    /// (Whether generation was still running then depends on timing: stories260K generates 200 tokens in
    /// milliseconds; `GenerationTests` pins the cancellation itself down deterministically.)
    @Test func breakingOutOfTheLoopEndsTheStreamAndTheEngineCarriesOn() async throws {
        let directory = TemporaryDirectory()
        let engine = try Engine(path: try Self.packed(try SharedModels.storiesHF, bits: 4, in: directory))
        var options = GenerationOptions()
        options.maxTokens = 200
        options.sampling.seed = 1
        var received = 0
        for try await _ in engine.generate(prompt: "Once upon a time", options: options) {
            received += 1
            if received == 3 { break }
        }
        let first = try #require(engine.lastResult)
        #expect(first.statistics.stopReason == .cancelled || first.statistics.stopReason == .maxTokens)
        options.maxTokens = 5
        var pieces = 0
        for try await _ in engine.generate(prompt: "Lily went", options: options) { pieces += 1 }
        #expect(try #require(engine.lastResult).generatedIds.count == 5)
        #expect(pieces > 0)
    }

    @Test func chatMessagesAreRenderedWithTheModelsTemplate() async throws {
        let directory = TemporaryDirectory()
        let model = directory.file("lfm2-tiny")
        try SyntheticModel.write(shape: try SyntheticShape.named("lfm2-tiny"), to: model, seed: 3, shards: 1)
        let engine = try Engine(path: try Self.packed(model, bits: 4, in: directory))
        var options = GenerationOptions()
        options.maxTokens = 4
        options.sampling = .greedy
        for try await _ in try engine.generate(messages: [ChatMessage(role: "user", content: "hello there")], options: options) {}
        let ids = try #require(engine.lastResult).promptIds
        let start = engine.tokenizer.encode("<|im_start|>", addSpecialTokens: false, parseSpecialTokens: true)
        #expect(start.count == 1, "<|im_start|> is one special token")
        #expect(ids.filter { $0 == start[0] }.count == 2, "a user turn and the generation prompt: \(ids)")
    }

    @Test func aBudgetBelowTheMinimumIsRefusedWithTheMinimum() async throws {
        let directory = TemporaryDirectory()
        let engine = try Engine(path: try Self.packed(try SharedModels.storiesHF, bits: 4, in: directory),
                                budget: MemoryBudget(bytes: 1 << 20))
        await #expect(throws: RuntimeError.self) {
            for try await _ in engine.generate(prompt: "Once") {}
        }
    }
}
