import WStream

/// The sampling and length fields shared by chat and text completions, and how they map onto the engine.
///
/// OpenAI's defaults apply: temperature 1, top_p 1, no top-k or min-p (`top_k`, `min_p` and
/// `repetition_penalty` are accepted as extensions, as vLLM and llama.cpp's server do). The frequency and
/// presence penalties act on the last 64 tokens, prompt included (llama.cpp's rule).
struct SamplingParameters: Decodable {
    var temperature: Double?
    var topP: Double?
    var topK: Int?
    var minP: Double?
    var repetitionPenalty: Double?
    var maxTokens: Int?
    var maxCompletionTokens: Int?
    var stop: StopSequences?
    var seed: Int64?
    var frequencyPenalty: Double?
    var presencePenalty: Double?
    var n: Int?
    var logitBias: [String: Double]?

    enum CodingKeys: String, CodingKey {
        case temperature, seed, stop, n
        case topP = "top_p"
        case topK = "top_k"
        case minP = "min_p"
        case repetitionPenalty = "repetition_penalty"
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case frequencyPenalty = "frequency_penalty"
        case presencePenalty = "presence_penalty"
        case logitBias = "logit_bias"
    }

    /// The engine's options for a prompt of `promptTokens` in a context of `contextLength` positions.
    /// - Parameter promptParam: the field that holds the prompt (`messages` or `prompt`), for errors.
    /// - Throws: `ServerError.invalidParameter` for values out of range, `.unsupportedParameter` for `n` > 1
    ///   or a logit bias, `.contextExceeded` when the prompt and `max_tokens` do not fit.
    func generationOptions(promptTokens: Int, contextLength: Int, promptParam: String) throws -> GenerationOptions {
        try check("temperature", temperature, in: 0...2)
        try check("top_p", topP, in: 0...1)
        try check("min_p", minP, in: 0...1)
        try check("frequency_penalty", frequencyPenalty, in: -2...2)
        try check("presence_penalty", presencePenalty, in: -2...2)
        try check("repetition_penalty", repetitionPenalty, in: 0.01...10)
        if let topK, topK < 0 { throw ServerError.invalidParameter(param: "top_k", message: "'top_k' must be 0 (off) or more, not \(topK)") }
        if let n, n != 1 {
            if n < 1 { throw ServerError.invalidParameter(param: "n", message: "'n' must be 1, not \(n)") }
            throw ServerError.unsupportedParameter(param: "n", message: "'n' = \(n) is not supported: this server returns one choice per request")
        }
        if let logitBias, !logitBias.isEmpty {
            throw ServerError.unsupportedParameter(param: "logit_bias", message: "'logit_bias' is not supported")
        }
        if let stop, stop.values.count > 4 {
            throw ServerError.invalidParameter(param: "stop", message: "'stop' takes at most 4 sequences, not \(stop.values.count)")
        }
        guard promptTokens < contextLength else {
            throw ServerError.contextExceeded(param: promptParam, message: "the prompt is \(promptTokens) tokens, but the context holds \(contextLength) positions including at least one generated token")
        }
        let room = contextLength - promptTokens
        let (param, requested) = maxCompletionTokens.map { ("max_completion_tokens", $0) } ?? maxTokens.map { ("max_tokens", $0) } ?? ("max_tokens", room)
        guard requested >= 1 else { throw ServerError.invalidParameter(param: param, message: "'\(param)' must be at least 1, not \(requested)") }
        guard requested <= room else {
            throw ServerError.contextExceeded(param: param, message: "'\(param)' = \(requested) with a prompt of \(promptTokens) tokens exceeds the context of \(contextLength) positions (at most \(room) here)")
        }

        var options = GenerationOptions()
        options.maxTokens = requested
        options.stopStrings = stop?.values ?? []
        var sampling = SamplingOptions()
        sampling.temperature = Float(temperature ?? 1)
        sampling.topP = Float(topP ?? 1)
        sampling.topK = topK ?? 0
        sampling.minP = Float(minP ?? 0)
        sampling.repetitionPenalty = Float(repetitionPenalty ?? 1)
        sampling.frequencyPenalty = Float(frequencyPenalty ?? 0)
        sampling.presencePenalty = Float(presencePenalty ?? 0)
        sampling.seed = seed.map { UInt64(bitPattern: $0) }
        options.sampling = sampling
        return options
    }

    private func check(_ name: String, _ value: Double?, in range: ClosedRange<Double>) throws {
        guard let value, !range.contains(value) else { return }
        throw ServerError.invalidParameter(param: name, message: "'\(name)' must be between \(range.lowerBound) and \(range.upperBound), not \(value)")
    }
}

/// OpenAI's `stream_options`.
struct StreamOptions: Decodable {
    var includeUsage: Bool?

    enum CodingKeys: String, CodingKey {
        case includeUsage = "include_usage"
    }
}
