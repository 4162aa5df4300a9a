import WStreamFormat
import WStreamQuant

/// Llama (and Mistral): every block is pre-norm grouped-query attention with rotate-half RoPE, then a pre-norm
/// SwiGLU MLP.
///
/// ```
/// x[n, hidden] = embed(tokens)                                        (TransformerStack)
/// for each block:
///     x += o(attention(rope(q(norm(x))), rope(k(norm(x))), v(norm(x))))
///     x += down(silu(gate(norm(x))) ⊙ up(norm(x)))
/// logits = output(norm(x))                                            (TransformerStack)
/// ```
struct Llama: ModelFamily {
    static let architecture: Architecture = "llama"
    let config: ModelConfig
    let attention: Attention

    init(config: ModelConfig, file: String) throws {
        guard config.blockKinds.allSatisfy({ $0 == .attention }) else {
            throw ModelError.invalidConfiguration(file: file, detail: "a llama model has attention blocks only")
        }
        self.config = config
        attention = Attention(config: config)
    }

    func tensors(ofBlock layer: Int) -> [BlockTensor] {
        [.attentionNorm, .attentionQ, .attentionK, .attentionV, .attentionOutput, .ffnNorm, .ffnGate, .ffnUp, .ffnDown]
    }

    func cache(ofBlock layer: Int) -> BlockCache.Kind { .keyValue }

    func forward(block layer: Int, weights w: BlockWeights, batch: Batch, x: Activations, compute: Compute) throws {
        let n = batch.rowCount, hidden = config.hiddenSize, epsilon = config.normEps

        // Attention: x += o(attention(rope(q(norm x)), rope(k(norm x)), v(norm x)))
        RMSNorm.apply(x.residual, into: x.normed, weight: try w.vector(.attentionNorm), rows: n, width: hidden, epsilon: epsilon)
        compute.linear(stacked: [try w.matrix(.attentionQ), try w.matrix(.attentionK), try w.matrix(.attentionV)], x.normed,
                       rows: n, into: [x.queries, x.keys, x.values])         // [n, heads·headDim], [n, kvHeads·headDim] twice
        attention.attend(layer: layer, batch: batch, x: x, compute: compute)                            // → x.attended [n, heads·headDim]
        compute.linear(try w.matrix(.attentionOutput), x.attended, rows: n, into: x.mixed)
        VectorMath.add(x.residual, x.mixed, n * hidden)

        // MLP: x += down(silu(gate(norm x)) ⊙ up(norm x))
        RMSNorm.apply(x.residual, into: x.normed, weight: try w.vector(.ffnNorm), rows: n, width: hidden, epsilon: epsilon)
        try FeedForward.swiGLU(w, rows: n, x: x, compute: compute)                                      // → x.mixed [n, hidden]
        VectorMath.add(x.residual, x.mixed, n * hidden)
    }
}
