/// The canonical tensor names used inside `.wst` files (llama.cpp's GGUF vocabulary).
///
/// Importers map every source naming scheme to these names; the runtime looks tensors up by them.
/// Matrices are stored `[rows, cols]` = `[out, in]`, row-major (the layout of a PyTorch `nn.Linear` weight).
public enum TensorName {
    /// `[vocab, hidden]` token embedding table (also the output head when embeddings are tied).
    public static let tokenEmbedding = "token_embd.weight"
    /// `[hidden]` final RMSNorm weight.
    public static let outputNorm = "output_norm.weight"
    /// `[vocab, hidden]` untied output head.
    public static let output = "output.weight"

    /// Name of a tensor of block `layer`, e.g. `blk.3.attn_q.weight`.
    public static func block(_ layer: Int, _ part: BlockTensor) -> String {
        "blk.\(layer).\(part.rawValue)"
    }
}

/// The tensors a transformer block may hold. Shapes use `hidden`, `heads·headDim` (q), `kvHeads·headDim` (kv).
public enum BlockTensor: String, CaseIterable, Sendable {
    /// `[hidden]` RMSNorm before the token mixer (attention or short conv).
    case attentionNorm = "attn_norm.weight"
    /// `[heads·headDim, hidden]`
    case attentionQ = "attn_q.weight"
    /// `[kvHeads·headDim, hidden]`
    case attentionK = "attn_k.weight"
    /// `[kvHeads·headDim, hidden]`
    case attentionV = "attn_v.weight"
    /// `[hidden, heads·headDim]`
    case attentionOutput = "attn_output.weight"
    /// `[headDim]` per-head RMSNorm on queries, one weight vector shared by every head (LFM2, Qwen3).
    case attentionQNorm = "attn_q_norm.weight"
    /// `[headDim]` per-head RMSNorm on keys (LFM2, Qwen3).
    case attentionKNorm = "attn_k_norm.weight"
    /// `[3·hidden, hidden]` LFM2 short-conv input projection, output rows in the order B, C, x.
    case convInProjection = "shortconv.in_proj.weight"
    /// `[hidden, kernel]` LFM2 depthwise causal convolution weights (tap `kernel-1` multiplies the newest input).
    case convWeight = "shortconv.conv.weight"
    /// `[hidden, hidden]` LFM2 short-conv output projection.
    case convOutProjection = "shortconv.out_proj.weight"
    /// `[hidden]` RMSNorm before the MLP.
    case ffnNorm = "ffn_norm.weight"
    /// `[ffn, hidden]` SwiGLU gate (`w1`).
    case ffnGate = "ffn_gate.weight"
    /// `[ffn, hidden]` SwiGLU up projection (`w3`).
    case ffnUp = "ffn_up.weight"
    /// `[hidden, ffn]` SwiGLU down projection (`w2`).
    case ffnDown = "ffn_down.weight"
}

extension BlockTensor {
    /// The shape `config` implies for this tensor (`[rows, cols]`, or `[count]` for a vector), whatever the family:
    /// a canonical tensor means the same thing in every family that has it.
    public func expectedShape(_ config: ModelConfig) -> [Int] {
        let hidden = config.hiddenSize
        let queries = config.headCount * config.headDim
        let keys = config.kvHeadCount * config.headDim
        switch self {
        case .attentionNorm, .ffnNorm: return [hidden]
        case .attentionQ: return [queries, hidden]
        case .attentionK, .attentionV: return [keys, hidden]
        case .attentionOutput: return [hidden, queries]
        case .attentionQNorm, .attentionKNorm: return [config.headDim]
        case .convInProjection: return [3 * hidden, hidden]
        case .convWeight: return [hidden, config.convKernelSize]
        case .convOutProjection: return [hidden, hidden]
        case .ffnGate, .ffnUp: return [config.ffnSize, hidden]
        case .ffnDown: return [hidden, config.ffnSize]
        }
    }
}
