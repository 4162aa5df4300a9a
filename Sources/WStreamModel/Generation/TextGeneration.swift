import WStreamRuntime
import WStreamTokenizer

extension LanguageModel {
    /// Generates a continuation of `promptIds`, calling `onText` with each complete piece of text.
    ///
    /// When the prompt extends the sequence the model already holds (a chat's next turn), only the new
    /// tokens are fed; otherwise the sequence starts over.
    /// - Parameters:
    ///   - onText: return false to stop early.
    ///   - cancellation: checked between prefill chunks and between tokens; once cancelled, generation stops
    ///     with `.cancelled` (a server whose client went away need not finish a long prompt).
    public func generate(
        promptIds: [Int], options: GenerationOptions, cancellation: GenerationCancellation? = nil,
        onText: (String) -> Bool = { _ in true }
    ) throws -> GenerationResult {
        let isCancelled = { cancellation?.isCancelled ?? false }
        var statistics = GenerationStatistics()
        statistics.promptTokens = promptIds.count
        let before = streamingStatistics
        let clock = ContinuousClock()

        guard !promptIds.isEmpty else { throw ModelError.emptyPrompt }
        // Reuse the cache only when the prompt strictly extends what it holds (logits are needed for the last
        // token) and the cache holds exactly those tokens (a failed call may have advanced it further).
        if !(consumed.count < promptIds.count && promptIds.starts(with: consumed) && position == consumed.count) { reset() }
        let fresh = Array(promptIds[consumed.count...])
        guard position + fresh.count <= sequence.capacity else {
            throw ModelError.contextFull(capacity: sequence.capacity)
        }
        let prefillStart = clock.now
        var logits = UnsafeBufferPointer<Float>(start: nil, count: 0)
        do {
            for start in stride(from: 0, to: fresh.count, by: chunkCapacity) {
                if isCancelled() {
                    reset()
                    statistics.stopReason = .cancelled
                    return GenerationResult(promptIds: promptIds, generatedIds: [], text: "", statistics: statistics)
                }
                logits = try feed(Array(fresh[start..<min(start + chunkCapacity, fresh.count)]))
            }
        } catch {
            reset()
            throw error
        }
        consumed = promptIds
        statistics.prefillSeconds = (clock.now - prefillStart).seconds

        var sampler = Sampler(options: options.sampling)
        // Knowing the last prompt token keeps the first generated piece's leading space (SentencePiece
        // strips it only at the start of a text).
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer, previousTokenId: promptIds.last)
        var stopFilter = StopStringFilter(stops: options.stopStrings)
        var generated: [Int] = []
        var text = ""
        let decodeStart = clock.now
        let stopIds = tokenizer.stopTokenIds
        statistics.stopReason = .maxTokens
        let afterPrefill = streamingStatistics

        generation: while generated.count < options.maxTokens {
            let next = sampler.sample(UnsafeMutablePointer(mutating: logits.baseAddress!), vocabulary: config.vocabSize, history: promptIds + generated)
            if stopIds.contains(next) {
                statistics.stopReason = .endOfSequence
                break
            }
            generated.append(next)
            let (piece, stopped) = stopFilter.push(detokenizer.append(next))
            text += piece
            if !piece.isEmpty, !onText(piece) {
                statistics.stopReason = .cancelled
                break
            }
            if stopped {
                statistics.stopReason = .stopString
                break
            }
            if isCancelled() {
                statistics.stopReason = .cancelled
                break
            }
            guard generated.count < options.maxTokens else { break }
            guard position < sequence.capacity else {
                statistics.stopReason = .contextFull
                break generation
            }
            do { logits = try feed([next]) } catch {
                reset()
                throw error
            }
            consumed.append(next)
        }
        let tail = stopFilter.push(detokenizer.flush()).emit + (statistics.stopReason == .stopString ? "" : stopFilter.flush())
        if !tail.isEmpty {
            text += tail
            _ = onText(tail)
        }

        statistics.generatedTokens = generated.count
        statistics.decodeSeconds = (clock.now - decodeStart).seconds
        let after = streamingStatistics
        statistics.hits = after.hits - before.hits
        statistics.misses = after.misses - before.misses
        statistics.bytesStreamed = after.bytesStreamed - afterPrefill.bytesStreamed
        statistics.streamingSeconds = after.loadSeconds - afterPrefill.loadSeconds
        statistics.stallSeconds = after.stallSeconds - afterPrefill.stallSeconds
        let memory = ResidentMemory.read()
        statistics.peakResidentBytes = memory.peak
        statistics.peakAddressSpaceBytes = memory.addressSpacePeak
        statistics.budgetBytes = self.options.budget?.bytes
        statistics.poolBytes = plan.poolBytes
        statistics.workingSetBytes = workingSet.bytes
        statistics.workingSetAddressSpace = workingSet.addressSpace
        statistics.residentRegions = plan.resident.count
        statistics.streamedRegions = plan.streamed.count
        statistics.streamingIO = plan.streamed.isEmpty ? nil : streamer.io
        return GenerationResult(promptIds: promptIds, generatedIds: generated, text: text, statistics: statistics)
    }
}
