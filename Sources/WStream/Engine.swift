#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
import WStreamFormat
@_exported import WStreamModel
@_exported import WStreamRuntime
@_exported import WStreamTokenizer

/// The embedding API: open a `.wst` model, load it within a memory allowance, and generate text as a stream
/// of events that ends with the generation's own result.
///
/// ```swift
/// let engine = try Engine(path: "model.wst")
/// try await engine.load(allowance: 600 << 20)        // or load(budget:) for a whole-process ceiling
/// for try await event in engine.generate(prompt: "Once upon a time") {
///     if case .text(let piece) = event { print(piece, terminator: "") }
///     if case .finished(let result) = event { print(result.statistics.decodeTokensPerSecond) }
/// }
/// ```
/// Opening is cheap: it validates the file and builds the tokenizer, and reports what the model needs
/// (`minimumBytes`, `fullyResidentBytes`). `load` plans and fills the pool, so a budget that is too small is
/// refused there, before any generation. Any number of callers may call `generate` at once; today their
/// generations run one at a time in the order they were asked for.
public final class Engine: @unchecked Sendable {
    /// How the engine sizes and runs the model.
    public struct Configuration: Sendable, Equatable {
        /// Compute threads (default: all cores).
        public var threads = Engine.coreCount
        /// KV-cache positions per sequence (prompt plus generated tokens), at most the model's own context.
        public var contextLength = 2048
        /// Sequences that may be in flight at once; each one's KV cache counts in `minimumBytes`.
        public var parallel = 1
        /// Prompt tokens per prefill chunk.
        public var chunkSize = 32
        /// How streamed units reach memory; nil chooses by the memory cgroup (see `LanguageModel.Options.streamingIO`).
        public var streamingIO: StreamingIO?

        /// All cores, 2048 positions, one sequence, chunks of 32.
        public init() {}
    }

    public let path: String
    public let configuration: Configuration
    /// The model's architecture and hyper-parameters.
    public var modelConfig: ModelConfig { reader.metadata.config }
    public let tokenizer: Tokenizer
    /// The model's chat template, or ChatML when it has none.
    public let chatTemplate: ChatTemplate
    /// KV-cache positions each sequence gets: `configuration.contextLength`, capped by the model's context.
    public let contextLength: Int
    /// The least memory the model can run in, beyond what the process holds before loading it: KV caches for
    /// `configuration.parallel` sequences, activations, margins and one streaming slot.
    public let minimumBytes: Int
    /// The memory, beyond what the process holds before loading, at which every weight stays resident.
    public let fullyResidentBytes: Int
    private let reader: ContainerReader
    /// Bytes of one sequence's KV cache and recurrent state at `contextLength`.
    private let sequenceStateBytes: Int
    /// Loads, unloads and generations run here one at a time, so a new plan never replaces one in use.
    private let queue = DispatchQueue(label: "wstream.engine")
    private var model: LanguageModel?
    private let snapshot = Mutex(MemorySnapshot.unloaded)

    /// Opens and validates the file, builds its tokenizer and measures what the model needs; allocates no pool.
    /// - Throws: `FormatError` for an unreadable or damaged file, `ModelError` for a missing or misshapen
    ///   tensor, `EngineError.invalidConfiguration` for a context or parallelism below 1.
    public init(path: String, configuration: Configuration = Configuration()) throws {
        self.path = path
        self.configuration = configuration
        guard configuration.contextLength >= 1, configuration.parallel >= 1, configuration.threads >= 1 else {
            throw EngineError.invalidConfiguration(
                path: path, detail: "context \(configuration.contextLength), parallel \(configuration.parallel) and threads \(configuration.threads) must each be at least 1")
        }
        reader = try ContainerReader(path: path)
        tokenizer = try Tokenizer(spec: reader.metadata.tokenizer)
        chatTemplate = try ChatTemplate(reader.metadata.tokenizer.chatTemplate ?? Self.chatML)
        contextLength = min(configuration.contextLength, reader.metadata.config.contextLength)
        sequenceStateBytes = Self.stateBytes(config: reader.metadata.config, capacity: contextLength,
                                             float16Cache: reader.metadata.quantization.bits < 32)
        let single = try Self.singleSequenceMinimum(reader: reader, tokenizer: tokenizer, options: Self.options(configuration, context: contextLength, budget: nil))
        minimumBytes = single + (configuration.parallel - 1) * sequenceStateBytes
        let units = Self.streamingUnitSizes(reader: reader)
        fullyResidentBytes = minimumBytes - (units.max() ?? 0) + units.reduce(0, +)
    }

    // MARK: - Memory

    /// The engine's memory now: state, pool and KV bytes.
    public var memory: MemorySnapshot { snapshot.withLock { $0 } }

    /// Plans and loads the model so that it grows the process by at most `allowance` bytes from what is resident
    /// now. Called again with another figure, it re-plans once the generation in progress (if any) ends.
    ///
    /// The KV caches of `configuration.parallel - 1` further sequences are kept out of the pool, so the plan
    /// stays valid when sequences run side by side.
    /// - Parameter allowance: bytes; at least `minimumBytes`.
    /// - Throws: `RuntimeError.budgetTooSmall` with the minimum when `allowance` is below it (the engine is then
    ///   left as it was); any error of a failed load leaves the engine unloaded.
    public func load(allowance: Int) async throws {
        guard allowance >= minimumBytes else {
            throw RuntimeError.budgetTooSmall(budget: allowance, minimum: minimumBytes, breakdown: "\(path) at \(contextLength) positions for \(configuration.parallel) sequence(s)")
        }
        let reserve = (configuration.parallel - 1) * sequenceStateBytes
        try await replace(allowance: allowance, context: contextLength) {
            // Today's planner bounds the whole process's peak, and refuses when it already peaked higher:
            // an allowance is relative to what is resident now, so the old peak must not count against it.
            PeakResidentMemory.resetToCurrent()
            return MemoryBudget(bytes: allowance - reserve + ResidentMemory.read().current)
        }
    }

    /// Plans and loads the model under a ceiling on the whole process's peak RSS (what `wstream run --budget`
    /// means), or everything resident when `budget` is nil.
    /// - Parameters:
    ///   - budget: the ceiling on the process's VmHWM, or nil for no ceiling.
    ///   - contextLength: positions to plan for instead of `self.contextLength` (capped by the model's).
    /// - Throws: `RuntimeError.budgetTooSmall` with the minimum, `RuntimeError.alreadyOverBudget`.
    public func load(budget: MemoryBudget?, contextLength: Int? = nil) async throws {
        let context = min(max(1, contextLength ?? self.contextLength), modelConfig.contextLength)
        try await replace(allowance: nil, context: context) { budget }
    }

    /// Frees the pool, KV cache and activations once the generation in progress (if any) ends; the file and
    /// tokenizer stay open.
    public func unload() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async { [self] in
                model = nil
                snapshot.withLock { $0 = .unloaded }
                continuation.resume()
            }
        }
    }

    /// Drops the current model (so that old and new pools never coexist), then opens it with the budget
    /// `budget()` returns at that moment.
    private func replace(allowance: Int?, context: Int, budget: @escaping @Sendable () -> MemoryBudget?) async throws {
        snapshot.withLock { $0.state = .loading }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            queue.async { [self] in
                model = nil
                do {
                    let opened = try LanguageModel(reader: reader, tokenizer: tokenizer,
                                                   options: Self.options(configuration, context: context, budget: budget()))
                    model = opened
                    let state = opened.workingSet.parts.first { $0.label == Self.stateLabel }?.bytes ?? 0
                    snapshot.withLock { $0 = MemorySnapshot(state: .loaded, poolBytes: opened.plan.poolBytes, kvBytes: state, allowanceBytes: allowance) }
                    continuation.resume()
                } catch {
                    snapshot.withLock { $0 = .unloaded }
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    // MARK: - Generation

    /// Prompt ids as the model will see them.
    public func encode(_ prompt: String, options: GenerationOptions = GenerationOptions()) -> [Int] {
        tokenizer.encode(prompt, addSpecialTokens: options.addSpecialTokens, parseSpecialTokens: options.parseSpecialTokens)
    }

    /// The prompt ids of the assistant's reply to `messages`, rendered with the model's chat template
    /// (ChatML when the model has none); special-token text in the rendering becomes those tokens.
    /// - Throws: `TokenizerError` when the template cannot be rendered.
    public func promptIds(for messages: [ChatMessage]) throws -> [Int] {
        let prompt = try chatTemplate.render(messages, addGenerationPrompt: true, tokenizer: tokenizer)
        return tokenizer.encode(prompt, addSpecialTokens: false, parseSpecialTokens: true)
    }

    /// Generates a continuation of `prompt`.
    public func generate(prompt: String, options: GenerationOptions = GenerationOptions()) -> AsyncThrowingStream<GenerationEvent, any Error> {
        generate(promptIds: encode(prompt, options: options), options: options)
    }

    /// Generates the assistant's reply to `messages` (see `promptIds(for:)`).
    /// - Throws: `TokenizerError` when the template cannot be rendered.
    public func generate(messages: [ChatMessage], options: GenerationOptions = GenerationOptions()) throws -> AsyncThrowingStream<GenerationEvent, any Error> {
        generate(promptIds: try promptIds(for: messages), options: options)
    }

    /// Generates a continuation of already-tokenised `promptIds`: `.text` pieces, then `.finished` with this
    /// generation's result. Ending the iteration early cancels the generation (between tokens or prefill chunks).
    /// The stream fails with `EngineError.notLoaded` when the engine is not loaded when the generation's turn comes.
    public func generate(promptIds: [Int], options: GenerationOptions = GenerationOptions()) -> AsyncThrowingStream<GenerationEvent, any Error> {
        AsyncThrowingStream { continuation in
            let cancellation = GenerationCancellation()
            continuation.onTermination = { _ in cancellation.cancel() }
            queue.async { [self] in
                do {
                    guard let model else { throw EngineError.notLoaded(path: path) }
                    let result = try model.generate(promptIds: promptIds, options: options, cancellation: cancellation) { piece in
                        continuation.yield(.text(piece))
                        return true
                    }
                    continuation.yield(.finished(result))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
        }
    }

    // MARK: - Sizing

    /// The label `LanguageModel` gives the KV cache in its working set.
    private static let stateLabel = "KV cache and state"

    private static func options(_ configuration: Configuration, context: Int, budget: MemoryBudget?) -> LanguageModel.Options {
        var options = LanguageModel.Options(contextLength: context, budget: budget, threads: configuration.threads)
        options.chunkSize = configuration.chunkSize
        options.streamingIO = configuration.streamingIO
        return options
    }

    /// One sequence's minimum beyond the process: today's planner states it when asked to plan within one
    /// byte (it refuses before allocating anything), counting the process as resident then.
    private static func singleSequenceMinimum(reader: ContainerReader, tokenizer: Tokenizer, options: LanguageModel.Options) throws -> Int {
        var probe = options
        probe.budget = MemoryBudget(bytes: 1)
        let before = ResidentMemory.read().current
        do {
            _ = try LanguageModel(reader: reader, tokenizer: tokenizer, options: probe)
        } catch RuntimeError.budgetTooSmall(_, let minimum, _) {
            return minimum - before
        }
        throw EngineError.invalidConfiguration(path: reader.path, detail: "the planner accepted a one-byte budget, so the minimum is unknown")
    }

    /// The decoded sizes of the units the streamer serves, as `LanguageModel` cuts them: one per block, then the
    /// head in parts no larger than the largest block (or 1 MiB).
    private static func streamingUnitSizes(reader: ContainerReader) -> [Int] {
        let blocks = (0..<reader.metadata.config.layerCount).compactMap { reader.regionIndex(named: "layer.\($0)") }
            .map { RegionLayout(region: $0, in: reader).byteCount }
        guard let head = reader.regionIndex(named: "head") else { return blocks }
        let parts = RegionLayout(region: head, in: reader).split(maximumBytes: max(blocks.max() ?? 0, 1 << 20), reader: reader)
        return blocks + parts.map(\.byteCount)
    }

    /// One sequence's KV cache and convolution state, by the formula of `InferenceState` (internal to
    /// WStreamModel): keys and values for every attention block, `kernel − 1` float32 inputs per conv block.
    private static func stateBytes(config: ModelConfig, capacity: Int, float16Cache: Bool) -> Int {
        let kvWidth = config.kvHeadCount * config.headDim
        return config.blockKinds.reduce(0) { total, kind in
            switch kind {
            case .attention: total + 2 * capacity * kvWidth * (float16Cache ? 2 : 4)
            case .shortConv: total + max(config.convKernelSize - 1, 0) * config.hiddenSize * 4
            }
        }
    }

    /// The fallback template for models that carry none.
    static let chatML = """
        {% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}\
        {% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}
        """

    /// Online processors.
    public static var coreCount: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}
