import Testing
import TestSupport
import WStreamModel
import WStreamQuant

/// 4-bit packs against the float32 pack of the same real model, teacher-forced on one text.
@Suite(.serialized) struct QuantizedAgreementTests {
    static let story = """
        Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her \
        friends. One day, she saw a big red ball under a tree. She wanted to play with it, but it was too high. \
        Lily asked her mom for help. Her mom smiled and said, "Let's get it together." They found a long stick \
        and pushed the ball down. Lily was very happy. She thanked her mom and gave her a big hug. Then Lily \
        and her friend Tom played with the ball all day. They ran and laughed in the sun. When it was time to go \
        home, Lily was tired but happy. She said, "Thank you, mom. This was the best day ever!" Her mom said, \
        "I love you, Lily." They walked home together and had a warm dinner. The end.
        """

    @Test func fourBitAgreesWithFloat32OnStories260K() throws {
        let directory = TemporaryDirectory()
        let exact = try ReferenceGenerationTests.packed(try SharedModels.storiesHF, bits: 32, in: directory)
        let quantized = try ReferenceGenerationTests.packed(try SharedModels.storiesHF, bits: 4, in: directory)
        var options = LanguageModel.Options(contextLength: 300, budget: nil, threads: 2)
        options.logitsForEveryPosition = true
        let reference = try LanguageModel(path: exact, options: options)
        let model = try LanguageModel(path: quantized, options: options)
        let tokens = Array(model.tokenizer.encode(Self.story).prefix(257))
        #expect(tokens.count == 257, "the story should give at least 256 scored positions")
        let result = try Evaluation.run(model: model, reference: reference, tokens: tokens)
        print("stories260K q4 g32 vs f32: top-1 \(result.topOneAgreement!), mean KL \(result.meanKLDivergence!), ppl \(result.perplexity)")
        #expect(result.tokens == 256)
        // 0.898 with the default row-scaled parameters (0.914 with fp16 ones): this text's near-ties; see below.
        #expect(result.topOneAgreement! >= 0.89)

        // Quality does not pay for speed: the int8 activations (the default) against the float32 ones on the same weights.
        var float32Options = options
        float32Options.activationPrecision = .float32
        let float32 = try Evaluation.run(model: try LanguageModel(path: quantized, options: float32Options), reference: reference, tokens: tokens)
        print("stories260K q4 g32, float32 activations, vs f32: top-1 \(float32.topOneAgreement!), mean KL \(float32.meanKLDivergence!)")
        #expect(result.topOneAgreement! >= float32.topOneAgreement! - 0.01)
        #expect(result.meanKLDivergence! <= float32.meanKLDivergence! * 1.1)

        let sameAgain = try LanguageModel(path: exact, options: options)
        let selfCheck = try Evaluation.run(model: sameAgain, reference: reference, tokens: tokens)
        #expect(selfCheck.topOneAgreement == 1)
        #expect(abs(selfCheck.meanKLDivergence!) < 1e-9)
    }

    /// Fewer bytes do not cost quality: the default row-scaled group parameters against fp16 ones on the same
    /// model, over six stories the float32 model writes itself (seeded, about 2,900 scored tokens; one 256-token
    /// text moves top-1 by several near-ties either way). Measured: top-1 89.6 % against 87.8 %, mean KL 0.050
    /// against 0.060 nats.
    @Test func rowScaledParametersAreNoWorseThanFloat16Ones() throws {
        let directory = TemporaryDirectory()
        let exact = try ReferenceGenerationTests.packed(try SharedModels.storiesHF, bits: 32, in: directory)
        let rowScaled = try ReferenceGenerationTests.packed(try SharedModels.storiesHF, bits: 4, in: directory)
        let float16 = try ReferenceGenerationTests.packed(try SharedModels.storiesHF, bits: 4, parameters: .float16, in: directory)
        var options = LanguageModel.Options(contextLength: 512, budget: nil, threads: 2)
        options.logitsForEveryPosition = true
        let reference = try LanguageModel(path: exact, options: options)
        var compact = (klTotal: 0.0, agreeing: 0.0, tokens: 0), wide = compact
        for seed in 1...6 {
            var generation = GenerationOptions()
            generation.maxTokens = 480
            generation.sampling.temperature = 1
            generation.sampling.seed = UInt64(seed)
            let story = try reference.generate(promptIds: reference.tokenizer.encode("Once upon a time"), options: generation)
            let tokens = Array((reference.tokenizer.encode("Once upon a time") + story.generatedIds).prefix(500))
            for path in [rowScaled, float16] {
                let result = try Evaluation.run(model: try LanguageModel(path: path, options: options), reference: reference, tokens: tokens)
                let sums = (result.meanKLDivergence! * Double(result.tokens), result.topOneAgreement! * Double(result.tokens), result.tokens)
                if path == rowScaled {
                    compact = (compact.klTotal + sums.0, compact.agreeing + sums.1, compact.tokens + sums.2)
                } else {
                    wide = (wide.klTotal + sums.0, wide.agreeing + sums.1, wide.tokens + sums.2)
                }
            }
        }
        let compactKL = compact.klTotal / Double(compact.tokens), wideKL = wide.klTotal / Double(wide.tokens)
        let compactTop = compact.agreeing / Double(compact.tokens), wideTop = wide.agreeing / Double(wide.tokens)
        print("stories260K q4 g32 over \(compact.tokens) generated tokens: row-scaled top-1 \(compactTop), mean KL \(compactKL); fp16 parameters top-1 \(wideTop), mean KL \(wideKL)")
        #expect(compact.tokens > 2000)
        #expect(compactKL <= wideKL)
        #expect(compactTop >= wideTop - 0.002)
    }
}
