import WStreamFormat

/// Llama checkpoints (`LlamaForCausalLM`, and Mistral's, which name everything the same way), from Hugging Face
/// and from GGUF, where llama.cpp's converter interleaves each head's Q and K rows for adjacent-pair RoPE.
enum LlamaCheckpoint: CheckpointFamily {
    static let architecture: Architecture = "llama"
    static let huggingFaceModelTypes = ["llama", "mistral"]
    static let huggingFaceClasses = ["LlamaForCausalLM": "llama", "MistralForCausalLM": "mistral"]
    static let ggufArchitectures = ["llama", "mistral"]
    static let ggufPermutesQueryKeyRows = true
    static let huggingFaceGlobalNames = standardGlobalNames

    static func config(from file: HFConfigFile, modelType: String) throws -> ModelConfig {
        var config = try file.standardConfig(architecture: architecture)
        config.ffnSize = try file.required("intermediate_size", \.int)
        // Mistral's sliding window attends to a limited past; wstream attends to all of it, which is only the same
        // model while the context stays within the window.
        if let window = try file.optional("sliding_window", \.int), window < config.contextLength {
            throw ImportError.unsupported(file: file.path, detail: "sliding_window \(window) (shorter than the context of \(config.contextLength))")
        }
        return config
    }

    static func config(from gguf: GGUFFile, prefix: String) throws -> ModelConfig {
        try gguf.standardConfig(prefix: prefix, architecture: architecture)
    }

    static func blockTensors(_ kind: BlockKind, config: ModelConfig) -> [BlockTensor] {
        [.attentionNorm, .attentionQ, .attentionK, .attentionV, .attentionOutput, .ffnNorm, .ffnGate, .ffnUp, .ffnDown]
    }

    static func huggingFaceName(_ part: BlockTensor) -> String {
        switch part {
        case .attentionNorm: "input_layernorm.weight"
        case .attentionQ: "self_attn.q_proj.weight"
        case .attentionK: "self_attn.k_proj.weight"
        case .attentionV: "self_attn.v_proj.weight"
        case .attentionOutput: "self_attn.o_proj.weight"
        case .ffnNorm: "post_attention_layernorm.weight"
        case .ffnGate: "mlp.gate_proj.weight"
        case .ffnUp: "mlp.up_proj.weight"
        case .ffnDown: "mlp.down_proj.weight"
        default: part.rawValue
        }
    }

    static func huggingFaceConfigMembers(_ config: ModelConfig) -> [(String, String)] {
        [
            ("architectures", "[\"LlamaForCausalLM\"]"), ("model_type", "\"llama\""),
            ("hidden_size", "\(config.hiddenSize)"), ("intermediate_size", "\(config.ffnSize)"),
            ("num_hidden_layers", "\(config.layerCount)"), ("num_attention_heads", "\(config.headCount)"),
            ("num_key_value_heads", "\(config.kvHeadCount)"), ("head_dim", "\(config.headDim)"),
            ("rms_norm_eps", "\(config.normEps)"), ("rope_theta", "\(config.ropeTheta)"),
            ("tie_word_embeddings", "\(config.tiedEmbeddings)"), ("attention_bias", "false"),
            ("mlp_bias", "false"), ("hidden_act", "\"silu\""),
        ]
    }
}
