import Testing
import TestSupport
import WStreamModel

/// A float16 KV cache halves the cache's memory and must leave the model's predictions intact.
@Suite(.serialized) struct KVCacheTests {
    @Test func float16CacheGivesTheFloat32CachesPredictions() throws {
        let directory = TemporaryDirectory()
        let path = try ReferenceGenerationTests.packed(try SharedModels.storiesHF, bits: 32, in: directory)
        let reference = try ReferenceFile.load("stories260K/reference.json").cases[0]
        let ids = reference.promptIds + reference.generatedIds
        func logits(float16: Bool) throws -> [[Float]] {
            var options = LanguageModel.Options(contextLength: 128, budget: nil, threads: 2)
            options.float16Cache = float16
            let model = try LanguageModel(path: path, options: options)
            return try ids.map { Array(try model.feed([$0])) }
        }
        let exact = try logits(float16: false)
        let halved = try logits(float16: true)
        var worst: Float = 0
        for (a, b) in zip(exact, halved) {
            worst = max(worst, zip(a, b).map { abs($0 - $1) }.max()!)
            #expect(a.indices.max { a[$0] < a[$1] } == b.indices.max { b[$0] < b[$1] }, "the most likely token changed")
        }
        #expect(worst > 0, "a float16 cache should round somewhere")
        #expect(worst < 0.05, "largest logit difference \(worst)")
    }
}
