import WStreamFormat

/// Liquid AI's LFM2: a Llama-like stack in which most blocks mix positions with a gated short
/// convolution (`ShortConvolution`) instead of attention; the attention blocks normalise each
/// query and key head (RMSNorm) before RoPE. Every block ends with a SwiGLU MLP.
///
/// ```
/// conv block:       B, C, v = split(in_proj(norm(x)))          // each [n, hidden]
///                   x += out_proj(C ⊙ causal_depthwise_conv(B ⊙ v))
/// attention block:  x += attn_output(attention(rope(qnorm(q(norm(x)))), rope(knorm(k(norm(x)))), v(norm(x))))
/// every block:      x += ffn_down(silu(ffn_gate(norm(x))) ⊙ ffn_up(norm(x)))
/// ```
enum LFM2: ArchitectureDefinition {
    static func requiredTensors(layer: Int, kind: BlockKind) -> [BlockTensor] {
        let mlp: [BlockTensor] = [.attentionNorm, .ffnNorm, .ffnGate, .ffnUp, .ffnDown]
        switch kind {
        case .attention:
            return mlp + [.attentionQ, .attentionK, .attentionV, .attentionOutput, .attentionQNorm, .attentionKNorm]
        case .shortConv:
            return mlp + [.convInProjection, .convWeight, .convOutProjection]
        }
    }
}
