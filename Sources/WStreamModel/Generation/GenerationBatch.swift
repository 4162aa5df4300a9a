import WStreamRuntime
import WStreamTokenizer

/// A generation to run: its prompt, how to sample and stop, and where its text and result go.
public struct GenerationRequest: Sendable {
    public let promptIds: [Int]
    public let options: GenerationOptions
    /// Checked before every forward pass; once cancelled, the generation ends with `StopReason.cancelled`.
    public let cancellation: GenerationCancellation?
    /// Receives each complete piece of text; return false to stop (the generation ends as cancelled).
    public let onText: @Sendable (String) -> Bool
    /// Receives the result, or the error that ended the generation; called exactly once.
    public let onFinish: @Sendable (Result<GenerationResult, any Error>) -> Void

    public init(
        promptIds: [Int], options: GenerationOptions, cancellation: GenerationCancellation? = nil,
        onText: @escaping @Sendable (String) -> Bool, onFinish: @escaping @Sendable (Result<GenerationResult, any Error>) -> Void
    ) {
        self.promptIds = promptIds
        self.options = options
        self.cancellation = cancellation
        self.onText = onText
        self.onFinish = onFinish
    }
}

/// Generations sharing one model: each forward pass serves every running generation at once, prompt chunks for
/// those still reading their prompt and one token for each that is generating, so the weights (resident or
/// streamed) are read once per step for all of them. Each generation keeps its own sequence (KV cache), sampler and
/// stopping rules, so its output is what it would be alone.
///
/// A sequence remembers the tokens it holds: a request whose prompt extends them (a chat's next turn) feeds only
/// the new tokens. Not thread-safe: one owner drives it (`LanguageModel.generate`, or an engine's scheduler).
public final class GenerationBatch {
    private unowned let model: LanguageModel
    /// Tokens each sequence holds, in order, and the generation running on it.
    private var held: [[Int]]
    private var running: [Generation?]

    init(model: LanguageModel) {
        self.model = model
        held = Array(repeating: [], count: model.sequences.count)
        running = Array(repeating: nil, count: model.sequences.count)
    }

    /// Generations running now.
    public var activeCount: Int { running.lazy.compactMap { $0 }.count }

    /// Sequences a generation can start on.
    public var capacity: Int { running.count }

    /// Starts `request` on a free sequence: the one whose tokens its prompt extends the furthest, or any.
    /// An invalid request (empty prompt, a token outside the vocabulary, a prompt longer than the context) finishes
    /// at once with its error.
    /// - Returns: false when every sequence is busy (nothing is called then).
    public func start(_ request: GenerationRequest) -> Bool {
        guard let slot = freeSlot(for: request.promptIds) else { return false }
        let sequence = model.sequences[slot]
        if !(held[slot].count < request.promptIds.count && request.promptIds.starts(with: held[slot]) && sequence.position == held[slot].count) {
            sequence.reset()
            held[slot] = []
        }
        do {
            try validate(request.promptIds, reusing: held[slot].count, capacity: sequence.capacity)
        } catch {
            request.onFinish(.failure(error))
            return true
        }
        running[slot] = Generation(request: request, slot: slot, fresh: held[slot].count, model: model)
        return true
    }

    /// One forward pass over every running generation; generations that end call their `onFinish`.
    public func step() {
        for slot in running.indices {
            guard let generation = running[slot], generation.request.cancellation?.isCancelled == true else { continue }
            finish(slot, generation.cancelled())
        }
        var segments: [(slot: Int, tokens: ArraySlice<Int>)] = []
        var rows = 0
        let capacity = model.chunkCapacity
        // Generations that are generating first: one row each, so that a long prompt never stalls them.
        for slot in running.indices {
            guard let generation = running[slot], let token = generation.nextToken else { continue }
            if model.sequences[slot].position >= model.sequences[slot].capacity {
                finish(slot, .success(generation.result(stop: .contextFull)))
                continue
            }
            segments.append((slot, [token]))
            rows += 1
        }
        let generatedRows = rows
        for slot in running.indices where rows < capacity {
            guard let generation = running[slot], generation.nextToken == nil else { continue }
            let chunk = generation.pendingPrompt.prefix(min(capacity - rows, model.options.chunkSize))
            segments.append((slot, chunk))
            rows += chunk.count
        }
        guard !segments.isEmpty else { return }

        let logits: UnsafeMutablePointer<Float>
        do {
            let tokens = segments.flatMap(\.tokens)
            let batch = Batch(segments.map { model.sequences[$0.slot] }, counts: segments.map(\.tokens.count), generatedRows: generatedRows)
            logits = try model.stack.forward(tokens[...], batch: batch)
        } catch {
            for segment in segments { finish(segment.slot, .failure(error)) }
            return
        }
        let vocabulary = model.config.vocabSize
        for (index, segment) in segments.enumerated() {
            let generation = running[segment.slot]!
            held[segment.slot] += segment.tokens
            if let ending = generation.consumed(segment.tokens.count, logits: logits + index * vocabulary, vocabulary: vocabulary) {
                finish(segment.slot, ending)
            }
        }
    }

    /// Forgets what sequence `slot` holds (its state was reset or fed from outside the batch).
    func forget(_ slot: Int) { held[slot] = [] }

    private func finish(_ slot: Int, _ ending: Result<GenerationResult, any Error>) {
        guard let generation = running[slot] else { return }
        running[slot] = nil
        if case .failure = ending {
            model.sequences[slot].reset()
            held[slot] = []
        } else if generation.nextToken == nil, generation.generated.isEmpty {
            // Cancelled before its prompt was read: leave nothing half-fed in the cache.
            model.sequences[slot].reset()
            held[slot] = []
        }
        generation.request.onFinish(ending)
    }

    private func freeSlot(for prompt: [Int]) -> Int? {
        let free = running.indices.filter { running[$0] == nil }
        let reusable = free.filter { held[$0].count < prompt.count && prompt.starts(with: held[$0]) && model.sequences[$0].position == held[$0].count }
        return reusable.max { held[$0].count < held[$1].count } ?? free.min { held[$0].count < held[$1].count }
    }

    private func validate(_ prompt: [Int], reusing held: Int, capacity: Int) throws {
        guard !prompt.isEmpty else { throw ModelError.emptyPrompt }
        let vocabulary = model.config.vocabSize
        if let bad = prompt.first(where: { $0 < 0 || $0 >= vocabulary }) { throw ModelError.tokenOutOfRange(id: bad, vocabularySize: vocabulary) }
        guard prompt.count <= capacity else { throw ModelError.contextFull(capacity: capacity) }
    }
}

/// One running generation: its place in the prompt, its sampler and stopping rules, and its figures.
private final class Generation {
    let request: GenerationRequest
    let slot: Int
    /// Prompt tokens not yet fed.
    private(set) var pendingPrompt: ArraySlice<Int>
    /// The last generated token, to be fed next; nil while the prompt is being read.
    private(set) var nextToken: Int?
    private(set) var generated: [Int] = []
    private var text = ""
    private var sampler: Sampler
    private var detokenizer: StreamingDetokenizer
    private var stopFilter: StopStringFilter
    private var statistics = GenerationStatistics()
    private unowned let model: LanguageModel
    private let clock = ContinuousClock()
    private let started: ContinuousClock.Instant
    private var decodeStarted: ContinuousClock.Instant?
    private let streamingAtStart: LayerStreamer.Statistics
    private var streamingAfterPrefill: LayerStreamer.Statistics?

    /// - Parameter fresh: prompt tokens the sequence already holds (a chat's earlier turns).
    init(request: GenerationRequest, slot: Int, fresh held: Int, model: LanguageModel) {
        self.request = request
        self.slot = slot
        self.model = model
        pendingPrompt = request.promptIds[held...]
        sampler = Sampler(options: request.options.sampling)
        // Knowing the last prompt token keeps the first generated piece's leading space (SentencePiece strips it
        // only at the start of a text).
        detokenizer = StreamingDetokenizer(tokenizer: model.tokenizer, previousTokenId: request.promptIds.last)
        stopFilter = StopStringFilter(stops: request.options.stopStrings)
        statistics.promptTokens = request.promptIds.count
        started = clock.now
        streamingAtStart = model.streamingStatistics
    }

    /// `count` of this generation's tokens went through a forward pass whose logits for its last row are `logits`.
    /// - Returns: how the generation ended, or nil while it goes on.
    func consumed(_ count: Int, logits: UnsafeMutablePointer<Float>, vocabulary: Int) -> Result<GenerationResult, any Error>? {
        if nextToken == nil {
            pendingPrompt = pendingPrompt.dropFirst(count)
            guard pendingPrompt.isEmpty else { return nil }
            statistics.prefillSeconds = (clock.now - started).seconds
            decodeStarted = clock.now
            streamingAfterPrefill = model.streamingStatistics
        } else {
            statistics.decodeSteps += 1
        }
        let options = request.options
        guard generated.count < options.maxTokens else { return .success(result(stop: .maxTokens)) }
        // NaN or infinite logits would make any choice arbitrary (and sampling would find no candidate at all).
        guard VectorMath.allFinite(logits, vocabulary) else {
            return .failure(ModelError.nonFiniteLogits(file: model.path, position: request.promptIds.count + generated.count))
        }
        let next = sampler.sample(logits, vocabulary: vocabulary, history: request.promptIds + generated)
        if model.tokenizer.stopTokenIds.contains(next) { return .success(result(stop: .endOfSequence)) }
        generated.append(next)
        let (piece, stopped) = stopFilter.push(detokenizer.append(next))
        text += piece
        if !piece.isEmpty, !request.onText(piece) { return .success(result(stop: .cancelled)) }
        if stopped { return .success(result(stop: .stopString)) }
        if generated.count >= options.maxTokens { return .success(result(stop: .maxTokens)) }
        nextToken = next
        return nil
    }

    /// The ending of a generation cancelled before its next step.
    func cancelled() -> Result<GenerationResult, any Error> {
        .success(result(stop: .cancelled))
    }

    /// The result, with the text held back for stop strings let out (unless a stop string ended it).
    func result(stop: StopReason) -> GenerationResult {
        let tail = stopFilter.push(detokenizer.flush()).emit + (stop == .stopString ? "" : stopFilter.flush())
        if !tail.isEmpty {
            text += tail
            _ = request.onText(tail)
        }
        statistics.stopReason = stop
        statistics.generatedTokens = generated.count
        if let decodeStarted { statistics.decodeSeconds = (clock.now - decodeStarted).seconds }
        let now = model.streamingStatistics
        statistics.hits = now.hits - streamingAtStart.hits
        statistics.misses = now.misses - streamingAtStart.misses
        let afterPrefill = streamingAfterPrefill ?? now
        statistics.bytesStreamed = now.bytesStreamed - afterPrefill.bytesStreamed
        statistics.streamingSeconds = now.loadSeconds - afterPrefill.loadSeconds
        statistics.stallSeconds = now.stallSeconds - afterPrefill.stallSeconds
        let memory = ResidentMemory.read()
        statistics.peakResidentBytes = memory.peak
        statistics.peakAddressSpaceBytes = memory.addressSpacePeak
        statistics.budgetBytes = model.options.budget?.bytes
        statistics.poolBytes = model.plan.poolBytes
        statistics.weightBytes = model.streamer.layouts.values.reduce(0) { $0 + $1.byteCount }
        statistics.workingSetBytes = model.workingSet.bytes
        statistics.workingSetAddressSpace = model.workingSet.addressSpace
        statistics.residentRegions = model.plan.resident.count
        statistics.streamedRegions = model.plan.streamed.count
        statistics.streamingIO = model.plan.streamed.isEmpty ? nil : model.streamer.io
        return GenerationResult(promptIds: request.promptIds, generatedIds: generated, text: text, statistics: statistics)
    }
}

extension LanguageModel {
    /// Generates a continuation of `promptIds` on the first sequence, calling `onText` with each complete piece.
    ///
    /// When the prompt extends what the sequence already holds (a chat's next turn), only the new tokens are fed;
    /// otherwise the sequence starts over.
    /// - Parameters:
    ///   - onText: return false to stop early.
    ///   - cancellation: checked between prefill chunks and between tokens; once cancelled, generation stops
    ///     with `.cancelled` (a server whose client went away need not finish a long prompt).
    /// - Throws: `ModelError` for an empty or out-of-vocabulary prompt, one longer than the context, or logits that
    ///   are not finite (damaged weights), or the error a forward pass met (a damaged streamed frame); the sequence
    ///   starts over after an error.
    public func generate(
        promptIds: [Int], options: GenerationOptions, cancellation: GenerationCancellation? = nil,
        onText: (String) -> Bool = { _ in true }
    ) throws -> GenerationResult {
        try withoutActuallyEscaping(onText) { onText in
            let outcome = GenerationOutcome()
            let request = GenerationRequest(
                promptIds: promptIds, options: options, cancellation: cancellation,
                onText: { [onText = UncheckedSendable(value: onText)] in onText.value($0) },
                onFinish: { outcome.value = $0 })
            precondition(generations.activeCount == 0, "generate(promptIds:) while the batch runs other generations")
            _ = generations.start(request)
            while outcome.value == nil { generations.step() }
            return try outcome.value!.get()
        }
    }
}

/// Where a synchronous caller collects a generation's ending (one thread drives the batch).
private final class GenerationOutcome: @unchecked Sendable {
    var value: Result<GenerationResult, any Error>?
}

/// A value handed to a `@Sendable` closure that the same thread calls (the batch is driven by its caller).
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}
