#if canImport(Glibc)
import Glibc
#endif
import WStreamFormat
import WStreamQuant

/// Grouped-query causal self-attention with rotate-half RoPE, over each sequence's KV cache.
///
/// The projections (and any per-head norms) are the family's to apply; this is the part between them.
struct Attention {
    let config: ModelConfig
    let rope: RotaryEmbedding

    init(config: ModelConfig) {
        self.config = config
        rope = RotaryEmbedding(headDim: config.headDim, theta: config.ropeTheta, factors: config.ropeFrequencyFactors)
    }

    /// Rotates `x.queries` and `x.keys` (one row per batch row) to their positions, appends each row's key and value
    /// to its sequence's cache, and writes `softmax(q·kᵀ/√headDim)·v` of every query head to `x.attended`,
    /// each row attending to its own sequence up to its own position.
    func attend(layer: Int, batch: Batch, x: Activations, compute: Compute) {
        let headDim = config.headDim
        let heads = config.headCount
        let kvHeads = config.kvHeadCount
        let qWidth = heads * headDim
        let kvWidth = kvHeads * headDim
        var rows: [AttentionRow] = []
        rows.reserveCapacity(batch.rowCount)
        for segment in batch.segments {
            let (keyCache, valueCache) = segment.sequence.keyValue(layer)
            for (offset, row) in segment.rows.enumerated() {
                let position = segment.firstPosition + offset
                rope.apply(x.queries + row * qWidth, headCount: heads, position: position)
                rope.apply(x.keys + row * kvWidth, headCount: kvHeads, position: position)
                keyCache.store(row: position, from: x.keys + row * kvWidth)
                valueCache.store(row: position, from: x.values + row * kvWidth)
                rows.append(AttentionRow(row: row, visible: position + 1, keys: keyCache, values: valueCache))
            }
        }

        let scale = 1 / sqrtf(Float(headDim))
        let group = heads / kvHeads
        let buffers = AttentionBuffers(queries: x.queries, scores: x.scores, attended: x.attended, scoresPerHead: x.scoreCapacity)
        rows.withUnsafeBufferPointer { rows in
            let rows = SendableRows(rows: rows)
            // The query heads that share a key-value head run on one thread and read each of its cached rows once
            // between them (`KVCache.scores(_:queryHeads:…)`), so that the rows come from memory once (they are
            // evicted by each token's weights); unless that would leave threads without work, when each query head
            // is an index of its own.
            let headsPerIndex = kvHeads >= compute.pool.threadCount ? group : 1
            compute.pool.parallelFor(heads / headsPerIndex) { index in
                let head = index * headsPerIndex, kvHead = head / group
                let scores = buffers.scores + head * buffers.scoresPerHead
                for item in rows.rows {
                    let q = buffers.queries + item.row * qWidth + head * headDim
                    item.keys.scores(q, queryHeads: headsPerIndex, rows: item.visible, head: kvHead, scale: scale,
                                     into: scores, scoreStride: buffers.scoresPerHead)
                    for h in 0..<headsPerIndex { VectorMath.softmax(scores + h * buffers.scoresPerHead, item.visible) }
                    let out = buffers.attended + item.row * qWidth + head * headDim
                    item.values.mix(scores, weightStride: buffers.scoresPerHead, queryHeads: headsPerIndex, rows: item.visible,
                                    head: kvHead, into: out)
                }
            }
        }
    }
}

/// One query row of a batch: where it is in the activations, how much of its sequence it sees, and that
/// sequence's cache.
private struct AttentionRow {
    let row: Int
    let visible: Int
    let keys: KVCache
    let values: KVCache
}

/// Raw buffers handed to the pool's worker threads; each worker writes the columns of disjoint heads.
private struct AttentionBuffers: @unchecked Sendable {
    let queries: UnsafeMutablePointer<Float>
    let scores: UnsafeMutablePointer<Float>
    let attended: UnsafeMutablePointer<Float>
    let scoresPerHead: Int
}

/// The rows, read (never written) by every worker while `attend` waits for them.
private struct SendableRows: @unchecked Sendable {
    let rows: UnsafeBufferPointer<AttentionRow>
}
