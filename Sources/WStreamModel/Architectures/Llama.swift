import WStreamFormat

/// Llama, Mistral and Qwen2: every block is pre-norm grouped-query attention (with optional q/k/v
/// biases) followed by a pre-norm SwiGLU MLP; a final RMSNorm and the (possibly tied) output head.
///
/// ```
/// x[n, hidden] = embed(tokens)
/// for each block:  x += attn_output(attention(rope(q(norm(x))), rope(k(norm(x))), v(norm(x))))
///                  x += ffn_down(silu(ffn_gate(norm(x))) ⊙ ffn_up(norm(x)))
/// logits[vocab] = output(norm(x[last]))
/// ```
enum Llama: ArchitectureDefinition {
    static func requiredTensors(layer: Int, kind: BlockKind) -> [BlockTensor] {
        [.attentionNorm, .attentionQ, .attentionK, .attentionV, .attentionOutput, .ffnNorm, .ffnGate, .ffnUp, .ffnDown]
    }
}
