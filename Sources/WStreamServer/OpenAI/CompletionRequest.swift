/// The body of `POST /v1/completions`.
struct CompletionRequest: Decodable {
    /// `prompt`: a string, a list holding one string, or token ids.
    enum Prompt: Decodable {
        case text(String)
        case tokens([Int])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else if let texts = try? container.decode([String].self) {
                guard texts.count == 1 else {
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "holds \(texts.count) prompts; this server takes one per request")
                }
                self = .text(texts[0])
            } else if let tokens = try? container.decode([Int].self) {
                self = .tokens(tokens)
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be a string, a list holding one string, or a list of token ids")
            }
        }
    }

    var model: String
    var prompt: Prompt
    var stream: Bool?
    var streamOptions: StreamOptions?
    var sampling: SamplingParameters
    var echo: Bool?
    var bestOf: Int?
    var suffix: String?
    var logprobs: Int?

    enum CodingKeys: String, CodingKey {
        case model, prompt, stream, echo, suffix, logprobs
        case streamOptions = "stream_options"
        case bestOf = "best_of"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(String.self, forKey: .model)
        prompt = try container.decode(Prompt.self, forKey: .prompt)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream)
        streamOptions = try container.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        echo = try container.decodeIfPresent(Bool.self, forKey: .echo)
        bestOf = try container.decodeIfPresent(Int.self, forKey: .bestOf)
        suffix = try container.decodeIfPresent(String.self, forKey: .suffix)
        logprobs = try container.decodeIfPresent(Int.self, forKey: .logprobs)
        sampling = try SamplingParameters(from: decoder)
    }

    /// Refuses what this server does not do, naming the field.
    func checkSupported() throws {
        if echo == true { throw ServerError.unsupportedParameter(param: "echo", message: "'echo' is not supported") }
        if let bestOf, bestOf != 1 { throw ServerError.unsupportedParameter(param: "best_of", message: "'best_of' = \(bestOf) is not supported") }
        if let suffix, !suffix.isEmpty { throw ServerError.unsupportedParameter(param: "suffix", message: "'suffix' is not supported") }
        if let logprobs, logprobs > 0 { throw ServerError.unsupportedParameter(param: "logprobs", message: "'logprobs' is not supported") }
    }
}
