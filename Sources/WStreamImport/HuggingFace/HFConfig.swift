import FoundationEssentials
import WStreamFormat

/// The keys of a Hugging Face `config.json` that wstream reads; every other key is ignored.
struct HFConfig: Decodable {
    let model_type: String?
    let architectures: [String]?
    let hidden_size: Int?
    let num_hidden_layers: Int?
    let num_attention_heads: Int?
    let num_key_value_heads: Int?
    let head_dim: Int?
    let intermediate_size: Int?
    let vocab_size: Int?
    let max_position_embeddings: Int?
    let rms_norm_eps: Double?
    let rope_theta: Double?
    /// Newer transformers write the scaling (and theta) here instead of in `rope_scaling`.
    let rope_parameters: RopeScaling?
    let rope_scaling: RopeScaling?
    let tie_word_embeddings: Bool?
    let attention_bias: Bool?
    // LFM2
    let tie_embedding: Bool?
    let norm_eps: Double?
    let layer_types: [String]?
    let full_attn_idxs: [Int]?
    let conv_L_cache: Int?
    let block_ff_dim: Int?
    let block_auto_adjust_ff_dim: Bool?
    let block_ffn_dim_multiplier: Double?
    let block_multiple_of: Int?

    /// `model_type` spellings wstream runs, with the architecture each maps to.
    static let supportedModelTypes: [String: Architecture] = ["llama": .llama, "mistral": .llama, "qwen2": .llama, "lfm2": .lfm2]
    /// `architectures` entries accepted when `model_type` is absent, with their `model_type`.
    static let supportedClasses = [
        "LlamaForCausalLM": "llama", "MistralForCausalLM": "mistral", "Qwen2ForCausalLM": "qwen2", "Lfm2ForCausalLM": "lfm2",
    ]

    /// Reads and decodes `directory/config.json`.
    static func load(directory: String) throws -> HFConfig {
        let path = directory + "/config.json"
        let file = try MappedFile(path: path)
        do {
            return try JSONDecoder().decode(HFConfig.self, from: Data(file.bytes))
        } catch {
            throw ImportError.malformed(file: path, detail: "\(error)")
        }
    }

    /// The normalised `model_type` (from `architectures` when `model_type` is absent).
    func modelType(file: String) throws -> String {
        let supported = Self.supportedModelTypes.keys.sorted() + Self.supportedClasses.keys.sorted()
        if let modelType = model_type {
            guard Self.supportedModelTypes[modelType] != nil else {
                throw ImportError.unsupportedArchitecture(file: file, found: "model_type \(modelType)", supported: supported)
            }
            return modelType
        }
        guard let name = architectures?.first else { throw ImportError.missingMetadata(file: file, key: "model_type") }
        guard let modelType = Self.supportedClasses[name] else {
            throw ImportError.unsupportedArchitecture(file: file, found: "architectures \(name)", supported: supported)
        }
        return modelType
    }

    /// The configuration these keys describe; `vocabSize` and `ffnSize` are checked against the tensors later.
    func modelConfig(file: String) throws -> ModelConfig {
        let modelType = try modelType(file: file)
        func required<T>(_ value: T?, _ key: String) throws -> T {
            guard let value else { throw ImportError.missingMetadata(file: file, key: key) }
            return value
        }
        let hidden = try required(hidden_size, "hidden_size")
        let layerCount = try required(num_hidden_layers, "num_hidden_layers")
        let headCount = try required(num_attention_heads, "num_attention_heads")
        guard hidden > 0, layerCount > 0, headCount > 0 else {
            throw ImportError.malformed(file: file, detail: "hidden_size \(hidden), num_hidden_layers \(layerCount), num_attention_heads \(headCount)")
        }
        let isLFM2 = modelType == "lfm2"
        let blockKinds = isLFM2 ? try lfm2BlockKinds(layerCount: layerCount, file: file) : nil
        let epsilon = isLFM2 ? try required(norm_eps, "norm_eps") : try required(rms_norm_eps, "rms_norm_eps")
        let headDim = head_dim ?? hidden / headCount
        let theta = rope_theta ?? rope_parameters?.rope_theta ?? 10_000
        return ModelConfig(
            architecture: isLFM2 ? .lfm2 : .llama, hiddenSize: hidden, layerCount: layerCount, headCount: headCount,
            kvHeadCount: num_key_value_heads ?? headCount, headDim: headDim,
            ffnSize: isLFM2 ? try lfm2FFNSize(file: file) : try required(intermediate_size, "intermediate_size"),
            vocabSize: try required(vocab_size, "vocab_size"),
            contextLength: try required(max_position_embeddings, "max_position_embeddings"),
            normEps: Float(epsilon),
            ropeTheta: Float(theta),
            tiedEmbeddings: tie_word_embeddings ?? tie_embedding ?? isLFM2,
            attentionBias: modelType == "qwen2" || attention_bias == true,
            blockKinds: blockKinds, convKernelSize: isLFM2 ? try required(conv_L_cache, "conv_L_cache") : 0,
            ropeFrequencyFactors: try (rope_scaling ?? rope_parameters)?.frequencyFactors(headDim: headDim, theta: theta, file: file))
    }

    private func lfm2BlockKinds(layerCount: Int, file: String) throws -> [BlockKind] {
        if let layer_types {
            guard layer_types.count == layerCount else {
                throw ImportError.malformed(file: file, detail: "layer_types has \(layer_types.count) entries for \(layerCount) layers")
            }
            return try layer_types.map { type in
                switch type {
                case "conv": return .shortConv
                case "full_attention": return .attention
                default: throw ImportError.unsupported(file: file, detail: "layer type '\(type)' (supported: conv, full_attention)")
                }
            }
        }
        guard let full_attn_idxs else { throw ImportError.missingMetadata(file: file, key: "layer_types") }
        return (0..<layerCount).map { full_attn_idxs.contains($0) ? .attention : .shortConv }
    }

    /// LFM2's MLP width as its reference implementation derives it from `block_ff_dim`.
    private func lfm2FFNSize(file: String) throws -> Int {
        guard let base = block_ff_dim ?? intermediate_size else { throw ImportError.missingMetadata(file: file, key: "block_ff_dim") }
        guard block_auto_adjust_ff_dim == true else { return base }
        var width = 2 * base / 3
        if let multiplier = block_ffn_dim_multiplier { width = Int(multiplier * Double(width)) }
        let multiple = max(block_multiple_of ?? 1, 1)
        return multiple * ((width + multiple - 1) / multiple)
    }
}
