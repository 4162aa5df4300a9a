import WStreamQuant

/// How `Packer` stores a model.
public struct PackOptions: Sendable, Equatable {
    /// 4, 6 or 8: affine groups; 16: fp16; 32: float32 exactly as the source holds it.
    public var bits = 4
    /// Affine group size along the input dimension: 32, 64 or 128.
    public var groupSize = 32
    /// Bits of the output head (the token table when embeddings are tied). nil: 6 when `bits` is 4, else `bits`.
    /// The head turns the last hidden state into every token's logit, so its error reaches the sampler
    /// undiluted; llama.cpp keeps it at 6 bits (q6_K) for the same reason. 6 bits read a quarter fewer bytes
    /// than 8 for a decode step's largest matrix (a third of Llama-3.2-1B's bytes), at a mean KL on stories260K
    /// within 3 % of 8 bits'.
    public var headBits: Int?
    /// How groups' scales and biases are chosen.
    public var method = QuantizationMethod.leastSquares
    /// How groups' scales and biases are stored when quantised here (carried groups keep fp16):
    /// `.rowScaled` by default: 4.5 bits per 4-bit weight instead of 5, so a decode step reads 9 % fewer bytes (LFM2-1.2B
    /// shape), for a squared error 0.5 % above fp16 parameters'.
    public var groupParameters = GroupParameters.rowScaled
    /// zstd level for frames; nil stores every frame raw, which is the default: a raw unit is read straight into
    /// place or computed on where it is mapped, while zstd saves only ~5 % of a 4-bit model and costs a decode on
    /// every pass of a streamed unit (docs/ARCHITECTURE.md has the figures).
    public var compressionLevel: Int?
    /// Threads that quantise and compress blocks in parallel.
    public var threads = 2
    /// Re-quantize every matrix from its dequantized values even where the source's own groups (MLX, GGUF Q4_0, …)
    /// could be carried over. Off by default: carrying avoids a second rounding.
    public var requantize = false
    /// Carry groups a source stores natively (MLX: 4- or 8-bit, or any width up to 8, in groups of 32, 64 or 128) at
    /// their own width and group size, whatever `bits` says: the model stays as it was published. When false they are
    /// re-quantized to `bits` from their dequantized values; `wstream pack` turns it off when `--bits` is given.
    /// GGUF blocks mapped onto groups are carried only where their codes fit `bits` (the head: `effectiveHeadBits`).
    public var keepNativeGroups = true

    public init() {}

    /// The bits the output head is stored with.
    public var effectiveHeadBits: Int { headBits ?? (bits == 4 ? 6 : bits) }

    /// The values `wstream pack` accepts.
    public static let supportedBits = [4, 6, 8, 16, 32]
    public static let supportedGroupSizes = [32, 64, 128]
}

/// Progress of a pack, reported after each tensor.
public struct PackProgress: Sendable {
    public var tensorName: String
    public var tensorsDone: Int
    public var tensorCount: Int
    /// Source elements converted so far, as float32 bytes.
    public var bytesDone: Int
    public var bytesTotal: Int
}

/// What a pack produced, for the closing report.
public struct PackSummary: Sendable {
    public var tensorCount = 0
    public var parameterCount = 0
    public var outputBytes = 0
    public var seconds = 0.0
    /// Decoded and stored bytes of the 4/8-bit codes.
    public var codesDecoded = 0
    public var codesStored = 0
    /// Decoded and stored bytes of the fp16 scales and biases.
    public var scalesDecoded = 0
    public var scalesStored = 0
    /// Decoded and stored bytes of f16/f32 tensors.
    public var floatsDecoded = 0
    public var floatsStored = 0
    /// Tensors per origin (`carried from Q4_0`, `quantized from BF16`, …).
    public var origins: [TensorOrigin: Int] = [:]
    /// How the groups of carried tensors went, per source scheme (`Q4_K`, `MLX q4 g64`).
    public var carriedGroups: [String: CarriedGroupCounts] = [:]

    /// One line: tensors per origin, with any carried groups that were rounded or re-quantized, e.g.
    /// `13 carried from Q4_K (… groups with scale or bias rounded to fp16), 3 re-quantized from Q6_K, 5 converted from F32`.
    public var originLine: String {
        origins.sorted { ($0.key.orderIndex, $0.key.source) < ($1.key.orderIndex, $1.key.source) }.map { origin, count in
            let note = origin.path == .carried ? carriedGroups[origin.source]?.note.map { " (\($0))" } ?? "" : ""
            return "\(count) \(origin)\(note)"
        }.joined(separator: ", ")
    }

    /// Bits per parameter of the whole file.
    public var bitsPerWeight: Double { parameterCount > 0 ? Double(outputBytes) * 8 / Double(parameterCount) : 0 }
}
