import WStreamFormat

/// What one model family needs from a `.wst` file, checked when the model is opened so that a missing
/// tensor is reported at once rather than in the middle of generation.
///
/// The forward pass itself is shared (`DecoderModel`): every supported family is a stack of
/// `x += mixer(norm(x)); x += mlp(norm(x))` blocks, differing in the mixer each block uses.
protocol ArchitectureDefinition {
    /// Tensors block `layer` must hold, given its kind.
    static func requiredTensors(layer: Int, kind: BlockKind) -> [BlockTensor]
}

extension Architecture {
    var definition: any ArchitectureDefinition.Type {
        switch self {
        case .llama: Llama.self
        case .lfm2: LFM2.self
        }
    }
}

extension BlockTensor {
    /// The shape `config` implies for this tensor (`[rows, cols]`, or `[count]` for a vector).
    func expectedShape(_ config: ModelConfig) -> [Int] {
        let hidden = config.hiddenSize
        let queries = config.headCount * config.headDim
        let keys = config.kvHeadCount * config.headDim
        switch self {
        case .attentionNorm, .ffnNorm: return [hidden]
        case .attentionQ: return [queries, hidden]
        case .attentionK, .attentionV: return [keys, hidden]
        case .attentionOutput: return [hidden, queries]
        case .attentionQBias: return [queries]
        case .attentionKBias, .attentionVBias: return [keys]
        case .attentionQNorm, .attentionKNorm: return [config.headDim]
        case .convInProjection: return [3 * hidden, hidden]
        case .convWeight: return [hidden, config.convKernelSize]
        case .convOutProjection: return [hidden, hidden]
        case .ffnGate, .ffnUp: return [config.ffnSize, hidden]
        case .ffnDown: return [hidden, config.ffnSize]
        }
    }
}
