#if canImport(Glibc)
import Glibc
#endif
import WStreamFormat
import WStreamQuant

/// Grouped-query self-attention with RoPE, optional q/k/v biases (Qwen2) and per-head q/k RMSNorm (LFM2).
struct Attention {
    let config: ModelConfig
    let rope: RotaryEmbedding

    init(config: ModelConfig) {
        self.config = config
        rope = RotaryEmbedding(headDim: config.headDim, theta: config.ropeTheta, factors: config.ropeFrequencyFactors)
    }

    /// Attends `count` tokens at positions `state.position …` to themselves and the cached past,
    /// reading `a.normed` and writing the projected result to `a.blockOutput`.
    func forward(layer: Int, weights: RegionWeights, count: Int, state: InferenceState, scratch a: Activations, pool: ComputePool) throws {
        let headDim = config.headDim
        let heads = config.headCount
        let kvHeads = config.kvHeadCount
        let qWidth = heads * headDim
        let kvWidth = kvHeads * headDim

        Linear.apply(try weights.matrix(TensorName.block(layer, .attentionQ)), a.normed, count: count, a.queries, pool: pool)
        Linear.apply(try weights.matrix(TensorName.block(layer, .attentionK)), a.normed, count: count, a.keys, pool: pool)
        Linear.apply(try weights.matrix(TensorName.block(layer, .attentionV)), a.normed, count: count, a.values, pool: pool)
        for (part, buffer, width) in [(BlockTensor.attentionQBias, a.queries, qWidth), (.attentionKBias, a.keys, kvWidth), (.attentionVBias, a.values, kvWidth)] {
            guard let bias = try weights.optionalVector(TensorName.block(layer, part)) else { continue }
            for t in 0..<count { VectorMath.add(buffer + t * width, bias, width) }
        }
        if let qNorm = try weights.optionalVector(TensorName.block(layer, .attentionQNorm)) {
            RMSNorm.apply(a.queries, a.queries, weight: qNorm, width: headDim, count: count * heads, epsilon: config.normEps)
        }
        if let kNorm = try weights.optionalVector(TensorName.block(layer, .attentionKNorm)) {
            RMSNorm.apply(a.keys, a.keys, weight: kNorm, width: headDim, count: count * kvHeads, epsilon: config.normEps)
        }

        let keyCache = state.keys[layer]!
        let valueCache = state.values[layer]!
        for t in 0..<count {
            let position = state.position + t
            rope.apply(a.queries + t * qWidth, headCount: heads, position: position)
            rope.apply(a.keys + t * kvWidth, headCount: kvHeads, position: position)
            keyCache.store(row: position, from: a.keys + t * kvWidth)
            valueCache.store(row: position, from: a.values + t * kvWidth)
        }

        let scale = 1 / sqrtf(Float(headDim))
        let group = heads / kvHeads
        let context = state.capacity
        let buffers = SendablePointers(a: a, keyCache: keyCache, valueCache: valueCache)
        for t in 0..<count {
            let visible = state.position + t + 1
            pool.parallelFor(heads) { head in
                let q = buffers.queries + t * qWidth + head * headDim
                let kvOffset = (head / group) * headDim
                let scores = buffers.scores + head * context
                for j in 0..<visible {
                    scores[j] = buffers.keyCache.dot(q, row: j, offset: kvOffset, count: headDim) * scale
                }
                VectorMath.softmax(scores, visible)
                let out = buffers.attention + t * qWidth + head * headDim
                out.update(repeating: 0, count: headDim)
                for j in 0..<visible {
                    buffers.valueCache.addScaled(into: out, row: j, offset: kvOffset, scale: scores[j], count: headDim)
                }
            }
        }
        Linear.apply(try weights.matrix(TensorName.block(layer, .attentionOutput)), a.attention, count: count, a.blockOutput, pool: pool)
    }
}

/// Raw buffers handed to the pool's worker threads; each worker writes disjoint heads.
private struct SendablePointers: @unchecked Sendable {
    let queries: UnsafeMutablePointer<Float>
    let scores: UnsafeMutablePointer<Float>
    let attention: UnsafeMutablePointer<Float>
    let keyCache: KVRows
    let valueCache: KVRows

    init(a: Activations, keyCache: KVRows, valueCache: KVRows) {
        queries = a.queries
        scores = a.scores
        attention = a.attention
        self.keyCache = keyCache
        self.valueCache = valueCache
    }
}
