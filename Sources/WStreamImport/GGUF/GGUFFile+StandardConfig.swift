import WStreamFormat

extension GGUFFile {
    /// The configuration described by the metadata most llama.cpp architectures share under `prefix`
    /// (`embedding_length`, `block_count`, `attention.head_count`, `attention.head_count_kv`, `feed_forward_length`,
    /// `attention.key_length`, `attention.layer_norm_rms_epsilon`, `context_length`, `rope.freq_base`), with every
    /// block an attention block. `vocabSize` is left 0: the token table's shape sets it.
    /// - Parameter kvHeadCount: the key/value head count when the family reads it otherwise (per-layer values).
    func standardConfig(prefix: String, architecture: Architecture, kvHeadCount: Int? = nil) throws -> ModelConfig {
        let hidden = try int("\(prefix).embedding_length")
        let layerCount = try int("\(prefix).block_count")
        let headCount = try int("\(prefix).attention.head_count")
        guard hidden > 0, layerCount > 0, headCount > 0, layerCount <= 4096 else {
            throw ImportError.malformed(file: path, detail: "embedding_length \(hidden), block_count \(layerCount), head_count \(headCount)")
        }
        let ffnSizes = try perLayer("\(prefix).feed_forward_length", layerCount: layerCount)
        guard Set(ffnSizes).count == 1 else {
            throw ImportError.unsupported(file: path, detail: "\(prefix).feed_forward_length \(ffnSizes): per-layer FFN widths must agree")
        }
        let keyValueHeads: Int
        if let kvHeadCount {
            keyValueHeads = kvHeadCount
        } else {
            let perLayer = try perLayer("\(prefix).attention.head_count_kv", layerCount: layerCount)
            guard let first = perLayer.first, first > 0, Set(perLayer).count == 1 else {
                throw ImportError.unsupported(file: path, detail: "\(prefix).attention.head_count_kv \(perLayer): per-layer KV head counts must agree")
            }
            keyValueHeads = first
        }
        let headDim = try metadata["\(prefix).attention.key_length"].map { value -> Int in
            guard let width = value.int else { throw ImportError.missingMetadata(file: path, key: "\(prefix).attention.key_length") }
            return width
        } ?? hidden / headCount
        if let rotated = metadata["\(prefix).rope.dimension_count"]?.int, rotated != headDim {
            throw ImportError.unsupported(file: path, detail: "\(prefix).rope.dimension_count \(rotated) differs from the head width \(headDim) (partial rotary embedding)")
        }
        guard let epsilon = metadata["\(prefix).attention.layer_norm_rms_epsilon"]?.double else {
            throw ImportError.missingMetadata(file: path, key: "\(prefix).attention.layer_norm_rms_epsilon")
        }
        return ModelConfig(
            architecture: architecture, hiddenSize: hidden, layerCount: layerCount, headCount: headCount,
            kvHeadCount: keyValueHeads, headDim: headDim, ffnSize: ffnSizes[0], vocabSize: 0,
            contextLength: try int("\(prefix).context_length"), normEps: Float(epsilon),
            ropeTheta: Float(metadata["\(prefix).rope.freq_base"]?.double ?? 10_000), tiedEmbeddings: false)
    }

    /// A hyper-parameter stored either once or as one value per layer.
    func perLayer(_ key: String, layerCount: Int) throws -> [Int] {
        let value = try value(key)
        if let single = value.int { return Array(repeating: single, count: layerCount) }
        guard let values = value.array?.compactMap(\.int), values.count == layerCount else {
            throw ImportError.missingMetadata(file: path, key: "\(key) (one integer, or one per layer)")
        }
        return values
    }
}
