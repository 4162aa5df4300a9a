import WStreamFormat

/// Qwen3 checkpoints (`Qwen3ForCausalLM`; GGUF `qwen3`): Llama's names plus `q_norm`/`k_norm` per attention block.
/// llama.cpp's converter keeps Q and K rows in Hugging Face's rotate-half order for this family (it runs NeoX RoPE).
enum Qwen3Checkpoint: CheckpointFamily {
    static let architecture: Architecture = "qwen3"
    static let huggingFaceModelTypes = ["qwen3"]
    static let huggingFaceClasses = ["Qwen3ForCausalLM": "qwen3"]
    static let ggufArchitectures = ["qwen3"]
    static let ggufPermutesQueryKeyRows = false
    static let huggingFaceGlobalNames = standardGlobalNames

    static func config(from file: HFConfigFile, modelType: String) throws -> ModelConfig {
        var config = try file.standardConfig(architecture: architecture)
        config.ffnSize = try file.required("intermediate_size", \.int)
        if try file.optional("attention_bias", \.bool) == true {
            throw ImportError.unsupported(file: file.path, detail: "attention_bias true (Qwen3 has no q/k/v biases)")
        }
        // A sliding window attends to a limited past; wstream attends to all of it.
        if try file.optional("use_sliding_window", \.bool) == true {
            throw ImportError.unsupported(file: file.path, detail: "use_sliding_window true")
        }
        return config
    }

    static func config(from gguf: GGUFFile, prefix: String) throws -> ModelConfig {
        try gguf.standardConfig(prefix: prefix, architecture: architecture)
    }

    static func blockTensors(_ kind: BlockKind, config: ModelConfig) -> [BlockTensor] {
        [.attentionNorm, .attentionQ, .attentionK, .attentionV, .attentionOutput, .attentionQNorm, .attentionKNorm,
         .ffnNorm, .ffnGate, .ffnUp, .ffnDown]
    }

    static func huggingFaceName(_ part: BlockTensor) -> String {
        switch part {
        case .attentionQNorm: "self_attn.q_norm.weight"
        case .attentionKNorm: "self_attn.k_norm.weight"
        default: LlamaCheckpoint.huggingFaceName(part)
        }
    }

    static func huggingFaceConfigMembers(_ config: ModelConfig) -> [(String, String)] {
        [
            ("architectures", "[\"Qwen3ForCausalLM\"]"), ("model_type", "\"qwen3\""),
            ("hidden_size", "\(config.hiddenSize)"), ("intermediate_size", "\(config.ffnSize)"),
            ("num_hidden_layers", "\(config.layerCount)"), ("num_attention_heads", "\(config.headCount)"),
            ("num_key_value_heads", "\(config.kvHeadCount)"), ("head_dim", "\(config.headDim)"),
            ("rms_norm_eps", "\(config.normEps)"), ("rope_theta", "\(config.ropeTheta)"),
            ("tie_word_embeddings", "\(config.tiedEmbeddings)"), ("attention_bias", "false"),
            ("use_sliding_window", "false"), ("hidden_act", "\"silu\""),
        ]
    }
}
