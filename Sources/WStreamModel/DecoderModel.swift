import WStreamFormat
import WStreamQuant
import WStreamRuntime

/// The forward pass shared by every supported architecture, one chunk of tokens at a time.
///
/// Each block's unit is acquired from the streamer just before use and released right after,
/// so a streamed block is decoded once per chunk (not once per token) during prefill. The head may be
/// cut into several units (row ranges of the output matrix); each computes its slice of the logits.
final class DecoderModel {
    let config: ModelConfig
    let file: String
    let streamer: LayerStreamer
    let pool: ComputePool
    let activations: Activations
    private let embedding: EmbeddingTable
    private let attention: Attention
    /// Streamer unit of each block, and the units of the head (final norm, then the output matrix's rows).
    private let blockUnits: [Int]
    private let headUnits: [Int]
    /// `output.weight`, or the token table when embeddings are tied.
    private let outputMatrix: String

    init(config: ModelConfig, file: String, reader: ContainerReader, streamer: LayerStreamer, pool: ComputePool,
         activations: Activations, blockUnits: [Int], headUnits: [Int]) throws {
        self.config = config
        self.file = file
        self.streamer = streamer
        self.pool = pool
        self.activations = activations
        self.blockUnits = blockUnits
        self.headUnits = headUnits
        attention = Attention(config: config)
        guard let table = reader.tensor(named: TensorName.tokenEmbedding) else {
            throw ModelError.missingTensor(file: file, tensor: TensorName.tokenEmbedding)
        }
        embedding = EmbeddingTable(reader: reader, entry: table)
        outputMatrix = reader.tensor(named: TensorName.output) != nil ? TensorName.output : TensorName.tokenEmbedding
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

        for (layer, region) in blockUnits.enumerated() {
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

        let rows = allLogits ? count : 1
        let last = allLogits ? a.residual : a.residual + (count - 1) * hidden
        let vocabulary = config.vocabSize
        for unit in headUnits {
            let head = RegionWeights(region: try streamer.acquire(unit), file: file)
            defer { streamer.release(unit) }
            if let norm = try head.optionalVector(TensorName.outputNorm) {
                RMSNorm.apply(last, a.normed, weight: norm, width: hidden, count: rows, epsilon: config.normEps)
            }
            guard let slice = head.rows(of: outputMatrix) else { continue }
            let matrix = try head.matrix(outputMatrix)
            if slice.count == vocabulary {
                Linear.apply(matrix, a.normed, count: rows, a.logits, pool: pool)
            } else {
                // A part of the head: its logits go to their columns of each row.
                for row in 0..<rows {
                    MatrixKernels.matvec(matrix, a.normed + row * hidden, a.logits + row * vocabulary + slice.lowerBound, pool: pool)
                }
            }
        }
        return a.logits
    }
}
