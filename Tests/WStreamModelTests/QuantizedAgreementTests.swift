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
        // Top-1 within 4 of the 256 positions: this text's near-ties decide a few either way. The AVX2 kernels (whose
        // rounding differs from AVX-512's) agree on 229 where float32 activations agree on 232, with a mean KL only
        // 0.2 % higher (0.04119 against 0.04109); the KL bound is the tight one.
        #expect(result.topOneAgreement! >= float32.topOneAgreement! - 4.0 / 256)
        #expect(result.meanKLDivergence! <= float32.meanKLDivergence! * 1.1)

        let sameAgain = try LanguageModel(path: exact, options: options)
        let selfCheck = try Evaluation.run(model: sameAgain, reference: reference, tokens: tokens)
        #expect(selfCheck.topOneAgreement == 1)
        #expect(abs(selfCheck.meanKLDivergence!) < 1e-9)
    }

    /// Fewer bytes do not cost quality: the default row-scaled group parameters against fp16 ones on the same
    /// model, over six stories the float32 model writes itself (about 2,900 scored tokens; one 256-token text
    /// moves top-1 by several near-ties either way). Measured: top-1 89.0 % against 87.7 %, mean KL 0.052
    /// against 0.061 nats.
    @Test func rowScaledParametersAreNoWorseThanFloat16Ones() throws {
        let directory = TemporaryDirectory()
        let rowScaled = try ReferenceGenerationTests.packed(try SharedModels.storiesHF, bits: 4, in: directory)
        let float16 = try ReferenceGenerationTests.packed(try SharedModels.storiesHF, bits: 4, parameters: .float16, in: directory)
        let figures = try Self.agreementOverGeneratedStories([rowScaled, float16], in: directory)
        let (compact, wide) = (figures[0], figures[1])
        print("stories260K q4 g32 over \(compact.tokens) generated tokens: row-scaled top-1 \(compact.topOne), mean KL \(compact.kl); fp16 parameters top-1 \(wide.topOne), mean KL \(wide.kl)")
        #expect(compact.tokens > 2000)
        #expect(compact.kl <= wide.kl)
        #expect(compact.topOne >= wide.topOne - 0.002)
    }

    /// The default 6-bit head (llama.cpp keeps q6_K) costs little against an 8-bit one over the same generated
    /// stories (measured: mean KL 0.0515 against 0.0498 nats, top-1 89.0 % against 89.6 %), and the defaults
    /// together (row-scaled groups, 6-bit head) still beat the pack before either (fp16 parameters, 8-bit head:
    /// 0.0598 nats, 87.8 %) while decode reads 17 % fewer bytes per Llama-3.2-1B token.
    @Test func sixBitHeadAgreesAboutAsWellAsAnEightBitOne() throws {
        let directory = TemporaryDirectory()
        let six = try ReferenceGenerationTests.packed(try SharedModels.storiesHF, bits: 4, in: directory)
        let eight = try ReferenceGenerationTests.packed(try SharedModels.storiesHF, bits: 4, headBits: 8, in: directory)
        let before = try ReferenceGenerationTests.packed(try SharedModels.storiesHF, bits: 4, headBits: 8, parameters: .float16, in: directory)
        let figures = try Self.agreementOverGeneratedStories([six, eight, before], in: directory)
        let (narrow, wide, old) = (figures[0], figures[1], figures[2])
        print("stories260K q4 g32 over \(narrow.tokens) generated tokens: 6-bit head top-1 \(narrow.topOne), mean KL \(narrow.kl); 8-bit head top-1 \(wide.topOne), mean KL \(wide.kl); fp16 parameters and 8-bit head top-1 \(old.topOne), mean KL \(old.kl)")
        #expect(narrow.tokens > 2000)
        #expect(narrow.kl <= wide.kl * 1.05)
        #expect(narrow.topOne >= wide.topOne - 0.01)
        #expect(narrow.kl <= old.kl)
        #expect(narrow.topOne >= old.topOne)
    }

    /// Mean KL and top-1 agreement of packs of stories260K against its float32 pack, over six stories the
    /// float32 model writes itself (seeded, about 2,900 scored tokens).
    static func agreementOverGeneratedStories(_ paths: [String], in directory: TemporaryDirectory) throws
        -> [(kl: Double, topOne: Double, tokens: Int)] {
        let exact = try ReferenceGenerationTests.packed(try SharedModels.storiesHF, bits: 32, in: directory)
        var options = LanguageModel.Options(contextLength: 512, budget: nil, threads: 2)
        options.logitsForEveryPosition = true
        let reference = try LanguageModel(path: exact, options: options)
        var totals = [(kl: Double, agreeing: Double, tokens: Int)](repeating: (0, 0, 0), count: paths.count)
        for seed in 1...6 {
            var generation = GenerationOptions()
            generation.maxTokens = 480
            generation.sampling.temperature = 1
            generation.sampling.seed = UInt64(seed)
            let story = try reference.generate(promptIds: reference.tokenizer.encode("Once upon a time"), options: generation)
            let tokens = Array((reference.tokenizer.encode("Once upon a time") + story.generatedIds).prefix(500))
            for (index, path) in paths.enumerated() {
                let result = try Evaluation.run(model: try LanguageModel(path: path, options: options), reference: reference, tokens: tokens)
                totals[index].kl += result.meanKLDivergence! * Double(result.tokens)
                totals[index].agreeing += result.topOneAgreement! * Double(result.tokens)
                totals[index].tokens += result.tokens
            }
        }
        return totals.map { (kl: $0.kl / Double($0.tokens), topOne: $0.agreeing / Double($0.tokens), tokens: $0.tokens) }
    }
}
