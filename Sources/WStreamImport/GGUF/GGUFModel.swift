import WStreamFormat

/// A GGUF file read into wstream's canonical form: configuration, tensors (Q/K rows un-permuted for `llama`),
/// and, when asked, the tokenizer.
struct GGUFModel {
    static let supportedArchitectures = ["llama", "mistral", "qwen2", "lfm2"]

    let gguf: GGUFFile
    let config: ModelConfig
    let tensors: [any TensorSource]

    /// - Throws: `ImportError` for unsupported architectures or tensor types, missing metadata or tensors, bad shapes.
    init(path: String) throws {
        gguf = try GGUFFile(file: MappedFile(path: path))
        let architectureName = try gguf.string("general.architecture")
        guard Self.supportedArchitectures.contains(architectureName) else {
            throw ImportError.unsupportedArchitecture(
                file: path, found: architectureName, supported: Self.supportedArchitectures)
        }
        var config = try Self.readConfig(gguf, architectureName)
        var canonical: [String: any TensorSource] = [:]
        for info in gguf.tensors {
            // Llama 3 files carry RoPE's frequency divisors as a tensor; they belong to the configuration.
            if info.name == "rope_freqs.weight" {
                config.ropeFrequencyFactors = try Self.frequencyFactors(info, in: gguf, headDim: config.headDim, file: path)
                continue
            }
            let name = Self.canonicalName(info.name, architectureName)
            let shape = try Self.shape(of: info, file: path)
            let rows = shape.count == 2 ? shape[0] : 1
            // llama.cpp permutes Q/K rows only for the llama family; LFM2 and Qwen2 keep Hugging Face's order.
            let permuted = architectureName == "llama" || architectureName == "mistral"
            var rowOrder: RoPERowOrder?
            if permuted, name.hasSuffix(BlockTensor.attentionQ.rawValue) {
                rowOrder = try RoPERowOrder(rows: rows, heads: config.headCount, file: path, tensor: info.name)
            } else if permuted, name.hasSuffix(BlockTensor.attentionK.rawValue) {
                rowOrder = try RoPERowOrder(rows: rows, heads: config.kvHeadCount, file: path, tensor: info.name)
            }
            guard canonical[name] == nil else {
                throw ImportError.malformed(file: path, detail: "tensor '\(info.name)' appears twice")
            }
            canonical[name] = try MappedTensor(
                name: name, shape: shape, storage: gguf.storageType(of: info), file: gguf.file,
                offset: gguf.dataStart + info.offset, rowOrder: rowOrder)
        }
        guard let embedding = canonical[TensorName.tokenEmbedding] else {
            throw ImportError.missingTensor(file: path, tensor: TensorName.tokenEmbedding)
        }
        config.vocabSize = embedding.shape[0]
        config.attentionBias = canonical.keys.contains { $0.hasSuffix(BlockTensor.attentionQBias.rawValue) }
        tensors = try CanonicalLayout.assemble(config: &config, tensors: canonical, file: path) {
            Self.sourceName($0, architectureName)
        }
        self.config = config
    }

    /// The tokenizer stored in `tokenizer.ggml.*`.
    func tokenizer() throws -> TokenizerSpec { try GGUFTokenizer.read(from: gguf) }

    /// The values of `rope_freqs.weight`: `headDim / 2` divisors of RoPE's frequencies.
    private static func frequencyFactors(_ info: GGUFFile.TensorInfo, in gguf: GGUFFile, headDim: Int, file: String) throws -> [Float] {
        let shape = try shape(of: info, file: file)
        guard shape == [headDim / 2] else {
            throw ImportError.shapeMismatch(file: file, tensor: info.name, expected: [headDim / 2], found: shape)
        }
        let tensor = try MappedTensor(name: info.name, shape: shape, storage: gguf.storageType(of: info), file: gguf.file,
                                      offset: gguf.dataStart + info.offset)
        var values = [Float](repeating: 0, count: headDim / 2)
        try values.withUnsafeMutableBufferPointer { try tensor.readRows(0..<1, into: $0) }
        return values
    }

    private static func readConfig(_ gguf: GGUFFile, _ name: String) throws -> ModelConfig {
        let path = gguf.path
        let hidden = try gguf.int("\(name).embedding_length")
        let layerCount = try gguf.int("\(name).block_count")
        let headCount = try gguf.int("\(name).attention.head_count")
        guard hidden > 0, layerCount > 0, headCount > 0, layerCount <= 4096 else {
            throw ImportError.malformed(file: path, detail: "embedding_length \(hidden), block_count \(layerCount), head_count \(headCount)")
        }
        // LFM2 stores head_count_kv per layer, 0 marking a short-convolution block.
        let keyValueHeads = try perLayer(gguf, "\(name).attention.head_count_kv", layerCount: layerCount)
        let ffnSizes = try perLayer(gguf, "\(name).feed_forward_length", layerCount: layerCount)
        let blockKinds: [BlockKind] = keyValueHeads.map { $0 == 0 ? .shortConv : .attention }
        guard let kvHeadCount = keyValueHeads.max(), kvHeadCount > 0,
            Set(keyValueHeads.filter { $0 != 0 }).count == 1
        else {
            throw ImportError.unsupported(file: path, detail: "\(name).attention.head_count_kv \(keyValueHeads): per-layer KV head counts must agree")
        }
        guard Set(ffnSizes).count == 1 else {
            throw ImportError.unsupported(file: path, detail: "\(name).feed_forward_length \(ffnSizes): per-layer FFN widths must agree")
        }
        guard name == "lfm2" || !blockKinds.contains(.shortConv) else {
            throw ImportError.malformed(file: path, detail: "\(name).attention.head_count_kv is 0 for some layers")
        }
        let headDim = try gguf.metadata["\(name).attention.key_length"].map { value -> Int in
            guard let width = value.int else { throw ImportError.missingMetadata(file: path, key: "\(name).attention.key_length") }
            return width
        } ?? hidden / headCount
        if let rotated = gguf.metadata["\(name).rope.dimension_count"]?.int, rotated != headDim {
            throw ImportError.unsupported(file: path, detail: "\(name).rope.dimension_count \(rotated) differs from the head width \(headDim) (partial rotary embedding)")
        }
        guard let epsilon = gguf.metadata["\(name).attention.layer_norm_rms_epsilon"]?.double else {
            throw ImportError.missingMetadata(file: path, key: "\(name).attention.layer_norm_rms_epsilon")
        }
        return ModelConfig(
            architecture: name == "lfm2" ? .lfm2 : .llama, hiddenSize: hidden, layerCount: layerCount,
            headCount: headCount, kvHeadCount: kvHeadCount, headDim: headDim, ffnSize: ffnSizes[0], vocabSize: 0,
            contextLength: try gguf.int("\(name).context_length"), normEps: Float(epsilon),
            ropeTheta: Float(gguf.metadata["\(name).rope.freq_base"]?.double ?? 10_000),
            tiedEmbeddings: false, blockKinds: blockKinds,
            convKernelSize: name == "lfm2" ? try gguf.int("\(name).shortconv.l_cache") : 0)
    }

    /// A hyper-parameter stored either once or as one value per layer.
    private static func perLayer(_ gguf: GGUFFile, _ key: String, layerCount: Int) throws -> [Int] {
        let value = try gguf.value(key)
        if let single = value.int { return Array(repeating: single, count: layerCount) }
        guard let values = value.array?.compactMap(\.int), values.count == layerCount else {
            throw ImportError.missingMetadata(file: gguf.path, key: "\(key) (one integer, or one per layer)")
        }
        return values
    }

    /// `[rows, cols]` = `[ne1, ne0]` for matrices, `[ne0]` for vectors; trailing dimensions of 1 are dropped.
    private static func shape(of info: GGUFFile.TensorInfo, file: String) throws -> [Int] {
        var dimensions = info.dimensions
        while dimensions.count > 1, dimensions.last == 1 { dimensions.removeLast() }
        switch dimensions.count {
        case 1: return dimensions
        case 2: return [dimensions[1], dimensions[0]]
        default: throw ImportError.unsupported(file: file, detail: "tensor '\(info.name)' has dimensions \(info.dimensions)")
        }
    }

    private static func canonicalName(_ name: String, _ architecture: String) -> String {
        architecture == "lfm2" && name == "token_embd_norm.weight" ? TensorName.outputNorm : name
    }

    private static func sourceName(_ canonical: String, _ architecture: String) -> String {
        architecture == "lfm2" && canonical == TensorName.outputNorm ? "token_embd_norm.weight" : canonical
    }
}
