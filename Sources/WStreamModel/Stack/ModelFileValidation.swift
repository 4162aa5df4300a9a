import WStreamFormat

/// The checks a `.wst` file must pass before anything is loaded: checksums prove a file intact, not sane, and the
/// kernels trust the shapes and storage checked here.
enum ModelFileValidation {
    /// Where the model's units lie in the file.
    struct Layout {
        /// The region of each block, in order.
        let blockRegions: [Int]
        let headRegion: Int
        /// `output.weight`, or the token table when the embeddings are tied.
        let outputMatrix: String
    }

    /// Checks that every block region holds exactly the tensors `family` declares, with the shapes the configuration
    /// implies and float32 vectors, and that the head region starts with the final norm and holds the output matrix.
    /// The configuration itself has passed `validate(_:file:)`.
    /// - Throws: `ModelError` naming the file and the tensor or value at fault.
    static func validate(reader: ContainerReader, config: ModelConfig, family: any ModelFamily) throws -> Layout {
        let file = reader.path
        let blockRegions = try (0..<config.layerCount).map { layer in
            guard let index = reader.regionIndex(named: "layer.\(layer)") else { throw ModelError.missingRegion(file: file, region: "layer.\(layer)") }
            return index
        }
        guard let head = reader.regionIndex(named: "head") else { throw ModelError.missingRegion(file: file, region: "head") }

        var accountedFor = Set<String>()
        func check(_ name: String, _ expected: [Int], in region: Int?) throws {
            guard let tensor = reader.tensor(named: name), region == nil || tensor.region == region else {
                throw ModelError.missingTensor(file: file, tensor: name)
            }
            guard tensor.shape == expected else {
                throw ModelError.shapeMismatch(file: file, tensor: name, expected: expected, found: tensor.shape)
            }
            if expected.count == 1, tensor.storage != .f32 {
                throw ModelError.unsupportedStorage(file: file, tensor: name, storage: tensor.storage.rawValue)
            }
            accountedFor.insert(name)
        }
        for (layer, region) in blockRegions.enumerated() {
            for part in family.tensors(ofBlock: layer) {
                try check(TensorName.block(layer, part), part.expectedShape(config), in: region)
            }
        }
        try check(TensorName.tokenEmbedding, [config.vocabSize, config.hiddenSize], in: nil)
        // The final norm comes first in the head, so that its first unit normalises before any logits are computed.
        guard reader.tensors(inRegion: head).first?.name == TensorName.outputNorm else {
            throw ModelError.missingTensor(file: file, tensor: TensorName.outputNorm + " (first in the head region)")
        }
        try check(TensorName.outputNorm, [config.hiddenSize], in: head)
        let outputMatrix = reader.tensor(named: TensorName.output) != nil ? TensorName.output : TensorName.tokenEmbedding
        try check(outputMatrix, [config.vocabSize, config.hiddenSize], in: head)
        if let extra = reader.metadata.tensors.first(where: { !accountedFor.contains($0.name) }) {
            throw ModelError.unexpectedTensor(file: file, tensor: extra.name, architecture: config.architecture.rawValue)
        }
        return Layout(blockRegions: blockRegions, headRegion: head, outputMatrix: outputMatrix)
    }

    /// The largest width, head count or vocabulary a file may declare (2²⁴; real models stay far below).
    static let maximumSize = 1 << 24
    /// The most blocks a file may declare.
    static let maximumLayerCount = 4096

    /// What every family needs of a configuration: checked before a family is made from it, since making one sizes
    /// tables by it (RoPE's frequencies).
    /// - Throws: `ModelError.invalidConfiguration` naming the file and the value at fault.
    static func validate(_ config: ModelConfig, file: String) throws {
        func invalid(_ detail: String) -> ModelError { .invalidConfiguration(file: file, detail: detail) }
        // Shapes, caches and activations multiply these sizes: bounded, none of their products can overflow.
        let sizes = [("hidden width", config.hiddenSize), ("heads", config.headCount), ("key/value heads", config.kvHeadCount),
                     ("head width", config.headDim), ("FFN width", config.ffnSize), ("vocabulary", config.vocabSize),
                     ("convolution kernel", config.convKernelSize)]
        if let (name, size) = sizes.first(where: { $0.1 > maximumSize }) { throw invalid("\(name) \(size) is above \(maximumSize)") }
        guard config.layerCount <= maximumLayerCount else { throw invalid("\(config.layerCount) blocks are more than \(maximumLayerCount)") }
        guard config.hiddenSize > 0, config.layerCount > 0, config.vocabSize > 0 else {
            throw invalid("hidden width \(config.hiddenSize), \(config.layerCount) blocks, vocabulary \(config.vocabSize)")
        }
        guard config.headCount > 0, config.kvHeadCount > 0, config.headCount % config.kvHeadCount == 0 else {
            throw invalid("\(config.headCount) heads cannot share \(config.kvHeadCount) key/value heads (hidden \(config.hiddenSize))")
        }
        guard config.headDim > 0, config.headDim % 2 == 0 else { throw invalid("head width \(config.headDim) is not a positive even number") }
        guard config.blockKinds.count == config.layerCount else { throw invalid("\(config.blockKinds.count) block kinds for \(config.layerCount) blocks") }
        if let factors = config.ropeFrequencyFactors, factors.count != config.headDim / 2 || factors.contains(where: { !($0 > 0) }) {
            throw invalid("\(factors.count) RoPE frequency factors for a head width of \(config.headDim)")
        }
    }
}
