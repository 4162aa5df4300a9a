import WStream

/// `usage` in every final response (and, with `stream_options.include_usage`, in the last chunk).
struct Usage: Codable, Equatable {
    var promptTokens: Int
    var completionTokens: Int
    var totalTokens: Int

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
    }

    init(_ statistics: GenerationStatistics) {
        promptTokens = statistics.promptTokens
        completionTokens = statistics.generatedTokens
        totalTokens = statistics.promptTokens + statistics.generatedTokens
    }
}

/// Which endpoint a completion answers, which sets the shape of its JSON.
enum CompletionKind: Sendable {
    /// `/v1/chat/completions`: `chat.completion` objects whose choices carry a `message` or a `delta`.
    case chat
    /// `/v1/completions`: `text_completion` objects whose choices carry `text`.
    case text

    var idPrefix: String { self == .chat ? "chatcmpl-" : "cmpl-" }
}

extension StopReason {
    /// OpenAI's `finish_reason`: `stop` for an end-of-sequence token or a stop sequence, `length` when
    /// `max_tokens` or the context ran out.
    var finishReason: String {
        switch self {
        case .maxTokens, .contextFull: "length"
        case .endOfSequence, .stopString, .cancelled: "stop"
        }
    }
}

/// One completion object, whole or as a stream chunk; encodes to either endpoint's shape.
struct CompletionObject: Encodable {
    var id: String
    var kind: CompletionKind
    var chunk: Bool
    var created: Int
    var model: String
    /// The choice's text (the whole reply, or this chunk's piece); nil for a usage-only chunk.
    var text: String?
    /// The first chat chunk announces the assistant's role.
    var announcesRole = false
    var finishReason: String?
    var usage: Usage?
    /// With `include_usage`, every chunk carries `usage` (null until the last).
    var usageKeyAlways = false

    enum CodingKeys: String, CodingKey {
        case id, object, created, model, choices, usage
    }

    private struct Choice: Encodable {
        var index = 0
        var kind: CompletionKind
        var chunk: Bool
        var text: String?
        var announcesRole: Bool
        var finishReason: String?

        enum CodingKeys: String, CodingKey {
            case index, text, message, delta, logprobs
            case finishReason = "finish_reason"
        }

        struct Message: Encodable {
            var role: String?
            var content: String?
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            switch kind {
            case .text:
                try container.encode(text ?? "", forKey: .text)
            case .chat where chunk:
                try container.encode(Message(role: announcesRole ? "assistant" : nil, content: text), forKey: .delta)
            case .chat:
                try container.encode(Message(role: "assistant", content: text ?? ""), forKey: .message)
            }
            try container.encodeNil(forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        let object = switch kind {
        case .chat: chunk ? "chat.completion.chunk" : "chat.completion"
        case .text: "text_completion"
        }
        try container.encode(object, forKey: .object)
        try container.encode(created, forKey: .created)
        try container.encode(model, forKey: .model)
        let choices = text == nil && finishReason == nil && !announcesRole && chunk
            ? [] : [Choice(kind: kind, chunk: chunk, text: text, announcesRole: announcesRole, finishReason: finishReason)]
        try container.encode(choices, forKey: .choices)
        if let usage {
            try container.encode(usage, forKey: .usage)
        } else if usageKeyAlways {
            try container.encodeNil(forKey: .usage)
        }
    }
}
