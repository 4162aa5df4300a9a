import WStreamRuntime

/// What to generate and when to stop.
public struct GenerationOptions: Sendable, Equatable {
    /// Most tokens to generate (`-n`).
    public var maxTokens = 128
    public var sampling = SamplingOptions()
    /// Generation ends before any of these strings would be printed.
    public var stopStrings: [String] = []
    /// Put BOS (as the model's metadata says) in front of the prompt.
    public var addSpecialTokens = true
    /// Turn special-token text in the prompt (e.g. `<|im_start|>`) into those tokens; chat templates need it.
    public var parseSpecialTokens = false

    public init() {}
}

/// Why generation ended.
public enum StopReason: String, Sendable, Equatable {
    /// The model produced an end-of-sequence token.
    case endOfSequence = "eos"
    /// `maxTokens` were generated.
    case maxTokens = "length"
    /// A stop string appeared.
    case stopString = "stop"
    /// The KV cache reached the context the budget was planned for.
    case contextFull = "context"
    /// The consumer stopped listening.
    case cancelled
}

/// Figures of one generation, as `--stats` prints them.
public struct GenerationStatistics: Sendable, Equatable {
    public var promptTokens = 0
    public var prefillSeconds = 0.0
    public var generatedTokens = 0
    /// Forward passes between the prompt's end and the last token: one per generated token but the first, whose
    /// logits the prompt's pass gave (one more when a stop token ends the generation, as its pass ran too).
    public var decodeSteps = 0
    public var decodeSeconds = 0.0
    public var stopReason = StopReason.maxTokens
    /// VmHWM after generation: the process's peak resident set so far.
    public var peakResidentBytes = 0
    /// VmPeak after generation: the most address space the process has mapped so far.
    public var peakAddressSpaceBytes = 0
    public var budgetBytes: Int?
    public var poolBytes = 0
    /// Bytes of weights one forward pass reads (every unit, resident or streamed).
    public var weightBytes = 0
    /// Everything the plan counts besides the pool: resident bytes, and address space.
    public var workingSetBytes = 0
    public var workingSetAddressSpace = 0
    public var residentRegions = 0
    public var streamedRegions = 0
    public var hits = 0
    public var misses = 0
    /// How streamed units reached memory (nil when nothing streams).
    public var streamingIO: StreamingIO?
    /// Bytes of streamed units brought into memory while generating (after the prompt).
    public var bytesStreamed = 0
    /// Time the background queue spent bringing streamed units in while generating.
    public var streamingSeconds = 0.0
    /// Time generation waited for a streamed unit.
    public var stallSeconds = 0.0

    public init() {}

    public var prefillTokensPerSecond: Double { prefillSeconds > 0 ? Double(promptTokens) / prefillSeconds : 0 }
    /// Decode forward passes per second, as llama.cpp's `llama-bench` counts them: the first generated token
    /// comes with the prompt's pass, so counting it here would credit one token more than the passes timed.
    public var decodeTokensPerSecond: Double { decodeSeconds > 0 ? Double(decodeSteps) / decodeSeconds : 0 }
    /// Streamed bytes per decode forward pass (per generated token once the first is out).
    public var bytesStreamedPerToken: Int { bytesStreamed / max(decodeSteps, 1) }
    /// Speed of the background queue while generating, in bytes per second.
    public var streamingBytesPerSecond: Double { streamingSeconds > 0 ? Double(bytesStreamed) / streamingSeconds : 0 }
}

/// Ids and text of one generation.
public struct GenerationResult: Sendable, Equatable {
    public var promptIds: [Int]
    public var generatedIds: [Int]
    public var text: String
    public var statistics: GenerationStatistics
}
