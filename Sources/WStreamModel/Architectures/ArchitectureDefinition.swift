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
