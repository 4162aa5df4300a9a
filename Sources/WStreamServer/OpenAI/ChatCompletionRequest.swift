/// The body of `POST /v1/chat/completions`.
struct ChatCompletionRequest: Decodable {
    /// One message of the conversation.
    struct Message: Decodable {
        var role: String
        var content: Content?
        var toolCalls: [PresentValue]?

        enum CodingKeys: String, CodingKey {
            case role, content
            case toolCalls = "tool_calls"
        }
    }

    /// A message's `content`: a string, or a list of parts of which only text is supported.
    enum Content: Decodable {
        case text(String)
        case parts([Part])

        struct Part: Decodable {
            var type: String
            var text: String?
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else if let parts = try? container.decode([Part].self) {
                self = .parts(parts)
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be a string or a list of content parts")
            }
        }
    }

    /// `response_format`.
    struct ResponseFormat: Decodable {
        var type: String
    }

    var model: String
    var messages: [Message]
    var stream: Bool?
    var streamOptions: StreamOptions?
    var sampling: SamplingParameters
    var tools: [PresentValue]?
    var functions: [PresentValue]?
    var responseFormat: ResponseFormat?
    var logprobs: Bool?

    enum CodingKeys: String, CodingKey {
        case model, messages, stream, tools, functions, logprobs
        case streamOptions = "stream_options"
        case responseFormat = "response_format"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(String.self, forKey: .model)
        messages = try container.decode([Message].self, forKey: .messages)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream)
        streamOptions = try container.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        tools = try container.decodeIfPresent([PresentValue].self, forKey: .tools)
        functions = try container.decodeIfPresent([PresentValue].self, forKey: .functions)
        responseFormat = try container.decodeIfPresent(ResponseFormat.self, forKey: .responseFormat)
        logprobs = try container.decodeIfPresent(Bool.self, forKey: .logprobs)
        sampling = try SamplingParameters(from: decoder)
    }

    /// Refuses what this server does not do, naming the field.
    func checkSupported() throws {
        if let functions, !functions.isEmpty { throw ServerError.unsupportedParameter(param: "functions", message: "'functions' is not supported") }
        if let responseFormat, responseFormat.type != "text" {
            throw ServerError.unsupportedParameter(param: "response_format", message: "'response_format' \(responseFormat.type) is not supported; only text")
        }
        if logprobs == true { throw ServerError.unsupportedParameter(param: "logprobs", message: "'logprobs' is not supported") }
    }
}
