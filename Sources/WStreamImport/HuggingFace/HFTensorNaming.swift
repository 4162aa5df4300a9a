import WStreamFormat

/// Hugging Face tensor names ↔ canonical names, for one architecture.
public struct HFTensorNaming: Sendable {
    public let architecture: Architecture

    public init(architecture: Architecture) { self.architecture = architecture }

    private var globals: [(hf: String, canonical: String)] {
        [
            ("model.embed_tokens.weight", TensorName.tokenEmbedding),
            // LFM2's `embedding_norm` is applied after the last block despite its name: it is the final norm.
            (architecture == .lfm2 ? "model.embedding_norm.weight" : "model.norm.weight", TensorName.outputNorm),
            ("lm_head.weight", TensorName.output),
        ]
    }

    /// Per-block names after `model.layers.N.`.
    private var blockParts: [(hf: String, part: BlockTensor)] {
        switch architecture {
        case .llama:
            return [
                ("input_layernorm.weight", .attentionNorm), ("self_attn.q_proj.weight", .attentionQ),
                ("self_attn.k_proj.weight", .attentionK), ("self_attn.v_proj.weight", .attentionV),
                ("self_attn.o_proj.weight", .attentionOutput), ("self_attn.q_proj.bias", .attentionQBias),
                ("self_attn.k_proj.bias", .attentionKBias), ("self_attn.v_proj.bias", .attentionVBias),
                ("post_attention_layernorm.weight", .ffnNorm), ("mlp.gate_proj.weight", .ffnGate),
                ("mlp.up_proj.weight", .ffnUp), ("mlp.down_proj.weight", .ffnDown),
            ]
        case .lfm2:
            return [
                ("operator_norm.weight", .attentionNorm), ("self_attn.q_proj.weight", .attentionQ),
                ("self_attn.k_proj.weight", .attentionK), ("self_attn.v_proj.weight", .attentionV),
                ("self_attn.out_proj.weight", .attentionOutput), ("self_attn.q_layernorm.weight", .attentionQNorm),
                ("self_attn.k_layernorm.weight", .attentionKNorm), ("conv.in_proj.weight", .convInProjection),
                ("conv.conv.weight", .convWeight), ("conv.out_proj.weight", .convOutProjection),
                ("ffn_norm.weight", .ffnNorm), ("feed_forward.w1.weight", .ffnGate),
                ("feed_forward.w3.weight", .ffnUp), ("feed_forward.w2.weight", .ffnDown),
            ]
        }
    }

    /// The canonical name of a Hugging Face tensor, or nil when it has none.
    public func canonicalName(_ hfName: String) -> String? {
        if let global = globals.first(where: { $0.hf == hfName }) { return global.canonical }
        let prefix = "model.layers."
        guard hfName.hasPrefix(prefix) else { return nil }
        let rest = hfName.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]), layer >= 0 else { return nil }
        let suffix = rest[rest.index(after: dot)...]
        guard let part = blockParts.first(where: { $0.hf == suffix })?.part else { return nil }
        return TensorName.block(layer, part)
    }

    /// The Hugging Face name of a canonical tensor (for error messages, and for writing Hugging Face files).
    public func sourceName(_ canonical: String) -> String {
        if let global = globals.first(where: { $0.canonical == canonical }) { return global.hf }
        let prefix = "blk."
        guard canonical.hasPrefix(prefix) else { return canonical }
        let rest = canonical.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."),
            let part = blockParts.first(where: { $0.part.rawValue == rest[rest.index(after: dot)...] })
        else { return canonical }
        return "model.layers.\(rest[..<dot]).\(part.hf)"
    }
}
