import WStreamFormat
import WStreamQuant
import WStreamRuntime
import WStreamTokenizer

/// A `.wst` model opened for inference within a memory budget.
///
/// Opening measures what the process already holds, adds the KV cache, activations and margins for the
/// requested context, and fits a `StreamingPlan` into the rest; a budget below the minimum working set
/// is refused here, before anything large is allocated.
public final class LanguageModel {
    /// What to size the model's memory for.
    public struct Options: Sendable {
        /// Positions the KV cache holds (prompt plus generated tokens).
        public var contextLength: Int
        /// Ceiling on peak RSS; nil plans as if memory were unlimited (everything resident).
        public var budget: MemoryBudget?
        /// Compute threads.
        public var threads: Int
        /// Prompt tokens run through each block together (each streamed block is decoded once per chunk).
        public var chunkSize = 32
        /// Keep logits for every position of a chunk (evaluation) instead of the last only.
        public var logitsForEveryPosition = false
        /// Store the KV cache as float16 (half the memory). nil: float16 unless the file holds float32
        /// weights (`--bits 32`), which compute in float32 throughout.
        public var float16Cache: Bool?

        public init(contextLength: Int, budget: MemoryBudget?, threads: Int) {
            self.contextLength = contextLength
            self.budget = budget
            self.threads = threads
        }
    }

    public let path: String
    public let config: ModelConfig
    public let tokenizer: Tokenizer
    public let options: Options
    public let plan: StreamingPlan
    /// The fixed costs the plan was made around, for `--stats` and errors.
    public let workingSet: WorkingSet
    let reader: ContainerReader
    let streamer: LayerStreamer
    let decoder: DecoderModel
    let state: InferenceState
    private let pool: BufferPool
    /// Tokens the state holds, in order (so a chat's next turn feeds only what is new).
    var consumed: [Int] = []

    /// Opens `path` and reserves memory for `options`.
    /// - Throws: `FormatError` for a damaged file, `ModelError` for a missing tensor,
    ///   `RuntimeError.budgetTooSmall` (with the minimum) when the budget cannot hold the working set.
    public convenience init(path: String, options: Options) throws {
        let reader = try ContainerReader(path: path)
        try self.init(reader: reader, tokenizer: try Tokenizer(spec: reader.metadata.tokenizer), options: options)
    }

    /// Plans and loads a model whose file and tokenizer are already open.
    public init(reader: ContainerReader, tokenizer: Tokenizer, options: Options) throws {
        self.reader = reader
        self.tokenizer = tokenizer
        path = reader.path
        config = reader.metadata.config
        var options = options
        options.contextLength = max(1, min(options.contextLength, config.contextLength))

        let regions = try Self.regions(of: reader)
        try Self.validate(reader: reader, config: config, blockRegions: regions.blocks)
        let units = Self.streamingUnits(reader: reader, blocks: regions.blocks, head: regions.head)
        let cycle = Array(units.all.indices)
        let layouts = Dictionary(uniqueKeysWithValues: units.all.enumerated().map { ($0.offset, $0.element) })

        let computePool = ComputePool(threadCount: options.threads)
        let chunk = max(1, min(options.chunkSize, options.contextLength))
        let logitRows = options.logitsForEveryPosition ? chunk : 1
        let float16Cache = options.float16Cache ?? (reader.metadata.quantization.bits < 32)
        let stateBytes = InferenceState.byteCount(config: config, capacity: options.contextLength, float16Cache: float16Cache)
        let activationBytes = Activations.byteCount(config: config, chunk: chunk, logitRows: logitRows, context: options.contextLength)
        let margin = Self.margin(reader: reader, config: config)
        let process = ResidentMemory.read()
        workingSet = WorkingSet(fixed: [
            ("process", process.current), ("KV cache and state", stateBytes), ("activations", activationBytes), ("margin", margin),
        ])
        if let budget = options.budget {
            // Planning first: a budget below the working set is told its minimum, whatever the peak so far.
            plan = try workingSet.plan(budget: budget, cycle: cycle, sizes: layouts.mapValues(\.byteCount))
            guard process.peak <= budget.bytes else { throw RuntimeError.alreadyOverBudget(budget: budget.bytes, peak: process.peak) }
        } else {
            plan = StreamingPlan.make(cycle: cycle, sizes: layouts.mapValues(\.byteCount), available: .max)!
        }

        pool = try BufferPool(byteCount: plan.poolBytes)
        streamer = LayerStreamer(reader: reader, plan: plan, layouts: layouts, pool: pool)
        try streamer.loadResidentRegions()
        state = InferenceState(config: config, capacity: options.contextLength, float16Cache: float16Cache)
        let activations = Activations(config: config, chunk: chunk, logitRows: logitRows, context: options.contextLength)
        decoder = try DecoderModel(config: config, file: path, reader: reader, streamer: streamer, pool: computePool,
                                   activations: activations, blockUnits: units.blocks, headUnits: units.head)
        self.options = options
    }

    deinit { streamer.drain() }

    /// Allowance for thread stacks, allocator slack and the Swift runtime's own growth during a run.
    static let fixedMargin = 6 << 20

    /// What the budget must leave besides the measured process, the state and the activations: file pages
    /// read but not yet released (the decoder's pending range, one frame, and on both the decoder's and the
    /// embedding lookup's side one mapping window beyond what was read), the sampler's scratch, one
    /// embedding block, and `fixedMargin`.
    private static func margin(reader: ContainerReader, config: ModelConfig) -> Int {
        let largestFrame = reader.metadata.tensors.flatMap(\.frames).map { Int($0.storedLength) }.max() ?? 0
        let embedding = reader.tensor(named: TensorName.tokenEmbedding)!
        return fixedMargin + LayerStreamer.releaseGranularity + largestFrame + 4 * ContainerReader.releaseWindow
            + 16 * config.vocabSize + EmbeddingTable.scratchBytes(for: embedding)
    }

    /// The units the streamer serves: one per block, then the head cut into parts no larger than a block,
    /// so that a large vocabulary's output matrix never sets the size of a streaming slot.
    private static func streamingUnits(reader: ContainerReader, blocks: [Int], head: Int) -> (all: [RegionLayout], blocks: [Int], head: [Int]) {
        let blockLayouts = blocks.map { RegionLayout(region: $0, in: reader) }
        let largestBlock = blockLayouts.map(\.byteCount).max() ?? 0
        let headParts = RegionLayout(region: head, in: reader).split(maximumBytes: max(largestBlock, 1 << 20))
        return (blockLayouts + headParts, Array(blockLayouts.indices), Array(blockLayouts.count..<(blockLayouts.count + headParts.count)))
    }

    /// Positions consumed so far in the current sequence.
    public var position: Int { state.position }

    /// Starts a new sequence (clears the KV cache position and convolution state).
    public func reset() {
        state.reset()
        consumed = []
    }

    /// Feeds `tokens` (any number) and returns the logits after the last one (`[vocab]`, valid until the next call).
    public func feed(_ tokens: [Int]) throws -> UnsafeBufferPointer<Float> {
        var logits: UnsafeMutablePointer<Float>?
        var start = 0
        while start < tokens.count {
            let end = min(start + decoder.activations.chunkCapacity, tokens.count)
            logits = try decoder.forward(tokens[start..<end], state: state)
            start = end
        }
        return UnsafeBufferPointer(start: logits!, count: config.vocabSize)
    }

    /// Feeds at most one chunk and returns logits for every one of its positions (`[count][vocab]`).
    /// Requires `Options.logitsForEveryPosition`.
    public func feedReturningAllLogits(_ tokens: ArraySlice<Int>) throws -> UnsafeBufferPointer<Float> {
        precondition(options.logitsForEveryPosition && tokens.count <= decoder.activations.chunkCapacity)
        let logits = try decoder.forward(tokens, state: state, allLogits: true)
        return UnsafeBufferPointer(start: logits, count: tokens.count * config.vocabSize)
    }

    /// Largest number of tokens `feedReturningAllLogits` takes at once.
    public var chunkCapacity: Int { decoder.activations.chunkCapacity }

    /// Streaming counters (hits, misses, bytes decoded).
    public var streamingStatistics: LayerStreamer.Statistics { streamer.statistics }

    // MARK: - Opening

    private static func regions(of reader: ContainerReader) throws -> (blocks: [Int], head: Int) {
        let config = reader.metadata.config
        let blocks = try (0..<config.layerCount).map { layer in
            guard let index = reader.regionIndex(named: "layer.\(layer)") else { throw RuntimeError.missingRegion("layer.\(layer)") }
            return index
        }
        guard let head = reader.regionIndex(named: "head") else { throw RuntimeError.missingRegion("head") }
        return (blocks, head)
    }

    /// The configuration is coherent and every tensor the architecture needs is present, in the region of its
    /// block, with the shape the configuration implies, before anything is loaded: checksums prove a file
    /// intact, not sane, and the kernels trust these shapes.
    private static func validate(reader: ContainerReader, config: ModelConfig, blockRegions: [Int]) throws {
        func invalid(_ detail: String) -> ModelError { .invalidConfiguration(file: reader.path, detail: detail) }
        guard config.hiddenSize > 0, config.headCount > 0, config.kvHeadCount > 0, config.headCount % config.kvHeadCount == 0 else {
            throw invalid("\(config.headCount) heads cannot share \(config.kvHeadCount) key/value heads (hidden \(config.hiddenSize))")
        }
        guard config.headDim > 0, config.headDim % 2 == 0 else { throw invalid("head width \(config.headDim) is not a positive even number") }
        guard config.blockKinds.count == config.layerCount else { throw invalid("\(config.blockKinds.count) block kinds for \(config.layerCount) blocks") }
        if config.blockKinds.contains(.shortConv), config.convKernelSize < 1 { throw invalid("convolution kernel \(config.convKernelSize)") }
        if let factors = config.ropeFrequencyFactors, factors.count != config.headDim / 2 || factors.contains(where: { !($0 > 0) }) {
            throw invalid("\(factors.count) RoPE frequency factors for a head width of \(config.headDim)")
        }
        func check(_ name: String, _ expected: [Int]) throws {
            guard let tensor = reader.tensor(named: name) else { throw ModelError.missingTensor(file: reader.path, tensor: name) }
            guard tensor.shape == expected else {
                throw ModelError.shapeMismatch(file: reader.path, tensor: name, expected: expected, found: tensor.shape)
            }
        }
        let definition = config.architecture.definition
        for (layer, region) in blockRegions.enumerated() {
            let required = definition.requiredTensors(layer: layer, kind: config.blockKinds[layer])
            for part in BlockTensor.allCases {
                let name = TensorName.block(layer, part)
                guard required.contains(part) || reader.tensor(named: name) != nil else { continue }
                try check(name, part.expectedShape(config))
                guard reader.tensor(named: name)?.region == region else { throw ModelError.missingTensor(file: reader.path, tensor: name) }
            }
        }
        try check(TensorName.tokenEmbedding, [config.vocabSize, config.hiddenSize])
        try check(TensorName.outputNorm, [config.hiddenSize])
        if reader.tensor(named: TensorName.output) != nil { try check(TensorName.output, [config.vocabSize, config.hiddenSize]) }
        // The final norm comes first in the head, so its first part normalises before any logits are computed.
        guard let head = reader.regionIndex(named: "head"), reader.tensors(inRegion: head).first?.name == TensorName.outputNorm else {
            throw ModelError.missingTensor(file: reader.path, tensor: TensorName.outputNorm + " (first in the head region)")
        }
    }
}
