import WStreamFormat
import WStreamQuant

/// Qwen3: Llama's block with an RMSNorm over each query and key head (one weight vector of `headDim` shared by
/// every head) between the projections and RoPE, and no biases.
///
/// ```
/// x[n, hidden] = embed(tokens)                                        (TransformerStack)
/// for each block:
///     x += o(attention(rope(qnorm(q(norm(x)))), rope(knorm(k(norm(x)))), v(norm(x))))
///     x += down(silu(gate(norm(x))) ⊙ up(norm(x)))
/// logits = output(norm(x))                                            (TransformerStack)
/// ```
struct Qwen3: ModelFamily {
    static let architecture: Architecture = "qwen3"
    let config: ModelConfig
    let attention: Attention

    init(config: ModelConfig, file: String) throws {
        guard config.blockKinds.allSatisfy({ $0 == .attention }) else {
            throw ModelError.invalidConfiguration(file: file, detail: "a qwen3 model has attention blocks only")
        }
        self.config = config
        attention = Attention(config: config)
    }

    func tensors(ofBlock layer: Int) -> [BlockTensor] {
        [.attentionNorm, .attentionQ, .attentionK, .attentionV, .attentionOutput, .attentionQNorm, .attentionKNorm,
         .ffnNorm, .ffnGate, .ffnUp, .ffnDown]
    }

    func cache(ofBlock layer: Int) -> BlockCache.Kind { .keyValue }

    func forward(block layer: Int, weights w: BlockWeights, batch: Batch, x: Activations, compute: Compute) throws {
        let n = batch.rowCount, hidden = config.hiddenSize, headDim = config.headDim, epsilon = config.normEps

        // Attention: x += o(attention(rope(qnorm(q(norm x))), rope(knorm(k(norm x))), v(norm x)))
        RMSNorm.apply(x.residual, into: x.normed, weight: try w.vector(.attentionNorm), rows: n, width: hidden, epsilon: epsilon)
        compute.linear(stacked: [try w.matrix(.attentionQ), try w.matrix(.attentionK), try w.matrix(.attentionV)], x.normed,
                       rows: n, into: [x.queries, x.keys, x.values])         // [n, heads·headDim], [n, kvHeads·headDim] twice
        RMSNorm.apply(x.queries, into: x.queries, weight: try w.vector(.attentionQNorm), rows: n * config.headCount,
                      width: headDim, epsilon: epsilon)                                           // each head of q
        RMSNorm.apply(x.keys, into: x.keys, weight: try w.vector(.attentionKNorm), rows: n * config.kvHeadCount,
                      width: headDim, epsilon: epsilon)                                           // each head of k
        attention.attend(layer: layer, batch: batch, x: x, compute: compute)                            // → x.attended [n, heads·headDim]
        compute.linear(try w.matrix(.attentionOutput), x.attended, rows: n, into: x.mixed)
        VectorMath.add(x.residual, x.mixed, n * hidden)

        // MLP: x += down(silu(gate(norm x)) ⊙ up(norm x))
        RMSNorm.apply(x.residual, into: x.normed, weight: try w.vector(.ffnNorm), rows: n, width: hidden, epsilon: epsilon)
        try FeedForward.swiGLU(w, rows: n, x: x, compute: compute)                                      // → x.mixed [n, hidden]
        VectorMath.add(x.residual, x.mixed, n * hidden)
    }
}
