import WStreamFormat

/// A GGUF file read into wstream's canonical form: configuration, tensors (Q/K rows un-permuted for `llama`),
/// and, when asked, the tokenizer.
struct GGUFModel {
    let gguf: GGUFFile
    let config: ModelConfig
    let tensors: [any TensorSource]

    /// - Throws: `ImportError` for unsupported architectures or tensor types, missing metadata or tensors, bad shapes.
    init(path: String) throws {
        gguf = try GGUFFile(file: MappedFile(path: path))
        let architectureName = try gguf.string("general.architecture")
        let family = try CheckpointFamilies.family(ofGGUF: architectureName, file: path)
        var config = try family.config(from: gguf, prefix: architectureName)
        var canonical: [String: any TensorSource] = [:]
        for info in gguf.tensors {
            // Llama 3 files carry RoPE's frequency divisors as a tensor; they belong to the configuration.
            if info.name == "rope_freqs.weight" {
                config.ropeFrequencyFactors = try Self.frequencyFactors(info, in: gguf, headDim: config.headDim, file: path)
                continue
            }
            let name = family.canonicalName(gguf: info.name)
            let shape = try Self.shape(of: info, file: path)
            let rows = shape.count == 2 ? shape[0] : 1
            let permuted = family.ggufPermutesQueryKeyRows
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
        tensors = try CanonicalLayout.assemble(config: &config, tensors: canonical, file: path) {
            family.ggufName(canonical: $0)
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
}
