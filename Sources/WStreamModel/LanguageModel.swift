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
///
/// One thread uses a model at a time (an `Engine` hands it between threads on its queue, hence `Sendable`).
public final class LanguageModel: @unchecked Sendable {
    /// What to size the model's memory for.
    public struct Options: Sendable {
        /// Positions each sequence's KV cache holds (prompt plus generated tokens).
        public var contextLength: Int
        /// Ceiling on the whole process's peak RSS. nil: under an address-space limit (`RLIMIT_AS`), the budget that
        /// limit leaves room for (`WorkingSet.budget(fitting:)`); otherwise, unless `allowance` is given, plans as if
        /// memory were unlimited (everything resident).
        public var budget: MemoryBudget?
        /// Bytes this model may add to the process as it is now, instead of a whole-process `budget`: how a host
        /// of several models shares one budget among them.
        public var allowance: Int?
        /// Compute threads.
        public var threads: Int
        /// Prompt tokens run through each block together (each streamed block is decoded once per chunk).
        public var chunkSize = 32
        /// Sequences that can be generated at once (one forward pass serves all of them); each has its own KV cache.
        public var sequences = 1
        /// Keep logits for every position of a chunk (evaluation) instead of the last only.
        public var logitsForEveryPosition = false
        /// Store the KV cache as float16 (half the memory). nil: float16 unless the file holds float32
        /// weights (`--bits 32`), which compute in float32 throughout.
        public var float16Cache: Bool?
        /// How 4- and 8-bit weights meet the activations: int8 activations with integer dot products (the
        /// default, several times faster), or float32, for comparisons against references computed in float32.
        public var activationPrecision = ActivationPrecision.int8
        /// How streamed units reach memory. nil: `.direct` inside a memory cgroup with a limit (which charges the page
        /// cache to the process's group), `.mapped` otherwise.
        public var streamingIO: StreamingIO?

        public init(contextLength: Int, budget: MemoryBudget?, threads: Int) {
            self.contextLength = contextLength
            self.budget = budget
            self.threads = threads
        }
    }

    /// What a model needs beyond the process as it is: the parts of its working set, and the smallest and the
    /// fully resident sizes of its pool.
    public struct MemoryNeeds: Sendable {
        /// The model's own working set (caches, activations, scratch, its threads), without the process.
        public let workingSet: WorkingSet
        /// One streaming slot: the smallest pool.
        public let minimumPoolBytes: Int
        /// Every unit resident.
        public let fullyResidentPoolBytes: Int

        /// The least memory the model runs in.
        public var minimumBytes: Int { workingSet.bytes + minimumPoolBytes }
        /// The memory at which every weight stays resident.
        public var fullyResidentBytes: Int { workingSet.bytes + fullyResidentPoolBytes }
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
    /// One state per sequence that can run at once; `feed` and `generate(promptIds:)` use the first.
    let sequences: [SequenceState]
    private let pool: BufferPool
    /// Runs generations on the sequences, several at once.
    public private(set) lazy var generations = GenerationBatch(model: self)

    /// Opens `path` and reserves memory for `options`.
    /// - Throws: `FormatError` for a damaged file, `ModelError` for a file its family cannot run,
    ///   `RuntimeError.budgetTooSmall` (with the minimum) when the budget cannot hold the working set.
    public convenience init(path: String, options: Options) throws {
        let reader = try ContainerReader(path: path)
        try self.init(reader: reader, tokenizer: try Tokenizer(spec: reader.metadata.tokenizer), options: options)
    }

    /// What `options` need from a model read by `reader`, without loading anything.
    /// - Throws: `ModelError` for a file its family cannot run.
    public static func needs(reader: ContainerReader, options: Options) throws -> MemoryNeeds {
        let opening = try Opening(reader: reader, options: options)
        let sizes = opening.units.all.map(\.slotBytes)
        return MemoryNeeds(workingSet: opening.workingSet, minimumPoolBytes: sizes.max() ?? 0, fullyResidentPoolBytes: sizes.reduce(0, +))
    }

    /// Plans and loads a model whose file and tokenizer are already open.
    public init(reader: ContainerReader, tokenizer: Tokenizer, options: Options) throws {
        ProcessLimits.prepare()
        self.reader = reader
        self.tokenizer = tokenizer
        path = reader.path
        config = reader.metadata.config
        let opening = try Opening(reader: reader, options: options)
        var options = opening.options
        let cycle = Array(opening.units.all.indices)
        let layouts = Dictionary(uniqueKeysWithValues: opening.units.all.enumerated().map { ($0.offset, $0.element) })
        let sizes = layouts.mapValues(\.slotBytes)

        if let allowance = options.allowance {
            // A share of a host's budget: the process is the host's to account for, so only the model's parts count.
            workingSet = opening.workingSet
            plan = try workingSet.plan(budget: MemoryBudget(bytes: allowance), cycle: cycle, sizes: sizes)
        } else {
            workingSet = WorkingSet(ProcessBaseline.measure() + opening.workingSet.parts)
            let addressSpaceLimit = ProcessLimits.addressSpaceLimit
            let budgetFromLimit = options.budget == nil && addressSpaceLimit != nil
            if budgetFromLimit, let addressSpaceLimit { options.budget = workingSet.budget(fitting: addressSpaceLimit) }
            if let budget = options.budget {
                // Planning first: a budget below the working set is told its minimum, whatever the peak so far.
                do {
                    plan = try workingSet.plan(budget: budget, cycle: cycle, sizes: sizes, addressSpaceLimit: addressSpaceLimit)
                } catch RuntimeError.budgetTooSmall(_, let minimum, _) where budgetFromLimit {
                    // Nobody asked for this budget: the limit is what is too small.
                    throw RuntimeError.addressSpaceLimitTooSmall(
                        limit: addressSpaceLimit!, budget: budget.bytes, overhead: workingSet.addressSpaceOverhead, minimum: minimum)
                }
                let peak = ResidentMemory.read().peak
                guard peak <= budget.bytes else { throw RuntimeError.alreadyOverBudget(budget: budget.bytes, peak: peak) }
            } else {
                plan = StreamingPlan.make(cycle: cycle, sizes: sizes, available: .max)!
            }
        }

        pool = try BufferPool(byteCount: LayerStreamer.poolBytes(plan: plan, layouts: layouts, io: opening.io))
        streamer = LayerStreamer(reader: reader, plan: plan, layouts: layouts, pool: pool, io: opening.io)
        try streamer.loadResidentRegions()
        let config = config, context = options.contextLength
        sequences = (0..<options.sequences).map { _ in
            SequenceState(family: opening.family, config: config, capacity: context, float16Cache: opening.float16Cache)
        }
        let activations = Activations(config: config, widestMatrix: opening.widestMatrix, rows: opening.rows,
                                      logitRows: opening.logitRows, context: options.contextLength)
        stack = TransformerStack(
            config: config, family: opening.family, file: path,
            embedding: EmbeddingTable(reader: reader, entry: reader.tensor(named: TensorName.tokenEmbedding)!),
            outputMatrix: opening.layout.outputMatrix, streamer: streamer,
            pool: ComputePool(threadCount: options.threads), precision: options.activationPrecision,
            activations: activations, blockUnits: opening.units.blocks, headUnits: opening.units.head)
        self.options = options
    }

    deinit { streamer.drain() }

    /// Everything opening a model decides before it allocates: the family, the checked layout, the units the
    /// streamer serves, buffer sizes, and the model's own working set.
    private struct Opening {
        let options: Options
        let family: any ModelFamily
        let layout: ModelFileValidation.Layout
        let units: (all: [RegionLayout], blocks: [Int], head: [Int])
        let io: StreamingIO
        let rows: Int
        let logitRows: Int
        let float16Cache: Bool
        let widestMatrix: Int
        let workingSet: WorkingSet

        init(reader: ContainerReader, options given: Options) throws {
            let config = reader.metadata.config
            var options = given
            options.contextLength = max(1, min(options.contextLength, config.contextLength))
            options.sequences = max(1, options.sequences)
            self.options = options
            try ModelFileValidation.validate(config, file: reader.path)
            family = try ModelFamilies.family(for: config, file: reader.path)
            layout = try ModelFileValidation.validate(reader: reader, config: config, family: family)
            units = LanguageModel.streamingUnits(reader: reader, blocks: layout.blockRegions, head: layout.headRegion)
            io = options.streamingIO ?? (MemoryCgroup.currentLimit() != nil ? .direct : .mapped)
            // A forward pass holds a prompt chunk, or one row for each sequence decoding together.
            rows = max(1, min(options.chunkSize, options.contextLength), options.sequences)
            logitRows = options.logitsForEveryPosition ? rows : options.sequences
            float16Cache = options.float16Cache ?? (reader.metadata.quantization.bits < 32)
            widestMatrix = LanguageModel.widestBlockMatrix(family: family, config: config)
            let embedding = reader.tensor(named: TensorName.tokenEmbedding)!
            let sequenceBytes = SequenceState.byteCount(family: family, config: config, capacity: options.contextLength, float16Cache: float16Cache)
            // Threads this model starts: the compute workers, the streamer's queue, and one for whoever runs it.
            workingSet = WorkingSet([
                ProcessBaseline.growth(threadsToStart: options.threads + 1),
                WorkingSet.Part("KV cache and state", bytes: options.sequences * sequenceBytes),
                WorkingSet.Part("activations", bytes: Activations.byteCount(
                    config: config, widestMatrix: widestMatrix, rows: rows, logitRows: logitRows, context: options.contextLength)),
                Sampler.workingSetPart(vocabulary: config.vocabSize, context: options.contextLength),
                EmbeddingTable.workingSetPart(for: embedding),
                LayerStreamer.workingSetPart(reader: reader, layouts: units.all),
            ].filter { $0.bytes > 0 })
        }
    }

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

    /// The sequence `feed` and `generate(promptIds:)` work on.
    var sequence: SequenceState { sequences[0] }

    /// Positions consumed so far in the first sequence.
    public var position: Int { sequence.position }

    /// Starts the first sequence over (clears its KV cache position and convolution state).
    public func reset() {
        sequence.reset()
        generations.forget(0)
    }

    /// Feeds `tokens` (any number) to the first sequence and returns the logits after the last one (`[vocab]`,
    /// valid until the next call).
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

    /// Largest number of tokens one forward pass takes.
    public var chunkCapacity: Int { stack.activations.rowCapacity }

    /// Streaming counters (hits, misses, bytes streamed).
    public var streamingStatistics: LayerStreamer.Statistics { streamer.statistics }
}
