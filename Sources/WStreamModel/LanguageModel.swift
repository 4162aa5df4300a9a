import WStreamFormat
import WStreamQuant
import WStreamRuntime
import WStreamTokenizer

/// A `.wst` model opened for inference within a memory budget.
///
/// Opening validates the file against its family, measures what the process already holds, collects every other
/// part of the working set from the component that owns it (caches, activations, scratch, file pages in flight),
/// and fits a `StreamingPlan` into the rest; a budget below the minimum working set is refused here, before
/// anything large is allocated.
public final class LanguageModel {
    /// What to size the model's memory for.
    public struct Options: Sendable {
        /// Positions the KV cache holds (prompt plus generated tokens).
        public var contextLength: Int
        /// Ceiling on peak RSS. nil: under an address-space limit (`RLIMIT_AS`), the budget that limit leaves room
        /// for (`WorkingSet.budget(fitting:)`); otherwise plans as if memory were unlimited (everything resident).
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
        /// How streamed units reach memory. nil: `.direct` inside a memory cgroup with a limit (which charges the page
        /// cache to the process's group), `.mapped` otherwise.
        public var streamingIO: StreamingIO?

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
    /// Everything besides the pool that the plan was made around, for `--stats` and errors.
    public let workingSet: WorkingSet
    let reader: ContainerReader
    let streamer: LayerStreamer
    let stack: TransformerStack
    /// The sequence `feed` and `generate` work on.
    let sequence: SequenceState
    private let pool: BufferPool
    /// Tokens the sequence holds, in order (so a chat's next turn feeds only what is new).
    var consumed: [Int] = []

    /// Opens `path` and reserves memory for `options`.
    /// - Throws: `FormatError` for a damaged file, `ModelError` for a file its family cannot run,
    ///   `RuntimeError.budgetTooSmall` (with the minimum) when the budget cannot hold the working set.
    public convenience init(path: String, options: Options) throws {
        let reader = try ContainerReader(path: path)
        try self.init(reader: reader, tokenizer: try Tokenizer(spec: reader.metadata.tokenizer), options: options)
    }

    /// Plans and loads a model whose file and tokenizer are already open.
    public init(reader: ContainerReader, tokenizer: Tokenizer, options: Options) throws {
        ProcessLimits.prepare()
        self.reader = reader
        self.tokenizer = tokenizer
        path = reader.path
        config = reader.metadata.config
        var options = options
        options.contextLength = max(1, min(options.contextLength, config.contextLength))

        let family = try ModelFamilies.family(for: config, file: path)
        let layout = try ModelFileValidation.validate(reader: reader, config: config, family: family)
        let units = Self.streamingUnits(reader: reader, blocks: layout.blockRegions, head: layout.headRegion)
        let cycle = Array(units.all.indices)
        let layouts = Dictionary(uniqueKeysWithValues: units.all.enumerated().map { ($0.offset, $0.element) })
        let io = options.streamingIO ?? (MemoryCgroup.currentLimit() != nil ? .direct : .mapped)

        let rows = max(1, min(options.chunkSize, options.contextLength))
        let logitRows = options.logitsForEveryPosition ? rows : 1
        let float16Cache = options.float16Cache ?? (reader.metadata.quantization.bits < 32)
        let widestMatrix = Self.widestBlockMatrix(family: family, config: config)
        let embedding = reader.tensor(named: TensorName.tokenEmbedding)!
        // Threads this model starts: the compute workers, the streamer's queue, and one for whoever runs it.
        workingSet = WorkingSet(ProcessBaseline.measure(threadsToStart: options.threads + 1) + [
            WorkingSet.Part("KV cache and state", bytes: SequenceState.byteCount(
                family: family, config: config, capacity: options.contextLength, float16Cache: float16Cache)),
            WorkingSet.Part("activations", bytes: Activations.byteCount(
                config: config, widestMatrix: widestMatrix, rows: rows, logitRows: logitRows, context: options.contextLength)),
            Sampler.workingSetPart(vocabulary: config.vocabSize, context: options.contextLength),
            EmbeddingTable.workingSetPart(for: embedding),
            LayerStreamer.workingSetPart(reader: reader, layouts: units.all),
        ].filter { $0.bytes > 0 })
        let addressSpaceLimit = ProcessLimits.addressSpaceLimit
        let budgetFromLimit = options.budget == nil && addressSpaceLimit != nil
        if budgetFromLimit, let addressSpaceLimit { options.budget = workingSet.budget(fitting: addressSpaceLimit) }
        if let budget = options.budget {
            // Planning first: a budget below the working set is told its minimum, whatever the peak so far.
            do {
                plan = try workingSet.plan(budget: budget, cycle: cycle, sizes: layouts.mapValues(\.slotBytes),
                                           addressSpaceLimit: addressSpaceLimit)
            } catch RuntimeError.budgetTooSmall(_, let minimum, _) where budgetFromLimit {
                // Nobody asked for this budget: the limit is what is too small.
                throw RuntimeError.addressSpaceLimitTooSmall(
                    limit: addressSpaceLimit!, budget: budget.bytes, overhead: workingSet.addressSpaceOverhead, minimum: minimum)
            }
            let peak = ResidentMemory.read().peak
            guard peak <= budget.bytes else { throw RuntimeError.alreadyOverBudget(budget: budget.bytes, peak: peak) }
        } else {
            plan = StreamingPlan.make(cycle: cycle, sizes: layouts.mapValues(\.slotBytes), available: .max)!
        }

        pool = try BufferPool(byteCount: LayerStreamer.poolBytes(plan: plan, layouts: layouts, io: io))
        streamer = LayerStreamer(reader: reader, plan: plan, layouts: layouts, pool: pool, io: io)
        try streamer.loadResidentRegions()
        sequence = SequenceState(family: family, config: config, capacity: options.contextLength, float16Cache: float16Cache)
        let activations = Activations(config: config, widestMatrix: widestMatrix, rows: rows, logitRows: logitRows, context: options.contextLength)
        stack = TransformerStack(
            config: config, family: family, file: path, embedding: EmbeddingTable(reader: reader, entry: embedding),
            outputMatrix: layout.outputMatrix, streamer: streamer, pool: ComputePool(threadCount: options.threads),
            activations: activations, blockUnits: units.blocks, headUnits: units.head)
        self.options = options
    }

    deinit { streamer.drain() }

    /// The most rows any block matrix of `family` has: the width of the activations' wide buffers.
    private static func widestBlockMatrix(family: any ModelFamily, config: ModelConfig) -> Int {
        (0..<config.layerCount).flatMap(family.tensors(ofBlock:)).map { part in
            let shape = part.expectedShape(config)
            return shape.count == 2 ? shape[0] : 0
        }.max() ?? 0
    }

    /// The units the streamer serves: one per block, then the head cut into parts no larger than a block,
    /// so that a large vocabulary's output matrix never sets the size of a streaming slot.
    private static func streamingUnits(reader: ContainerReader, blocks: [Int], head: Int) -> (all: [RegionLayout], blocks: [Int], head: [Int]) {
        let blockLayouts = blocks.map { RegionLayout(region: $0, in: reader) }
        let largestBlock = blockLayouts.map(\.byteCount).max() ?? 0
        let headParts = RegionLayout(region: head, in: reader).split(maximumBytes: max(largestBlock, 1 << 20), reader: reader)
        return (blockLayouts + headParts, Array(blockLayouts.indices), Array(blockLayouts.count..<(blockLayouts.count + headParts.count)))
    }

    /// Positions consumed so far in the current sequence.
    public var position: Int { sequence.position }

    /// Starts a new sequence (clears the KV cache position and convolution state).
    public func reset() {
        sequence.reset()
        consumed = []
    }

    /// Feeds `tokens` (any number) and returns the logits after the last one (`[vocab]`, valid until the next call).
    public func feed(_ tokens: [Int]) throws -> UnsafeBufferPointer<Float> {
        var logits: UnsafeMutablePointer<Float>?
        var start = 0
        while start < tokens.count {
            let end = min(start + chunkCapacity, tokens.count)
            logits = try stack.forward(tokens[start..<end], batch: Batch([sequence], counts: [end - start]))
            start = end
        }
        return UnsafeBufferPointer(start: logits!, count: config.vocabSize)
    }

    /// Feeds at most one chunk and returns logits for every one of its positions (`[count][vocab]`).
    /// Requires `Options.logitsForEveryPosition`.
    public func feedReturningAllLogits(_ tokens: ArraySlice<Int>) throws -> UnsafeBufferPointer<Float> {
        precondition(options.logitsForEveryPosition && tokens.count <= chunkCapacity)
        let logits = try stack.forward(tokens, batch: Batch([sequence], counts: [tokens.count]), allLogits: true)
        return UnsafeBufferPointer(start: logits, count: tokens.count * config.vocabSize)
    }

    /// Largest number of tokens `feedReturningAllLogits` takes at once.
    public var chunkCapacity: Int { stack.activations.rowCapacity }

    /// Streaming counters (hits, misses, bytes decoded).
    public var streamingStatistics: LayerStreamer.Statistics { streamer.statistics }
}
