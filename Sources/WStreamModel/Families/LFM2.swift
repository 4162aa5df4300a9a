import WStreamFormat
import WStreamQuant

/// Liquid AI's LFM2: a stack in which most blocks mix positions with a gated short convolution instead of
/// attention; its attention blocks normalise each query and key head (RMSNorm) before RoPE. Every block ends with
/// a SwiGLU MLP. `ModelConfig.blockKinds` says which block is which.
///
/// ```
/// conv block:       x += out_proj(C ⊙ causal_depthwise_conv(B ⊙ v))  where B, C, v = split(in_proj(norm(x)))
/// attention block:  x += o(attention(rope(qnorm(q(norm(x)))), rope(knorm(k(norm(x)))), v(norm(x))))
/// every block:      x += down(silu(gate(norm(x))) ⊙ up(norm(x)))
/// ```
struct LFM2: ModelFamily {
    static let architecture: Architecture = "lfm2"
    let config: ModelConfig
    let attention: Attention

    init(config: ModelConfig, file: String) throws {
        guard !config.blockKinds.contains(.shortConv) || config.convKernelSize >= 1 else {
            throw ModelError.invalidConfiguration(file: file, detail: "convolution kernel of \(config.convKernelSize) taps")
        }
        self.config = config
        attention = Attention(config: config)
    }

    func tensors(ofBlock layer: Int) -> [BlockTensor] {
        let mixer: [BlockTensor] = switch config.blockKinds[layer] {
        case .attention: [.attentionQ, .attentionK, .attentionV, .attentionOutput, .attentionQNorm, .attentionKNorm]
        case .shortConv: [.convInProjection, .convWeight, .convOutProjection]
        }
        return [.attentionNorm] + mixer + [.ffnNorm, .ffnGate, .ffnUp, .ffnDown]
    }

    func cache(ofBlock layer: Int) -> BlockCache.Kind {
        switch config.blockKinds[layer] {
        case .attention: .keyValue
        case .shortConv: .convolution
        }
    }

    func forward(block layer: Int, weights w: BlockWeights, batch: Batch, x: Activations, compute: Compute) throws {
        let n = batch.rowCount, hidden = config.hiddenSize, epsilon = config.normEps
        RMSNorm.apply(x.residual, into: x.normed, weight: try w.vector(.attentionNorm), rows: n, width: hidden, epsilon: epsilon)
        switch config.blockKinds[layer] {
        case .shortConv:
            // x += out_proj(C ⊙ conv(B ⊙ v)), with B, C, v = in_proj(norm x)
            compute.linear(try w.matrix(.convInProjection), x.normed, rows: n, into: x.wide)   // [n, 3·hidden]
            try ShortConvolution.apply(layer: layer, taps: w.vector(.convWeight), batch: batch, x: x, config: config)  // → x.attended [n, hidden]
            compute.linear(try w.matrix(.convOutProjection), x.attended, rows: n, into: x.mixed)
        case .attention:
            // x += o(attention(rope(qnorm(q(norm x))), rope(knorm(k(norm x))), v(norm x)))
            compute.linear(stacked: [try w.matrix(.attentionQ), try w.matrix(.attentionK), try w.matrix(.attentionV)], x.normed,
                           rows: n, into: [x.queries, x.keys, x.values])         // [n, heads·headDim], [n, kvHeads·headDim] twice
            RMSNorm.apply(x.queries, into: x.queries, weight: try w.vector(.attentionQNorm), rows: n * config.headCount,
                          width: config.headDim, epsilon: epsilon)
            RMSNorm.apply(x.keys, into: x.keys, weight: try w.vector(.attentionKNorm), rows: n * config.kvHeadCount,
                          width: config.headDim, epsilon: epsilon)
            attention.attend(layer: layer, batch: batch, x: x, compute: compute)                            // → x.attended
            compute.linear(try w.matrix(.attentionOutput), x.attended, rows: n, into: x.mixed)
        }
        VectorMath.add(x.residual, x.mixed, n * hidden)

        // MLP: x += down(silu(gate(norm x)) ⊙ up(norm x))
        RMSNorm.apply(x.residual, into: x.normed, weight: try w.vector(.ffnNorm), rows: n, width: hidden, epsilon: epsilon)
        try FeedForward.swiGLU(w, rows: n, x: x, compute: compute)
        VectorMath.add(x.residual, x.mixed, n * hidden)
    }
}
