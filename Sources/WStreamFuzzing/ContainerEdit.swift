import WStreamFormat

/// One change a container input makes to a valid file before it is sealed again: a metadata field, a byte of the
/// data area, or a header field. Eleven bytes: an operation, a 16-bit index, a 64-bit value (all little-endian).
///
/// The operation picks the field (`operation % Field.count`); the index picks the element it applies to (a region,
/// a tensor, a tensor's frame, a token), wrapping around; the value is the new number, or selects among choices.
/// Edits of elements that do not exist do nothing.
struct ContainerEdit {
    static let byteCount = 11

    let operation: Int
    let index: Int
    let value: Int64

    init(_ bytes: UnsafeRawBufferPointer) {
        operation = Int(bytes[0])
        index = Int(bytes[1]) | Int(bytes[2]) << 8
        value = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 3, as: Int64.self))
    }

    /// What an edit may change besides the metadata.
    struct Surroundings {
        /// The data area: the header's bytes, then the regions, up to the metadata.
        var data: [UInt8]
        /// Header fields to set after the header is rebuilt, by field number (see `ContainerTarget`).
        var headerFields: [Int: UInt64] = [:]
        /// Leave the header's checksum as the edits left it.
        var staleHeaderChecksum = false
        /// Bytes to cut from (negative) or add to (positive) the end of the file.
        var lengthChange = 0
    }

    private var unsigned: UInt64 { UInt64(bitPattern: value) }
    private var int: Int { Int(truncatingIfNeeded: value) }
    private var float: Float { Float(bitPattern: UInt32(truncatingIfNeeded: value)) }
    /// The value's eight bytes as text (up to the first NUL).
    private var text: String {
        withUnsafeBytes(of: value.littleEndian) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    private static func element(_ index: Int, of count: Int) -> Int? { count == 0 ? nil : index % count }

    func apply(to metadata: inout ContainerMetadata, _ surroundings: inout Surroundings) {
        switch operation % 40 {
        case 0: metadata.config.hiddenSize = int
        case 1: metadata.config.layerCount = int
        case 2: metadata.config.headCount = int
        case 3: metadata.config.kvHeadCount = int
        case 4: metadata.config.headDim = int
        case 5: metadata.config.ffnSize = int
        case 6: metadata.config.vocabSize = int
        case 7: metadata.config.contextLength = int
        case 8: metadata.config.convKernelSize = int
        case 9: metadata.config.normEps = float
        case 10: metadata.config.ropeTheta = float
        case 11: metadata.config.tiedEmbeddings.toggle()
        case 12:
            if let layer = Self.element(index, of: metadata.config.blockKinds.count), value >= 0 {
                metadata.config.blockKinds[layer] = metadata.config.blockKinds[layer] == .attention ? .shortConv : .attention
            } else if value < 0, !metadata.config.blockKinds.isEmpty {
                metadata.config.blockKinds.removeLast()
            } else {
                metadata.config.blockKinds.append(.attention)
            }
        case 13: metadata.config.architecture = Architecture(rawValue: ["llama", "lfm2", "qwen3", "mistral", text][index % 5])
        case 14: metadata.config.ropeFrequencyFactors = value == 0 ? nil : Array(repeating: float, count: index % 70)
        case 15: if index % 2 == 0 { metadata.quantization.bits = int } else { metadata.quantization.groupSize = int }
        case 16: editTokenizerId(&metadata.tokenizer)
        case 17: editTokenizerFlag(&metadata.tokenizer)
        case 18: editVocabulary(&metadata.tokenizer)
        case 19: metadata.tokenizer.chatTemplate = value == 0 ? nil : text
        case 20:
            if let region = Self.element(index, of: metadata.regions.count) { metadata.regions[region].offset = unsigned }
        case 21:
            if let region = Self.element(index, of: metadata.regions.count) { metadata.regions[region].length = unsigned }
        case 22:
            if let region = Self.element(index, of: metadata.regions.count) {
                metadata.regions[region].name = ["embed", "head", "layer.\(value % 8)", text][Int(unsigned % 4)]
            }
        case 23:
            if let region = Self.element(index, of: metadata.regions.count) {
                if value < 0 { metadata.regions.remove(at: region) } else { metadata.regions.append(metadata.regions[region]) }
            }
        case 24...33:
            if let tensor = Self.element(index & 0xFF, of: metadata.tensors.count) { editTensor(&metadata.tensors, tensor) }
        case 34...38:
            if let tensor = Self.element(index & 0xFF, of: metadata.tensors.count),
               let frame = Self.element(index >> 8, of: metadata.tensors[tensor].frames.count) {
                editFrame(&metadata.tensors[tensor].frames, frame)
            }
        default: editSurroundings(&surroundings)
        }
    }

    private func editTokenizerId(_ spec: inout TokenizerSpec) {
        let id: Int? = value == Int64.min ? nil : int
        switch index % 6 {
        case 0: spec.bosTokenId = id
        case 1: spec.eosTokenId = id
        case 2: spec.unknownTokenId = id
        case 3: spec.paddingTokenId = id
        case 4: spec.specialTokenIds.append(int)
        default: spec.extraStopTokenIds.append(int)
        }
    }

    private func editTokenizerFlag(_ spec: inout TokenizerSpec) {
        switch index % 7 {
        case 0: spec.addBosToken.toggle()
        case 1: spec.addEosToken.toggle()
        case 2: spec.byteFallback.toggle()
        case 3: spec.addPrefixSpace.toggle()
        case 4: spec.model = spec.model == .sentencePiece ? .bytePairEncoding : .sentencePiece
        case 5: spec.preTokenizer = spec.preTokenizer == .metaspace ? .byteLevel : .metaspace
        default: spec.splitPattern = [nil, .gpt2, .llama3][Int(unsigned % 3)]
        }
    }

    /// Tokens, their types, scores and merges: one entry set, or the list cut to `value` entries.
    private func editVocabulary(_ spec: inout TokenizerSpec) {
        let count = Int(unsigned % 1024)
        switch (index % 4, value < 0) {
        case (0, false): if let id = Self.element(index / 4, of: spec.tokens.count) { spec.tokens[id] = text }
        case (0, true): spec.tokens = Array(spec.tokens.prefix(count))
        case (1, false):
            if let id = Self.element(index / 4, of: spec.tokenTypes.count) {
                spec.tokenTypes[id] = TokenizerSpec.TokenType(rawValue: Int32(unsigned % 7)) ?? .normal
            }
        case (1, true): spec.tokenTypes = Array(spec.tokenTypes.prefix(count))
        case (2, false): if let id = Self.element(index / 4, of: spec.scores.count) { spec.scores[id] = float }
        case (2, true): spec.scores = Array(spec.scores.prefix(count))
        case (3, false): if let rank = Self.element(index / 4, of: spec.merges.count) { spec.merges[rank] = text }
        default: spec.merges = Array(spec.merges.prefix(count))
        }
    }

    private func editTensor(_ tensors: inout [TensorEntry], _ position: Int) {
        switch operation % 40 {
        case 24:
            let dimension = (index >> 8) % max(tensors[position].shape.count, 1)
            if tensors[position].shape.isEmpty { tensors[position].shape = [int] } else { tensors[position].shape[dimension] = int }
        case 25:
            if value < 0 { tensors[position].shape = Array(tensors[position].shape.dropLast()) } else { tensors[position].shape.append(int) }
        case 26: tensors[position].storage = [.f32, .f16, .q8, .q6, .q4, .q8r, .q6r, .q4r][Int(unsigned % 8)]
        case 27: tensors[position].groupSize = int
        case 28: tensors[position].region = int
        case 29: tensors[position].rowsPerBlock = int
        case 30: tensors[position].framesPerBlock = int
        case 31: tensors[position].name = value >= 0 ? tensors[Int(unsigned % UInt64(tensors.count))].name : text
        case 32:
            if value < 0 { tensors.remove(at: position) } else { tensors.append(tensors[position]) }
        default: tensors.swapAt(position, Int(unsigned % UInt64(tensors.count)))
        }
    }

    private func editFrame(_ frames: inout [FrameEntry], _ position: Int) {
        switch operation % 40 {
        case 34: frames[position].offset = unsigned
        case 35: frames[position].storedLength = unsigned
        case 36: frames[position].decodedLength = unsigned
        case 37:
            frames[position].encoding = frames[position].encoding == .raw ? .zstd : .raw
            frames[position].shuffle = int
        default:
            if value < 0 { frames.remove(at: position) } else { frames.append(frames[position]) }
        }
    }

    /// Data bytes, header fields, the header checksum and the file's length.
    private func editSurroundings(_ surroundings: inout Surroundings) {
        switch index % 4 {
        case 0:
            // Two bytes of the data area, e.g. an fp16 scale made infinite or NaN.
            guard surroundings.data.count >= 2 else { return }
            let offset = Int(UInt32(truncatingIfNeeded: unsigned)) % (surroundings.data.count - 1)
            surroundings.data[offset] = UInt8(truncatingIfNeeded: unsigned >> 32)
            surroundings.data[offset + 1] = UInt8(truncatingIfNeeded: unsigned >> 40)
        case 1: surroundings.headerFields[(index >> 2) % 6] = unsigned
        case 2: surroundings.staleHeaderChecksum = true
        default: surroundings.lengthChange = Int(truncatingIfNeeded: Int16(truncatingIfNeeded: value))
        }
    }
}
