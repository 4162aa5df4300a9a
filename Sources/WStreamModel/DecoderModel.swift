import WStreamFormat
import WStreamQuant
import WStreamRuntime

/// The forward pass shared by every supported architecture, one chunk of tokens at a time.
///
/// Each block's region is acquired from the streamer just before use and released right after,
/// so a streamed block is decoded once per chunk (not once per token) during prefill.
final class DecoderModel {
    let config: ModelConfig
    let file: String
    let streamer: LayerStreamer
    let pool: ComputePool
    let activations: Activations
    private let embedding: EmbeddingTable
    private let attention: Attention
    /// Region index of each block, and of the head (final norm + output matrix).
    private let blockRegions: [Int]
    private let headRegion: Int

    init(config: ModelConfig, file: String, reader: ContainerReader, streamer: LayerStreamer, pool: ComputePool,
         activations: Activations, blockRegions: [Int], headRegion: Int) throws {
        self.config = config
        self.file = file
        self.streamer = streamer
        self.pool = pool
        self.activations = activations
        self.blockRegions = blockRegions
        self.headRegion = headRegion
        attention = Attention(config: config)
        guard let table = reader.tensor(named: TensorName.tokenEmbedding) else {
            throw ModelError.missingTensor(file: file, tensor: TensorName.tokenEmbedding)
        }
        embedding = EmbeddingTable(reader: reader, entry: table, residentRegion: streamer.residentRegion(table.region))
    }

    /// Runs `tokens` (at most `activations.chunkCapacity`) at the state's next positions.
    /// - Parameter allLogits: compute logits for every token of the chunk (evaluation) instead of the last only.
    /// - Returns: logits, `[tokens.count][vocab]` when `allLogits`, else `[vocab]` for the last token.
    func forward(_ tokens: ArraySlice<Int>, state: InferenceState, allLogits: Bool = false) throws -> UnsafeMutablePointer<Float> {
        let count = tokens.count
        precondition(count > 0 && count <= activations.chunkCapacity, "chunk of \(count) tokens")
        guard state.position + count <= state.capacity else { throw ModelError.contextFull(capacity: state.capacity) }
        let a = activations
        let hidden = config.hiddenSize
        try embedding.lookup(tokens, into: a.residual)

        for (layer, region) in blockRegions.enumerated() {
            let weights = RegionWeights(region: try streamer.acquire(region), file: file)
            defer { streamer.release(region) }
            RMSNorm.apply(a.residual, a.normed, weight: try weights.vector(TensorName.block(layer, .attentionNorm)),
                          width: hidden, count: count, epsilon: config.normEps)
            switch config.blockKinds[layer] {
            case .attention:
                try attention.forward(layer: layer, weights: weights, count: count, state: state, scratch: a, pool: pool)
            case .shortConv:
                try ShortConvolution.forward(layer: layer, weights: weights, config: config, count: count, state: state, scratch: a, pool: pool)
            }
            VectorMath.add(a.residual, a.blockOutput, count * hidden)
            RMSNorm.apply(a.residual, a.normed, weight: try weights.vector(TensorName.block(layer, .ffnNorm)),
                          width: hidden, count: count, epsilon: config.normEps)
            try FeedForward.forward(layer: layer, weights: weights, config: config, count: count, scratch: a, pool: pool)
            VectorMath.add(a.residual, a.blockOutput, count * hidden)
        }
        state.advance(by: count)

        let head = RegionWeights(region: try streamer.acquire(headRegion), file: file)
        defer { streamer.release(headRegion) }
        let rows = allLogits ? count : 1
        let first = allLogits ? a.residual : a.residual + (count - 1) * hidden
        RMSNorm.apply(first, a.normed, weight: try head.vector(TensorName.outputNorm), width: hidden, count: rows, epsilon: config.normEps)
        let output = head.region.tensor(TensorName.output) != nil ? TensorName.output : TensorName.tokenEmbedding
        Linear.apply(try head.matrix(output), a.normed, count: rows, a.logits, pool: pool)
        return a.logits
    }
}
