/// The metadata block of a `.wst` file: what the model is and where every byte of it lies.
///
/// Serialised as UTF-8 JSON (see docs/FORMAT.md). Field names are part of the format.
public struct ContainerMetadata: Codable, Sendable, Equatable {
    public var config: ModelConfig
    public var tokenizer: TokenizerSpec
    public var quantization: QuantizationInfo
    /// Page-aligned regions in file order: `embed`, `layer.0` … `layer.N-1`, `head`.
    public var regions: [RegionEntry]
    public var tensors: [TensorEntry]
    /// Free-form provenance: the source path, the tool and version that wrote the file.
    public var producer: [String: String]

    public init(
        config: ModelConfig, tokenizer: TokenizerSpec, quantization: QuantizationInfo,
        regions: [RegionEntry], tensors: [TensorEntry], producer: [String: String] = [:]
    ) {
        self.config = config
        self.tokenizer = tokenizer
        self.quantization = quantization
        self.regions = regions
        self.tensors = tensors
        self.producer = producer
    }
}

/// How the linear-layer weights were quantised at pack time.
public struct QuantizationInfo: Codable, Sendable, Equatable {
    /// 4 or 8 (affine groups), 16 (fp16) or 32 (float32 as the source held it).
    public var bits: Int
    /// Elements per affine group along a row (the input dimension); 0 for 16 and 32 bits.
    public var groupSize: Int

    public init(bits: Int, groupSize: Int) {
        self.bits = bits
        self.groupSize = groupSize
    }
}

/// One contiguous, alignment-aligned byte range of the file holding a unit the runtime streams as a whole.
public struct RegionEntry: Codable, Sendable, Equatable {
    /// `embed`, `layer.<i>` or `head`.
    public var name: String
    /// File offset; a multiple of the header's alignment.
    public var offset: UInt64
    /// Bytes from `offset` to the end of the region's last frame.
    public var length: UInt64

    public init(name: String, offset: UInt64, length: UInt64) {
        self.name = name
        self.offset = offset
        self.length = length
    }
}

/// How a tensor's elements are stored once decoded.
public enum StorageType: String, Codable, Sendable {
    /// IEEE float32, row-major.
    case f32
    /// IEEE float16, row-major.
    case f16
    /// 8-bit affine groups (see `WStreamQuant.QuantizedLayout`).
    case q8
    /// 4-bit affine groups, two codes per byte (see `WStreamQuant.QuantizedLayout`).
    case q4
    /// 8-bit affine groups whose parameters are 8-bit multiples of a float32 scale per row
    /// (`WStreamQuant.GroupParameters.rowScaled`).
    case q8r
    /// 4-bit affine groups whose parameters are 8-bit multiples of a float32 scale per row.
    case q4r
    /// 6-bit affine groups: 4-bit nibbles plus a plane of top bits per 128 columns (see
    /// `WStreamQuant.SixBitCodes`), with fp16 parameters.
    case q6
    /// 6-bit affine groups whose parameters are 8-bit multiples of a float32 scale per row.
    case q6r

    /// Bits per code of the quantized types; nil for f32/f16.
    public var codeBits: Int? {
        switch self {
        case .f32, .f16: nil
        case .q8, .q8r: 8
        case .q6, .q6r: 6
        case .q4, .q4r: 4
        }
    }

    /// Whether group parameters are 8-bit multiples of a row scale (2 bytes per group and 4 per row)
    /// rather than an fp16 scale and bias (4 bytes per group).
    public var isRowScaled: Bool { self == .q8r || self == .q6r || self == .q4r }
}

/// One tensor: its shape, storage, and the frames that hold it.
///
/// The decoded tensor is a sequence of row blocks of `rowsPerBlock` rows (the last may be shorter).
/// Each block is stored as `framesPerBlock` consecutive frames whose decoded bytes, concatenated,
/// are that block's decoded bytes; blocks follow each other in `frames`.
public struct TensorEntry: Codable, Sendable, Equatable {
    public var name: String
    /// `[rows, cols]` for matrices, `[count]` for vectors (one row).
    public var shape: [Int]
    public var storage: StorageType
    /// Affine group size for the quantized types; 0 otherwise.
    public var groupSize: Int
    /// Index into `ContainerMetadata.regions`.
    public var region: Int
    public var rowsPerBlock: Int
    public var framesPerBlock: Int
    public var frames: [FrameEntry]
    /// Where the stored values came from, for people reading the file (e.g. `carried from Q4_0`,
    /// `quantized from BF16`); nil in files written before it existed. Readers never depend on it.
    public var origin: String?

    public init(
        name: String, shape: [Int], storage: StorageType, groupSize: Int, region: Int,
        rowsPerBlock: Int, framesPerBlock: Int, frames: [FrameEntry], origin: String? = nil
    ) {
        self.name = name
        self.shape = shape
        self.storage = storage
        self.groupSize = groupSize
        self.region = region
        self.rowsPerBlock = rowsPerBlock
        self.framesPerBlock = framesPerBlock
        self.frames = frames
        self.origin = origin
    }

    /// Rows of the matrix (1 for a vector).
    public var rows: Int { shape.count == 2 ? shape[0] : 1 }
    /// Columns of the matrix (the length of a vector).
    public var cols: Int { shape.last ?? 0 }
    /// Row blocks in the tensor (written so that hostile sizes cannot overflow).
    public var blockCount: Int { rowsPerBlock <= 0 ? 0 : rows / rowsPerBlock + (rows % rowsPerBlock == 0 ? 0 : 1) }
    /// Bytes of the whole tensor once decoded.
    public var decodedByteCount: Int { frames.reduce(0) { $0 + Int($1.decodedLength) } }
}

/// How a frame's stored bytes turn into its decoded bytes.
public enum FrameEncoding: String, Codable, Sendable {
    /// Stored bytes are the decoded bytes (after un-shuffling).
    case raw
    /// Stored bytes are one zstd frame.
    case zstd
}

/// One independently decodable piece of a tensor.
public struct FrameEntry: Codable, Sendable, Equatable {
    /// Absolute file offset of the stored bytes.
    public var offset: UInt64
    public var storedLength: UInt64
    public var decodedLength: UInt64
    /// XXH64 (seed 0) of the stored bytes.
    public var checksum: UInt64
    public var encoding: FrameEncoding
    /// When above 1, the decoded bytes were byte-shuffled with this element size before encoding
    /// (all first bytes of every element, then all second bytes, …) and must be un-shuffled after.
    public var shuffle: Int

    public init(offset: UInt64, storedLength: UInt64, decodedLength: UInt64, checksum: UInt64, encoding: FrameEncoding, shuffle: Int) {
        self.offset = offset
        self.storedLength = storedLength
        self.decodedLength = decodedLength
        self.checksum = checksum
        self.encoding = encoding
        self.shuffle = shuffle
    }
}
