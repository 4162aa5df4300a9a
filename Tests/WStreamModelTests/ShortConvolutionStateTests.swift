import Testing
import TestSupport
import WStreamModel

/// LFM2's convolution keeps a rolling state at decode time: feeding a prompt at once or token by token
/// (and chunked across boundaries) must give the same logits.
@Suite(.serialized) struct ShortConvolutionStateTests {
    @Test func chunkedAndTokenByTokenFeedingAgree() throws {
        let directory = TemporaryDirectory()
        let path = try ReferenceGenerationTests.packed(try SharedModels.tinyLFM2HF, bits: 32, in: directory)
        let tokens = [7454, 2402, 257, 640, 11, 612, 373, 257, 1310, 9379, 13]
        var chunked = LanguageModel.Options(contextLength: 64, budget: nil, threads: 2)
        chunked.chunkSize = 4
        // The logits buffer belongs to its model: keep each model alive while copying.
        let whole = try LanguageModel(path: path, options: .init(contextLength: 64, budget: nil, threads: 2))
        let atOnce = Array(try whole.feed(tokens))
        let chunkedModel = try LanguageModel(path: path, options: chunked)
        let inChunks = Array(try chunkedModel.feed(tokens))
        let single = try LanguageModel(path: path, options: .init(contextLength: 64, budget: nil, threads: 1))
        var stepwise: [Float] = []
        for token in tokens { stepwise = Array(try single.feed([token])) }
        #expect(atOnce.count == 50257)
        let differenceChunks = zip(atOnce, inChunks).map { abs($0 - $1) }.max()!
        let differenceSteps = zip(atOnce, stepwise).map { abs($0 - $1) }.max()!
        #expect(differenceChunks < 1e-4, "chunked feeding differs by \(differenceChunks)")
        #expect(differenceSteps < 1e-4, "token-by-token feeding differs by \(differenceSteps)")
    }
}
