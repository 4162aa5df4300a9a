import WStreamFormat
import WStreamQuant

/// Writes a `TinyCheckpoint` as a GGUF file (version 3) the way llama.cpp's converter lays one out: the family's
/// metadata keys, the tokenizer in `tokenizer.ggml.*`, and every tensor in the ggml type asked for.
struct GGUFSeedWriter {
    /// ggml type codes.
    enum TensorType: UInt32, CaseIterable {
        case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q8_0 = 8, q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, iq4_nl = 20, bf16 = 30

        /// Elements per block and bytes per block.
        var block: (elements: Int, bytes: Int) {
            switch self {
            case .f32: (1, 4)
            case .f16, .bf16: (1, 2)
            case .q8_0: (32, 34)
            case .q4_0, .iq4_nl: (32, 18)
            case .q4_1: (32, 20)
            case .q2_K: (256, 84)
            case .q3_K: (256, 110)
            case .q4_K: (256, 144)
            case .q5_K: (256, 176)
            case .q6_K: (256, 210)
            }
        }

        /// Where each block keeps its fp16 scales (`d`, and `dmin` or `m`), by ggml's block layouts.
        var scaleOffsets: [Int] {
            switch self {
            case .f32, .f16, .bf16: []
            case .q8_0, .q4_0, .iq4_nl: [0]
            case .q4_1, .q4_K, .q5_K: [0, 2]
            case .q2_K: [80, 82]
            case .q3_K: [108]
            case .q6_K: [208]
            }
        }
    }

    private var bytes: [UInt8] = []

    /// The file of `checkpoint` with its matrices in `matrixType` where their width is a whole number of its blocks
    /// (`fallback` otherwise); vectors are F32, as converters keep norms.
    /// - Parameter ropeFactors: adds a `rope_freqs.weight` tensor (Llama 3 scaling) of these values.
    static func gguf(_ checkpoint: TinyCheckpoint, matrixType: TensorType, fallback: TensorType = .f16, ropeFactors: [Float]? = nil) -> [UInt8] {
        var writer = GGUFSeedWriter()
        let config = checkpoint.config
        let prefix = config.architecture.rawValue
        var metadata: [(String, (inout GGUFSeedWriter) -> Void)] = [
            ("general.architecture", { $0.string(prefix) }),
            ("\(prefix).embedding_length", { $0.uint32(config.hiddenSize) }),
            ("\(prefix).block_count", { $0.uint32(config.layerCount) }),
            ("\(prefix).feed_forward_length", { $0.uint32(config.ffnSize) }),
            ("\(prefix).attention.head_count", { $0.uint32(config.headCount) }),
            ("\(prefix).attention.key_length", { $0.uint32(config.headDim) }),
            ("\(prefix).context_length", { $0.uint32(config.contextLength) }),
            ("\(prefix).attention.layer_norm_rms_epsilon", { $0.float32(config.normEps) }),
            ("\(prefix).rope.freq_base", { $0.float32(config.ropeTheta) }),
        ]
        if config.architecture == "lfm2" {
            let perLayer = config.blockKinds.map { $0 == .attention ? config.kvHeadCount : 0 }
            metadata.append(("\(prefix).attention.head_count_kv", { $0.int32s(perLayer) }))
            metadata.append(("\(prefix).shortconv.l_cache", { $0.uint32(config.convKernelSize) }))
        } else {
            metadata.append(("\(prefix).attention.head_count_kv", { $0.uint32(config.kvHeadCount) }))
        }
        metadata += tokenizerMetadata(checkpoint.tokenizer)

        var tensors: [(name: String, dimensions: [Int], type: TensorType, data: [UInt8])] = []
        for tensor in checkpoint.tensors {
            var name = tensor.name
            if config.architecture == "lfm2", name == TensorName.outputNorm { name = "token_embd_norm.weight" }
            let type = !tensor.isMatrix ? .f32 : tensor.cols % matrixType.block.elements == 0 ? matrixType : fallback
            tensors.append((name, tensor.shape.reversed(), type, encode(checkpoint.values(of: tensor, seed: 1), type: type)))
        }
        if let ropeFactors { tensors.append(("rope_freqs.weight", [ropeFactors.count], .f32, encode(ropeFactors, type: .f32))) }

        writer.bytes = Array("GGUF".utf8)
        writer.integer(UInt32(3))
        writer.integer(UInt64(tensors.count))
        writer.integer(UInt64(metadata.count))
        for (key, value) in metadata {
            writer.text(key)
            value(&writer)
        }
        let alignment = 32
        var offset = 0
        for tensor in tensors {
            writer.text(tensor.name)
            writer.integer(UInt32(tensor.dimensions.count))
            for dimension in tensor.dimensions { writer.integer(UInt64(dimension)) }
            writer.integer(tensor.type.rawValue)
            writer.integer(UInt64(offset))
            offset = (offset + tensor.data.count + alignment - 1) / alignment * alignment
        }
        for tensor in tensors {
            writer.bytes += [UInt8](repeating: 0, count: (alignment - writer.bytes.count % alignment) % alignment)
            writer.bytes += tensor.data
        }
        return writer.bytes
    }

    private static func tokenizerMetadata(_ spec: TokenizerSpec) -> [(String, (inout GGUFSeedWriter) -> Void)] {
        var entries: [(String, (inout GGUFSeedWriter) -> Void)] = [
            ("tokenizer.ggml.model", { $0.string(spec.model == .sentencePiece ? "llama" : "gpt2") }),
            ("tokenizer.ggml.tokens", { $0.strings(spec.tokens) }),
            ("tokenizer.ggml.token_type", { $0.int32s(spec.tokenTypes.map { Int($0.rawValue) }) }),
            ("tokenizer.ggml.add_bos_token", { $0.bool(spec.addBosToken) }),
        ]
        if spec.model == .sentencePiece {
            entries.append(("tokenizer.ggml.scores", { $0.float32s(spec.scores) }))
        } else {
            entries.append(("tokenizer.ggml.merges", { $0.strings(spec.merges) }))
            entries.append(("tokenizer.ggml.pre", { $0.string("gpt2") }))
        }
        for (role, id) in [("bos", spec.bosTokenId), ("eos", spec.eosTokenId), ("unknown", spec.unknownTokenId)] {
            if let id { entries.append(("tokenizer.ggml.\(role)_token_id", { $0.uint32(id) })) }
        }
        if let template = spec.chatTemplate { entries.append(("tokenizer.chat_template", { $0.string(template) })) }
        return entries
    }

    /// The bytes of `values` in `type`: floats converted; block types filled with deterministic codes under small
    /// fp16 scales, so that every value stays in the range a pack stores (the importers decode any bit pattern, but
    /// a seed that packs reaches further).
    private static func encode(_ values: [Float], type: TensorType) -> [UInt8] {
        var out: [UInt8] = []
        switch type {
        case .f32: for value in values { append(value.bitPattern, to: &out) }
        case .f16: for value in values { append(Float16(value).bitPattern, to: &out) }
        case .bf16: for value in values { append(UInt16(value.bitPattern >> 16), to: &out) }
        default:
            var random = SplitMix64(seed: UInt64(type.rawValue) &+ UInt64(values.count))
            out = random.bytes(values.count / type.block.elements * type.block.bytes)
            let scale = Float16(1.0 / 128).bitPattern
            for block in stride(from: 0, to: out.count, by: type.block.bytes) {
                for offset in type.scaleOffsets {
                    out[block + offset] = UInt8(scale & 0xFF)
                    out[block + offset + 1] = UInt8(scale >> 8)
                }
            }
        }
        return out
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    private mutating func integer<T: FixedWidthInteger>(_ value: T) { Self.append(value, to: &bytes) }

    private mutating func text(_ value: String) {
        integer(UInt64(value.utf8.count))
        bytes += Array(value.utf8)
    }

    private mutating func uint32(_ value: Int) {
        integer(UInt32(4))
        integer(UInt32(truncatingIfNeeded: value))
    }

    private mutating func float32(_ value: Float) {
        integer(UInt32(6))
        integer(value.bitPattern)
    }

    private mutating func bool(_ value: Bool) {
        integer(UInt32(7))
        integer(UInt8(value ? 1 : 0))
    }

    private mutating func string(_ value: String) {
        integer(UInt32(8))
        text(value)
    }

    private mutating func array(of type: UInt32, count: Int, _ elements: (inout GGUFSeedWriter) -> Void) {
        integer(UInt32(9))
        integer(type)
        integer(UInt64(count))
        elements(&self)
    }

    private mutating func strings(_ values: [String]) { array(of: 8, count: values.count) { for value in values { $0.text(value) } } }
    private mutating func int32s(_ values: [Int]) { array(of: 5, count: values.count) { for value in values { $0.integer(Int32(value)) } } }
    private mutating func float32s(_ values: [Float]) { array(of: 6, count: values.count) { for value in values { $0.integer(value.bitPattern) } } }
}
