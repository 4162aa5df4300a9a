import WStreamFormat

/// The tensors a model of a given configuration must hold, in canonical names, order and shapes,
/// and the final checks every importer runs before handing tensors on.
public enum CanonicalLayout {
    /// Every tensor `config` implies, in the order wstream stores them: embedding, blocks 0…N−1 (each in its
    /// family's order), final norm, head.
    /// - Throws: `ImportError.unsupportedArchitecture` when no family of this build is called `config.architecture`.
    public static func expectedShapes(of config: ModelConfig) throws -> [(name: String, shape: [Int])] {
        let family = try CheckpointFamilies.family(of: config.architecture, file: "configuration")
        var expected: [(String, [Int])] = [(TensorName.tokenEmbedding, [config.vocabSize, config.hiddenSize])]
        for (layer, kind) in config.blockKinds.enumerated() {
            expected += family.blockTensors(kind, config: config).map { (TensorName.block(layer, $0), $0.expectedShape(config)) }
        }
        expected.append((TensorName.outputNorm, [config.hiddenSize]))
        if !config.tiedEmbeddings { expected.append((TensorName.output, [config.vocabSize, config.hiddenSize])) }
        return expected
    }

    /// Checks `tensors` (keyed by canonical name) against `config` and returns them in canonical order.
    ///
    /// An `output.weight` byte-identical to the embedding (GGUF converters write tied heads twice) is dropped and the
    /// model marked tied, so the same model reads the same from every source.
    /// - Parameters:
    ///   - sourceName: the name a canonical tensor has in the source, for error messages.
    /// - Throws: `ImportError.missingTensor`, `.unexpectedTensor` or `.shapeMismatch`.
    static func assemble(
        config: inout ModelConfig, tensors: [String: any TensorSource], file: String, sourceName: (String) -> String
    ) throws -> [any TensorSource] {
        var tensors = tensors
        if let output = tensors[TensorName.output] as? MappedTensor, let embedding = tensors[TensorName.tokenEmbedding] as? MappedTensor,
            output.hasSameBytes(as: embedding)
        {
            tensors[TensorName.output] = nil
        }
        config.tiedEmbeddings = tensors[TensorName.output] == nil
        var ordered: [any TensorSource] = []
        for (name, shape) in try expectedShapes(of: config) {
            guard let tensor = tensors.removeValue(forKey: name) else {
                throw ImportError.missingTensor(file: file, tensor: sourceName(name))
            }
            guard tensor.shape == shape else {
                throw ImportError.shapeMismatch(file: file, tensor: sourceName(name), expected: shape, found: tensor.shape)
            }
            ordered.append(tensor)
        }
        if let extra = tensors.keys.sorted().first {
            throw ImportError.unexpectedTensor(file: file, tensor: sourceName(extra))
        }
        return ordered
    }
}
