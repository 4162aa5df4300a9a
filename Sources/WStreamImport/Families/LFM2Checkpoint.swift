import WStreamFormat

/// LFM2 checkpoints (`Lfm2ForCausalLM`): blocks are short convolutions or attention as `layer_types` (or the older
/// `full_attn_idxs`) says; GGUF marks convolution blocks with a KV head count of 0. The final norm is called
/// `embedding_norm` (GGUF: `token_embd_norm`) although it follows the last block.
enum LFM2Checkpoint: CheckpointFamily {
    static let architecture: Architecture = "lfm2"
    static let huggingFaceModelTypes = ["lfm2"]
    static let huggingFaceClasses = ["Lfm2ForCausalLM": "lfm2"]
    static let ggufArchitectures = ["lfm2"]
    static let ggufPermutesQueryKeyRows = false
    static let huggingFaceGlobalNames = standardGlobalNames.merging([TensorName.outputNorm: "model.embedding_norm.weight"]) { $1 }
    static let ggufRenames = ["token_embd_norm.weight": TensorName.outputNorm]

    static func config(from file: HFConfigFile, modelType: String) throws -> ModelConfig {
        var config = try file.standardConfig(architecture: architecture, epsilonKey: "norm_eps")
        config.ffnSize = try ffnSize(file)
        config.tiedEmbeddings = try file.optional("tie_word_embeddings", \.bool) ?? file.optional("tie_embedding", \.bool) ?? true
        config.blockKinds = try blockKinds(file, layerCount: config.layerCount)
        config.convKernelSize = try file.required("conv_L_cache", \.int)
        return config
    }

    static func config(from gguf: GGUFFile, prefix: String) throws -> ModelConfig {
        let layerCount = try gguf.int("\(prefix).block_count")
        let keyValueHeads = try gguf.perLayer("\(prefix).attention.head_count_kv", layerCount: layerCount)
        guard let kvHeadCount = keyValueHeads.max(), kvHeadCount > 0, Set(keyValueHeads.filter { $0 != 0 }).count == 1 else {
            throw ImportError.unsupported(file: gguf.path, detail: "\(prefix).attention.head_count_kv \(keyValueHeads): per-layer KV head counts must agree")
        }
        var config = try gguf.standardConfig(prefix: prefix, architecture: architecture, kvHeadCount: kvHeadCount)
        config.blockKinds = keyValueHeads.map { $0 == 0 ? .shortConv : .attention }
        config.convKernelSize = try gguf.int("\(prefix).shortconv.l_cache")
        return config
    }

    static func blockTensors(_ kind: BlockKind, config: ModelConfig) -> [BlockTensor] {
        let mixer: [BlockTensor] = switch kind {
        case .attention: [.attentionQ, .attentionK, .attentionV, .attentionOutput, .attentionQNorm, .attentionKNorm]
        case .shortConv: [.convInProjection, .convWeight, .convOutProjection]
        }
        return [.attentionNorm] + mixer + [.ffnNorm, .ffnGate, .ffnUp, .ffnDown]
    }

    static func huggingFaceName(_ part: BlockTensor) -> String {
        switch part {
        case .attentionNorm: "operator_norm.weight"
        case .attentionQ: "self_attn.q_proj.weight"
        case .attentionK: "self_attn.k_proj.weight"
        case .attentionV: "self_attn.v_proj.weight"
        case .attentionOutput: "self_attn.out_proj.weight"
        case .attentionQNorm: "self_attn.q_layernorm.weight"
        case .attentionKNorm: "self_attn.k_layernorm.weight"
        case .convInProjection: "conv.in_proj.weight"
        case .convWeight: "conv.conv.weight"
        case .convOutProjection: "conv.out_proj.weight"
        case .ffnNorm: "ffn_norm.weight"
        case .ffnGate: "feed_forward.w1.weight"
        case .ffnUp: "feed_forward.w3.weight"
        case .ffnDown: "feed_forward.w2.weight"
        }
    }

    /// The depthwise convolution is `[hidden, 1, kernel]` in PyTorch's layout and `[hidden, kernel, 1]` in MLX's,
    /// both the same bytes as `[hidden, kernel]`.
    static func canonicalShape(_ part: BlockTensor, huggingFaceShape shape: [Int]) -> [Int] {
        guard part == .convWeight, shape.count == 3 else { return shape }
        if shape[1] == 1 { return [shape[0], shape[2]] }
        if shape[2] == 1 { return [shape[0], shape[1]] }
        return shape
    }

    static func huggingFaceShape(_ part: BlockTensor, canonicalShape shape: [Int]) -> [Int] {
        part == .convWeight && shape.count == 2 ? [shape[0], 1, shape[1]] : shape
    }

    static func huggingFaceConfigMembers(_ config: ModelConfig) -> [(String, String)] {
        let layerTypes = config.blockKinds.map { $0 == .attention ? "\"full_attention\"" : "\"conv\"" }
        return [
            ("architectures", "[\"Lfm2ForCausalLM\"]"), ("model_type", "\"lfm2\""),
            ("hidden_size", "\(config.hiddenSize)"), ("num_hidden_layers", "\(config.layerCount)"),
            ("num_attention_heads", "\(config.headCount)"), ("num_key_value_heads", "\(config.kvHeadCount)"),
            ("intermediate_size", "\(config.ffnSize)"), ("block_ff_dim", "\(config.ffnSize)"),
            ("block_auto_adjust_ff_dim", "false"), ("block_multiple_of", "256"),
            ("conv_L_cache", "\(config.convKernelSize)"), ("conv_bias", "false"),
            ("layer_types", "[" + layerTypes.joined(separator: ", ") + "]"),
            ("norm_eps", "\(config.normEps)"), ("rope_theta", "\(config.ropeTheta)"),
            ("tie_embedding", "\(config.tiedEmbeddings)"), ("tie_word_embeddings", "\(config.tiedEmbeddings)"),
        ]
    }

    private static func blockKinds(_ file: HFConfigFile, layerCount: Int) throws -> [BlockKind] {
        if let layerTypes = try file.optional("layer_types", \.array) {
            guard layerTypes.count == layerCount else {
                throw ImportError.malformed(file: file.path, detail: "layer_types has \(layerTypes.count) entries for \(layerCount) layers")
            }
            return try layerTypes.map { type in
                switch type.string {
                case "conv": return .shortConv
                case "full_attention": return .attention
                default: throw ImportError.unsupported(file: file.path, detail: "layer type \(type) (supported: conv, full_attention)")
                }
            }
        }
        guard let indices = try file.optional("full_attn_idxs", \.array)?.compactMap(\.int) else {
            throw ImportError.missingMetadata(file: file.path, key: "layer_types")
        }
        return (0..<layerCount).map { indices.contains($0) ? .attention : .shortConv }
    }

    /// The MLP width as LFM2's reference implementation derives it from `block_ff_dim`.
    private static func ffnSize(_ file: HFConfigFile) throws -> Int {
        guard let base = try file.optional("block_ff_dim", \.int) ?? file.optional("intermediate_size", \.int) else {
            throw ImportError.missingMetadata(file: file.path, key: "block_ff_dim")
        }
        guard try file.optional("block_auto_adjust_ff_dim", \.bool) == true else { return base }
        var width = 2 * base / 3
        if let multiplier = try file.optional("block_ffn_dim_multiplier", \.double) { width = Int(multiplier * Double(width)) }
        let multiple = max(try file.optional("block_multiple_of", \.int) ?? 1, 1)
        return multiple * ((width + multiple - 1) / multiple)
    }
}
