/// The name of a model family (`llama`, `lfm2`, `qwen3`, …), as `ModelConfig.architecture` records it.
///
/// An open set: each family declares its own name in its files (`WStreamModel/Families`,
/// `WStreamImport/Families`), so adding a family adds no case here. A file naming a family this build does
/// not know opens and is refused by the model with the list of known families.
public struct Architecture: RawRepresentable, Codable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }
}

/// What mixes information across positions in one transformer block.
public enum BlockKind: String, Codable, Sendable {
    /// Grouped-query self-attention with RoPE (and a KV cache at decode time).
    case attention
    /// LFM2's gated depthwise causal convolution (a rolling state at decode time).
    case shortConv = "conv"
}

/// Architecture and hyper-parameters of a model, as stored in a `.wst` file's metadata.
///
/// Importers normalise every source to this one description: in particular Q and K projection
/// rows are always in Hugging Face's rotate-half order (GGUF `llama` files are un-permuted on import),
/// so the runtime implements a single RoPE convention.
public struct ModelConfig: Codable, Sendable, Equatable {
    public var architecture: Architecture
    /// Width of the residual stream.
    public var hiddenSize: Int
    /// Number of transformer blocks.
    public var layerCount: Int
    /// Query heads per attention block.
    public var headCount: Int
    /// Key/value heads per attention block (grouped-query attention when below `headCount`).
    public var kvHeadCount: Int
    /// Width of one attention head.
    public var headDim: Int
    /// Inner width of the SwiGLU MLP.
    public var ffnSize: Int
    public var vocabSize: Int
    /// Longest context the model was trained for.
    public var contextLength: Int
    /// RMSNorm epsilon.
    public var normEps: Float
    public var ropeTheta: Float
    /// The output head reuses the token embedding table.
    public var tiedEmbeddings: Bool
    /// One entry per block: what mixes positions in it (all `.attention` for Llama and Qwen3).
    public var blockKinds: [BlockKind]
    /// LFM2's `conv_L_cache`: the short convolution's kernel size. 0 when unused.
    public var convKernelSize: Int
    /// Divisors of RoPE's frequencies, one per rotated pair (`headDim / 2`): Llama 3's long-context scaling,
    /// from config.json's `rope_scaling` (`rope_type: llama3`) or GGUF's `rope_freqs.weight`. nil: none.
    public var ropeFrequencyFactors: [Float]?

    public init(
        architecture: Architecture, hiddenSize: Int, layerCount: Int, headCount: Int, kvHeadCount: Int,
        headDim: Int, ffnSize: Int, vocabSize: Int, contextLength: Int, normEps: Float, ropeTheta: Float,
        tiedEmbeddings: Bool, blockKinds: [BlockKind]? = nil, convKernelSize: Int = 0,
        ropeFrequencyFactors: [Float]? = nil
    ) {
        self.architecture = architecture
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.ffnSize = ffnSize
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.normEps = normEps
        self.ropeTheta = ropeTheta
        self.tiedEmbeddings = tiedEmbeddings
        self.blockKinds = blockKinds ?? Array(repeating: .attention, count: layerCount)
        self.convKernelSize = convKernelSize
        self.ropeFrequencyFactors = ropeFrequencyFactors
    }
}
