#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
import WStreamFormat
import WStreamQuant
@_exported import WStreamModel
@_exported import enum WStreamQuant.ActivationPrecision
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
/// refused there, before any generation. Any number of callers may call `generate` at once: up to
/// `Configuration.parallel` generations run together, each forward pass serving all of them (one read of the
/// weights, resident or streamed, per step for every sequence); the others wait their turn in order.
public final class Engine: @unchecked Sendable {
    /// How the engine sizes and runs the model.
    public struct Configuration: Sendable, Equatable {
        /// Compute threads (default: the cores this process may use).
        public var threads = Engine.coreCount
        /// KV-cache positions per sequence (prompt plus generated tokens), at most the model's own context.
        public var contextLength = 2048
        /// Sequences generated at once; each one's KV cache counts in `minimumBytes`.
        public var parallel = 1
        /// Prompt tokens per prefill chunk.
        public var chunkSize = 32
        /// How streamed units reach memory; nil chooses by the memory cgroup (see `LanguageModel.Options.streamingIO`).
        public var streamingIO: StreamingIO?
        /// How 4- and 8-bit weights meet the activations (see `LanguageModel.Options.activationPrecision`).
        public var activationPrecision = ActivationPrecision.int8

        /// The cores this process may use, 2048 positions, one sequence, chunks of 32, int8 activations.
        public init() {}
    }

    public let path: String
    public let configuration: Configuration
    /// The model's architecture and hyper-parameters.
    public var modelConfig: ModelConfig { reader.metadata.config }
    public let tokenizer: Tokenizer
    /// The model's chat template, or ChatML when it has none.
    /// - Throws: the template's syntax error; the model still runs plain prompts.
    public var chatTemplate: ChatTemplate {
        get throws { try parsedChatTemplate.get() }
    }
    private let parsedChatTemplate: Result<ChatTemplate, any Error>
    /// KV-cache positions each sequence gets: `configuration.contextLength`, capped by the model's context.
    public let contextLength: Int
    /// The least memory the model can run in, beyond what the process holds before loading it: KV caches for
    /// `configuration.parallel` sequences, activations, scratch and one streaming slot.
    public let minimumBytes: Int
    /// The memory, beyond what the process holds before loading, at which every weight stays resident.
    public let fullyResidentBytes: Int
    /// Address space the loaded model maps beyond its resident bytes (its threads' stacks), which an address-space
    /// limit (`RLIMIT_AS`) must hold on top of the budget.
    public let addressSpaceOverhead: Int
    private let reader: ContainerReader
    /// Loads, unloads and the generation loop run here one at a time, so a new plan never replaces one in use.
    private let queue = DispatchQueue(label: "wstream.engine")
    /// The model and the generations waiting for a sequence, shared with the generation loop.
    private let state = Mutex(State())
    private let snapshot = Mutex(MemorySnapshot.unloaded)

    private struct State {
        var model: LanguageModel?
        var waiting: [GenerationRequest] = []
        /// The generation loop is scheduled or running.
        var looping = false
    }

    /// Opens and validates the file, builds its tokenizer and works out what the model needs; allocates no pool.
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
        let templateSource = reader.metadata.tokenizer.chatTemplate ?? Self.chatML
        parsedChatTemplate = Result { try ChatTemplate(templateSource) }
        contextLength = min(configuration.contextLength, reader.metadata.config.contextLength)
        let needs = try LanguageModel.needs(reader: reader, options: Self.options(configuration, context: contextLength, budget: nil))
        minimumBytes = needs.minimumBytes
        fullyResidentBytes = needs.fullyResidentBytes
        addressSpaceOverhead = needs.workingSet.addressSpaceOverhead
    }

    // MARK: - Memory

    /// The engine's memory now: state, pool and KV bytes.
    public var memory: MemorySnapshot { snapshot.withLock { $0 } }

    /// Plans and loads the model so that it grows the process by at most `allowance` bytes from what it holds now.
    /// Called again with another figure, it re-plans once the generations in progress end.
    /// - Parameter allowance: bytes; at least `minimumBytes`.
    /// - Throws: `RuntimeError.budgetTooSmall` with the minimum when `allowance` is below it (the engine is then
    ///   left as it was); any error of a failed load leaves the engine unloaded.
    public func load(allowance: Int) async throws {
        guard allowance >= minimumBytes else {
            throw RuntimeError.budgetTooSmall(budget: allowance, minimum: minimumBytes, breakdown: "\(path) at \(contextLength) positions for \(configuration.parallel) sequence(s)")
        }
        var options = Self.options(configuration, context: contextLength, budget: nil)
        options.allowance = allowance
        try await replace(options: options, allowance: allowance)
    }

    /// Plans and loads the model under a ceiling on the whole process's peak RSS (what `wstream run --budget`
    /// means), or everything resident when `budget` is nil.
    /// - Parameters:
    ///   - budget: the ceiling on the process's VmHWM, or nil for no ceiling.
    ///   - contextLength: positions to plan for instead of `self.contextLength` (capped by the model's).
    /// - Throws: `RuntimeError.budgetTooSmall` with the minimum, `RuntimeError.alreadyOverBudget`.
    public func load(budget: MemoryBudget?, contextLength: Int? = nil) async throws {
        let context = min(max(1, contextLength ?? self.contextLength), modelConfig.contextLength)
        try await replace(options: Self.options(configuration, context: context, budget: budget), allowance: nil)
    }

    /// Frees the pool, KV caches and activations once the generations in progress end; the file and tokenizer stay
    /// open.
    public func unload() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async { [self] in
                state.withLock { $0.model = nil }
                snapshot.withLock { $0 = .unloaded }
                continuation.resume()
            }
        }
    }

    /// Drops the current model (so that old and new pools never coexist), then opens it with `options`.
    private func replace(options: LanguageModel.Options, allowance: Int?) async throws {
        snapshot.withLock { $0.state = .loading }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            queue.async { [self] in
                state.withLock { $0.model = nil }
                do {
                    let opened = try LanguageModel(reader: reader, tokenizer: tokenizer, options: options)
                    state.withLock { $0.model = opened }
                    let kv = opened.workingSet.parts.first { $0.label == "KV cache and state" }?.bytes ?? 0
                    snapshot.withLock { $0 = MemorySnapshot(state: .loaded, poolBytes: opened.plan.poolBytes, kvBytes: kv, allowanceBytes: allowance) }
                    continuation.resume()
                } catch {
                    snapshot.withLock { $0 = .unloaded }
                    continuation.resume(throwing: error)
                }
                scheduleLoop()
            }
        }
    }

    // MARK: - Generation

    /// Prompt ids as the model will see them.
    public func encode(_ prompt: String, options: GenerationOptions = GenerationOptions()) -> [Int] {
        tokenizer.encode(prompt, addSpecialTokens: options.addSpecialTokens, parseSpecialTokens: options.parseSpecialTokens)
    }

    /// The prompt ids of the assistant's reply to `messages`, rendered with the model's chat template (ChatML when
    /// the model has none) as Hugging Face renders it; special-token text in the rendering becomes those tokens.
    /// - Parameters:
    ///   - messages: the conversation; structured content, `tool_calls` and `tool` messages pass through as given.
    ///   - tools: function schemas (OpenAI format) offered to the model; nil renders the template without tools.
    ///   - variables: further template variables, such as `enable_thinking` or `documents`.
    /// - Throws: `TokenizerError` when the template cannot be parsed or rendered (or refuses the conversation).
    public func promptIds(for messages: [ChatMessage], tools: [TemplateValue]? = nil, variables: [String: TemplateValue] = [:]) throws -> [Int] {
        let prompt = try chatTemplate.render(messages, tools: tools, addGenerationPrompt: true, variables: variables, tokenizer: tokenizer)
        return tokenizer.encode(prompt, addSpecialTokens: false, parseSpecialTokens: true)
    }

    /// Generates a continuation of `prompt`.
    public func generate(prompt: String, options: GenerationOptions = GenerationOptions()) -> AsyncThrowingStream<GenerationEvent, any Error> {
        generate(promptIds: encode(prompt, options: options), options: options)
    }

    /// Generates the assistant's reply to `messages` (see `promptIds(for:tools:variables:)`).
    /// - Throws: `TokenizerError` when the template cannot be parsed or rendered.
    public func generate(
        messages: [ChatMessage], tools: [TemplateValue]? = nil, variables: [String: TemplateValue] = [:],
        options: GenerationOptions = GenerationOptions()
    ) throws -> AsyncThrowingStream<GenerationEvent, any Error> {
        generate(promptIds: try promptIds(for: messages, tools: tools, variables: variables), options: options)
    }

    /// Generates a continuation of already-tokenised `promptIds`: `.text` pieces, then `.finished` with this
    /// generation's result. Ending the iteration early cancels the generation (between forward passes).
    /// The stream fails with `EngineError.notLoaded` when the engine is not loaded when the generation's turn comes.
    public func generate(promptIds: [Int], options: GenerationOptions = GenerationOptions()) -> AsyncThrowingStream<GenerationEvent, any Error> {
        AsyncThrowingStream { continuation in
            let cancellation = GenerationCancellation()
            continuation.onTermination = { _ in cancellation.cancel() }
            enqueue(GenerationRequest(
                promptIds: promptIds, options: options, cancellation: cancellation,
                onText: { piece in
                    if case .terminated = continuation.yield(.text(piece)) { return false }
                    return true
                },
                onFinish: { ending in
                    switch ending {
                    case .success(let result):
                        continuation.yield(.finished(result))
                        continuation.finish()
                    case .failure(let error):
                        continuation.finish(throwing: error)
                    }
                }))
        }
    }

    /// Generates a continuation of already-tokenised `promptIds`, handing each piece of text to `onText` on the
    /// thread that runs the model, and returns this generation's result. Cancelling the task cancels the
    /// generation (between forward passes).
    ///
    /// Nothing wakes the caller between tokens, where the stream of `generate(promptIds:options:)` resumes its
    /// consumer for every piece (about 0.1 ms of the decoding thread's time per token on a 2-core KVM guest), so
    /// `onText` must return quickly: write the piece, do not wait on the caller.
    /// - Throws: what ends the generation (`EngineError.notLoaded`, a `ModelError`).
    public func generate(promptIds: [Int], options: GenerationOptions = GenerationOptions(),
                         onText: @escaping @Sendable (String) -> Void) async throws -> GenerationResult {
        let cancellation = GenerationCancellation()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                enqueue(GenerationRequest(
                    promptIds: promptIds, options: options, cancellation: cancellation,
                    onText: { piece in
                        onText(piece)
                        return true
                    },
                    onFinish: { continuation.resume(with: $0) }))
            }
        } onCancel: {
            cancellation.cancel()
        }
    }

    /// Queues `request` and starts the generation loop unless it runs already.
    private func enqueue(_ request: GenerationRequest) {
        state.withLock { $0.waiting.append(request) }
        queue.async { [self] in scheduleLoop() }
    }

    /// Runs the generation loop unless it runs already (called on `queue`).
    private func scheduleLoop() {
        let start = state.withLock { state -> Bool in
            guard !state.looping, !state.waiting.isEmpty else { return false }
            state.looping = true
            return true
        }
        if start { runLoop() }
    }

    /// Starts waiting generations on free sequences and steps the batch until no generation is left; a load or an
    /// unload asked for meanwhile runs after it (`queue` is serial).
    private func runLoop() {
        while true {
            let (model, admitted) = state.withLock { state -> (LanguageModel?, [GenerationRequest]) in
                guard let model = state.model else {
                    defer { state.waiting = [] }
                    return (nil, state.waiting)
                }
                let free = model.generations.capacity - model.generations.activeCount
                let admitted = Array(state.waiting.prefix(free))
                state.waiting.removeFirst(admitted.count)
                if admitted.isEmpty, model.generations.activeCount == 0 { state.looping = false }
                return (model, admitted)
            }
            guard let model else {
                for request in admitted { request.onFinish(.failure(EngineError.notLoaded(path: path))) }
                let more = state.withLock { state -> Bool in
                    if state.waiting.isEmpty { state.looping = false }
                    return !state.waiting.isEmpty
                }
                if more { continue }
                return
            }
            for request in admitted { _ = model.generations.start(request) }
            if model.generations.activeCount == 0 {
                if admitted.isEmpty { return }
                continue
            }
            model.generations.step()
        }
    }

    // MARK: - Sizing

    private static func options(_ configuration: Configuration, context: Int, budget: MemoryBudget?) -> LanguageModel.Options {
        var options = LanguageModel.Options(contextLength: context, budget: budget, threads: configuration.threads)
        options.chunkSize = configuration.chunkSize
        options.sequences = configuration.parallel
        options.streamingIO = configuration.streamingIO
        options.activationPrecision = configuration.activationPrecision
        return options
    }

    /// The template used for models that carry none (ChatML).
    public static let chatML = """
        {% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}\
        {% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}
        """

    /// Processors this process may use: its CPU affinity, capped by its cgroup's CPU quota.
    public static var coreCount: Int { CPUAllowance.current() }
}
