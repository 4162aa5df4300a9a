import WStreamFormat

/// The tensors a model of a given configuration must hold, in canonical names, order and shapes,
/// and the final checks every importer runs before handing tensors on.
public enum CanonicalLayout {
    /// Every tensor `config` implies, in the order wstream stores them: embedding, blocks 0…N−1, final norm, head.
    /// - Parameter config: the model's configuration.
    public static func expectedShapes(of config: ModelConfig) -> [(name: String, shape: [Int])] {
        let hidden = config.hiddenSize
        let queryWidth = config.headCount * config.headDim
        let keyValueWidth = config.kvHeadCount * config.headDim
        var expected: [(String, [Int])] = [(TensorName.tokenEmbedding, [config.vocabSize, hidden])]
        for (layer, kind) in config.blockKinds.enumerated() {
            var parts: [(BlockTensor, [Int])] = [(.attentionNorm, [hidden])]
            switch kind {
            case .attention:
                parts += [
                    (.attentionQ, [queryWidth, hidden]), (.attentionK, [keyValueWidth, hidden]),
                    (.attentionV, [keyValueWidth, hidden]), (.attentionOutput, [hidden, queryWidth]),
                ]
                if config.attentionBias {
                    parts += [(.attentionQBias, [queryWidth]), (.attentionKBias, [keyValueWidth]), (.attentionVBias, [keyValueWidth])]
                }
                if config.architecture == .lfm2 {
                    parts += [(.attentionQNorm, [config.headDim]), (.attentionKNorm, [config.headDim])]
                }
            case .shortConv:
                parts += [
                    (.convInProjection, [3 * hidden, hidden]), (.convWeight, [hidden, config.convKernelSize]),
                    (.convOutProjection, [hidden, hidden]),
                ]
            }
            parts += [
                (.ffnNorm, [hidden]), (.ffnGate, [config.ffnSize, hidden]), (.ffnUp, [config.ffnSize, hidden]),
                (.ffnDown, [hidden, config.ffnSize]),
            ]
            let order = BlockTensor.allCases
            parts.sort { order.firstIndex(of: $0.0)! < order.firstIndex(of: $1.0)! }
            expected += parts.map { (TensorName.block(layer, $0.0), $0.1) }
        }
        expected.append((TensorName.outputNorm, [hidden]))
        if !config.tiedEmbeddings { expected.append((TensorName.output, [config.vocabSize, hidden])) }
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
        for (name, shape) in expectedShapes(of: config) {
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
