import Foundation
import Testing
import TestSupport
@testable import WStreamModel

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

    /// Attention takes one index per key-value head, or per query head when the pool has more threads than key-value
    /// heads (stories260K: 8 query heads over 4 key-value heads); either way every head sums alike, so the logits
    /// are the same to the bit at 1, 2 and 8 threads.
    @Test func attentionGivesTheSameLogitsAtAnyThreadCount() throws {
        let directory = TemporaryDirectory()
        let path = try ReferenceGenerationTests.packed(try SharedModels.storiesHF, bits: 32, in: directory)
        let ids = try ReferenceFile.load("stories260K/reference.json").cases[0].promptIds
        func logits(threads: Int) throws -> [[UInt32]] {
            let model = try LanguageModel(path: path, options: .init(contextLength: 64, budget: nil, threads: threads))
            return try ids.map { Array(try model.feed([$0])).map(\.bitPattern) }
        }
        let one = try logits(threads: 1)
        #expect(try logits(threads: 2) == one)
        #expect(try logits(threads: 8) == one)
    }

    /// `scores` and `mix` against plain loops, for head sizes that take the 64-, 8-lane and scalar paths and row
    /// counts around the 4-row blocks, in both element types, each head reading only its own part of each row.
    @Test(arguments: [false, true])
    func scoresAndMixMatchPlainLoops(float16: Bool) {
        for (heads, headDim) in [(2, 72), (3, 5), (1, 137)] {
            let width = heads * headDim, rows = 11
            let cache = KVCache(capacity: rows + 2, heads: heads, headDim: headDim, float16: float16)
            defer { cache.deallocate() }
            var stored: [[Float]] = []
            for r in 0..<rows {
                let row = (0..<width).map { Float(Float16(sin(Float(r * width + $0) * 0.37))) }
                row.withUnsafeBufferPointer { cache.store(row: r, from: $0.baseAddress!) }
                stored.append(row)
            }
            let q = (0..<headDim).map { cos(Float($0) * 0.21) }
            for head in 0..<heads {
                let offset = head * headDim
                for visible in [1, 3, 4, 5, 8, 11] {
                    var scores = [Float](repeating: .nan, count: visible)
                    cache.scores(q, queryHeads: 1, rows: visible, head: head, scale: 0.5, into: &scores, scoreStride: visible)
                    var out = [Float](repeating: .nan, count: headDim)
                    cache.mix(scores, weightStride: visible, queryHeads: 1, rows: visible, head: head, into: &out)
                    for j in 0..<visible {
                        let expected = (0..<headDim).reduce(Float(0)) { $0 + q[$1] * stored[j][offset + $1] } * 0.5
                        #expect(abs(scores[j] - expected) <= 1e-4 * max(1, abs(expected)), "score \(j) of \(visible), head \(head) of \(heads)×\(headDim)")
                    }
                    for i in 0..<headDim {
                        let expected = (0..<visible).reduce(Float(0)) { $0 + scores[$1] * stored[$1][offset + i] }
                        #expect(abs(out[i] - expected) <= 1e-4 * max(1, abs(expected)), "element \(i) of \(visible) rows, head \(head) of \(heads)×\(headDim)")
                    }
                }
            }
        }
    }

    /// The query heads that share a key-value head, computed together (four at a time, the rest alone), give each
    /// head's scores and mix bit for bit as computed alone: head sizes on the 64-element, 8-element and scalar
    /// paths, odd and even row counts, and groups of 1 to 9 query heads.
    @Test(arguments: [false, true])
    func groupedQueryHeadsMatchEachHeadAlone(float16: Bool) {
        for (headDim, queryHeads) in [(64, 4), (64, 8), (72, 4), (5, 4), (128, 9), (64, 1), (20, 6)] {
            let rows = 13
            let cache = KVCache(capacity: rows, heads: 2, headDim: headDim, float16: float16)
            defer { cache.deallocate() }
            for r in 0..<rows {
                let row = (0..<(2 * headDim)).map { sin(Float(r * 2 * headDim + $0) * 0.37) }
                row.withUnsafeBufferPointer { cache.store(row: r, from: $0.baseAddress!) }
            }
            let q = (0..<(queryHeads * headDim)).map { cos(Float($0) * 0.21) }
            let stride = rows + 3
            for visible in [1, 2, 7, 12, 13] {
                var grouped = [Float](repeating: .nan, count: queryHeads * stride)
                cache.scores(q, queryHeads: queryHeads, rows: visible, head: 1, scale: 0.125, into: &grouped, scoreStride: stride)
                var out = [Float](repeating: .nan, count: queryHeads * headDim)
                cache.mix(grouped, weightStride: stride, queryHeads: queryHeads, rows: visible, head: 1, into: &out)
                for h in 0..<queryHeads {
                    var alone = [Float](repeating: .nan, count: visible)
                    q.withUnsafeBufferPointer {
                        cache.scores($0.baseAddress! + h * headDim, queryHeads: 1, rows: visible, head: 1, scale: 0.125, into: &alone,
                                     scoreStride: visible)
                    }
                    let label = "head \(h) of \(queryHeads), \(headDim) elements, \(visible) rows, float16 \(float16)"
                    #expect(grouped[(h * stride)..<(h * stride + visible)].map(\.bitPattern) == alone.map(\.bitPattern), "scores: \(label)")
                    #expect(grouped[h * stride + visible].isNaN, "scores past the visible rows: \(label)")
                    var mixed = [Float](repeating: .nan, count: headDim)
                    cache.mix(alone, weightStride: visible, queryHeads: 1, rows: visible, head: 1, into: &mixed)
                    #expect(out[(h * headDim)..<((h + 1) * headDim)].map(\.bitPattern) == mixed.map(\.bitPattern), "mix: \(label)")
                }
            }
        }
    }
}
