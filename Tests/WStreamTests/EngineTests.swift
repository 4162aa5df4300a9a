#if canImport(Glibc)
import Glibc
#endif
import Synchronization
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

    /// An engine on stories260K packed at `bits`, loaded with no budget.
    static func loadedStories(bits: Int, in directory: TemporaryDirectory) async throws -> Engine {
        let engine = try Engine(path: try packed(try SharedModels.storiesHF, bits: bits, in: directory))
        try await engine.load(budget: nil)
        return engine
    }

    /// How a test takes a generation's text: the stream of events, or the callback form (on the model's thread).
    enum Reading: CaseIterable { case stream, callback }

    /// Either form hands the text over in pieces that spell the result, which reproduces the reference.
    @Test(arguments: Reading.allCases)
    func piecesSpellTheResultAndReproduceTheReference(reading: Reading) async throws {
        let reference = try ReferenceFile.load("stories260K/reference.json").cases[0]
        let directory = TemporaryDirectory()
        let engine = try await Self.loadedStories(bits: 32, in: directory)
        var options = GenerationOptions()
        options.sampling = .greedy
        options.maxTokens = reference.generatedIds.count
        let pieces = Mutex<[String]>([])
        let result: GenerationResult
        switch reading {
        case .stream:
            var finished: GenerationResult?
            for try await event in engine.generate(prompt: reference.promptText, options: options) {
                switch event {
                case .text(let piece): pieces.withLock { $0.append(piece) }
                case .finished(let ending): finished = ending
                }
            }
            result = try #require(finished)
        case .callback:
            result = try await engine.generate(promptIds: reference.promptIds, options: options) { piece in
                pieces.withLock { $0.append(piece) }
            }
        }
        #expect(result.promptIds == reference.promptIds)
        #expect(result.generatedIds == reference.generatedIds)
        #expect(pieces.withLock { $0.count } > 1, "text should arrive in pieces")
        #expect(pieces.withLock { $0.joined() } == result.text)
        #expect(result.text == reference.continuationText)
    }

    /// Cancelling the task of the callback form ends the generation before its next forward pass.
    @Test func cancellingTheCallbackFormsTaskEndsTheGeneration() async throws {
        let directory = TemporaryDirectory()
        let engine = try await Self.loadedStories(bits: 4, in: directory)
        var options = GenerationOptions()
        options.maxTokens = 200
        options.sampling = .greedy
        let task = Mutex<Task<GenerationResult, any Error>?>(nil)
        let generation = Task {
            // The first piece cancels the task that waits for the result, from the model's thread (once the handle,
            // set right after the task is made, is there).
            try await engine.generate(promptIds: [1, 403, 407, 261, 378], options: options) { _ in
                while true {
                    if let handle = task.withLock({ $0 }) { return handle.cancel() }
                    usleep(100)
                }
            }
        }
        task.withLock { $0 = generation }
        let result = try await generation.value
        #expect(result.statistics.stopReason == .cancelled)
        #expect(result.generatedIds.count < 5, "\(result.generatedIds.count) tokens after the task was cancelled at the first")
    }

    /// A generation whose engine is not loaded fails with `EngineError.notLoaded` instead of returning.
    @Test func theCallbackFormThrowsWhatEndsTheGeneration() async throws {
        let directory = TemporaryDirectory()
        let engine = try Engine(path: try Self.packed(try SharedModels.storiesHF, bits: 4, in: directory))
        await #expect(throws: EngineError.notLoaded(path: engine.path)) {
            _ = try await engine.generate(promptIds: [1, 403], options: GenerationOptions()) { _ in }
        }
    }

    /// Breaking out of the loop ends the stream at once and leaves the engine ready for the next request.
    /// (Whether generation was still running then depends on timing: stories260K generates 200 tokens in
    /// milliseconds; `GenerationTests` pins the cancellation itself down deterministically.)
    @Test func breakingOutOfTheLoopEndsTheStreamAndTheEngineCarriesOn() async throws {
        let directory = TemporaryDirectory()
        let engine = try await Self.loadedStories(bits: 4, in: directory)
        var options = GenerationOptions()
        options.maxTokens = 200
        options.sampling.seed = 1
        var received = 0
        for try await _ in engine.generate(prompt: "Once upon a time", options: options) {
            received += 1
            if received == 3 { break }
        }
        options.maxTokens = 5
        var pieces = 0
        var finished: GenerationResult?
        for try await event in engine.generate(prompt: "Lily went", options: options) {
            switch event {
            case .text: pieces += 1
            case .finished(let result): finished = result
            }
        }
        #expect(try #require(finished).generatedIds.count == 5)
        #expect(pieces > 0)
    }

    @Test func chatMessagesAreRenderedWithTheModelsTemplate() async throws {
        let directory = TemporaryDirectory()
        let model = directory.file("lfm2-tiny")
        try SyntheticModel.write(shape: try SyntheticShape.named("lfm2-tiny"), to: model, seed: 3, shards: 1)
        let engine = try Engine(path: try Self.packed(model, bits: 4, in: directory))
        try await engine.load(budget: nil)
        var options = GenerationOptions()
        options.maxTokens = 4
        options.sampling = .greedy
        var finished: GenerationResult?
        for try await event in try engine.generate(messages: [ChatMessage(role: "user", content: "hello there")], options: options) {
            if case .finished(let result) = event { finished = result }
        }
        let ids = try #require(finished).promptIds
        let start = engine.tokenizer.encode("<|im_start|>", addSpecialTokens: false, parseSpecialTokens: true)
        #expect(start.count == 1, "<|im_start|> is one special token")
        #expect(ids.filter { $0 == start[0] }.count == 2, "a user turn and the generation prompt: \(ids)")
    }

    @Test func aBudgetBelowTheMinimumIsRefusedWhenLoadingWithTheMinimum() async throws {
        let directory = TemporaryDirectory()
        let engine = try Engine(path: try Self.packed(try SharedModels.storiesHF, bits: 4, in: directory))
        #expect(engine.minimumBytes > 0 && engine.fullyResidentBytes > engine.minimumBytes)
        await #expect(throws: RuntimeError.budgetTooSmall(budget: 1 << 10, minimum: engine.minimumBytes,
                                                          breakdown: "\(engine.path) at \(engine.contextLength) positions for 1 sequence(s)")) {
            try await engine.load(allowance: 1 << 10)
        }
        #expect(engine.memory.state == .unloaded)
        await #expect(throws: EngineError.notLoaded(path: engine.path)) {
            for try await _ in engine.generate(prompt: "Once") {}
        }
    }

    /// Loading with an allowance reports its pool and KV cache; unloading frees them, and a later load with a
    /// smaller allowance keeps fewer regions resident.
    @Test func loadUnloadAndReplanReportTheirMemory() async throws {
        let directory = TemporaryDirectory()
        var configuration = Engine.Configuration()
        configuration.contextLength = 256
        configuration.parallel = 2
        let engine = try Engine(path: try Self.packed(try SharedModels.tinyLFM2HF, bits: 4, in: directory), configuration: configuration)
        try await engine.load(allowance: engine.fullyResidentBytes)
        let full = engine.memory
        #expect(full.state == .loaded && full.allowanceBytes == engine.fullyResidentBytes)
        #expect(full.kvBytes > 0 && full.poolBytes > 0)
        try await engine.load(allowance: engine.minimumBytes)
        #expect(engine.memory.poolBytes < full.poolBytes, "the minimum keeps one streaming slot, not every weight")
        var options = GenerationOptions()
        options.maxTokens = 3
        var tokens = 0
        for try await event in engine.generate(prompt: "Hello", options: options) {
            if case .finished(let result) = event { tokens = result.generatedIds.count }
        }
        #expect(tokens == 3)
        await engine.unload()
        #expect(engine.memory == .unloaded)
    }
}
