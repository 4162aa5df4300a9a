import WStreamFormat

/// Scratch buffers for one forward pass over a chunk of up to `chunkCapacity` tokens,
/// allocated once (their size counts toward the memory budget's minimum working set).
final class Activations {
    let chunkCapacity: Int
    /// Rows of logits computed at once: 1 when generating, `chunkCapacity` when evaluating.
    let logitRows: Int
    /// The residual stream `[chunk][hidden]`.
    let residual: UnsafeMutablePointer<Float>
    /// A normalised copy of the residual `[chunk][hidden]`.
    let normed: UnsafeMutablePointer<Float>
    /// Mixer and MLP outputs before they join the residual `[chunk][hidden]`.
    let blockOutput: UnsafeMutablePointer<Float>
    let queries: UnsafeMutablePointer<Float>
    let keys: UnsafeMutablePointer<Float>
    let values: UnsafeMutablePointer<Float>
    let attention: UnsafeMutablePointer<Float>
    /// `[chunk][max(ffn, 3·hidden)]`: the MLP gate, or LFM2's B·C·x projection.
    let wide: UnsafeMutablePointer<Float>
    /// `[chunk][ffn]`: the MLP up projection.
    let wide2: UnsafeMutablePointer<Float>
    /// Attention scores `[heads][context]`.
    let scores: UnsafeMutablePointer<Float>
    /// `[logitRows][vocab]`.
    let logits: UnsafeMutablePointer<Float>
    private let all: [UnsafeMutablePointer<Float>]

    /// Float counts of each buffer, in declaration order.
    private static func sizes(config c: ModelConfig, chunk: Int, logitRows: Int, context: Int) -> [Int] {
        let q = c.headCount * c.headDim
        let kv = c.kvHeadCount * c.headDim
        return [chunk * c.hiddenSize, chunk * c.hiddenSize, chunk * c.hiddenSize, chunk * q, chunk * kv, chunk * kv,
                chunk * max(q, c.hiddenSize), chunk * max(c.ffnSize, 3 * c.hiddenSize), chunk * c.ffnSize, c.headCount * context,
                logitRows * c.vocabSize]
    }

    static func byteCount(config: ModelConfig, chunk: Int, logitRows: Int, context: Int) -> Int {
        sizes(config: config, chunk: chunk, logitRows: logitRows, context: context).reduce(0, +) * 4
    }

    init(config: ModelConfig, chunk: Int, logitRows: Int, context: Int) {
        chunkCapacity = chunk
        self.logitRows = logitRows
        all = Self.sizes(config: config, chunk: chunk, logitRows: logitRows, context: context).map {
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max($0, 1))
            buffer.initialize(repeating: 0, count: max($0, 1))
            return buffer
        }
        (residual, normed, blockOutput, queries, keys, values, attention, wide, wide2, scores, logits) =
            (all[0], all[1], all[2], all[3], all[4], all[5], all[6], all[7], all[8], all[9], all[10])
    }

    deinit {
        for buffer in all { buffer.deallocate() }
    }
}
