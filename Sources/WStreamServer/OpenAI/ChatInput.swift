import WStream

/// Turns an OpenAI chat request into what the model's chat template renders: the messages as the client sent them
/// (list-valued `content`, `tool_calls`, `tool` turns, field order kept for `tojson`), the `tools` offered, and the
/// template variables (`tool_choice`, and whatever `chat_template_kwargs` holds, such as `enable_thinking`).
///
/// Two things OpenAI clients send differ from what chat templates are written for (transformers' own examples), and
/// are mended as vLLM mends them: a tool call's `arguments` arrive as a JSON string and reach the template as the
/// object they encode, and the `null` content of an assistant turn that only calls tools reaches it as "" (both as vLLM passes them on).
struct ChatInput {
    let messages: [ChatMessage]
    let tools: [TemplateValue]?
    let variables: [String: TemplateValue]

    static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool"]

    /// - Parameters:
    ///   - body: the request body as ordered JSON.
    ///   - request: the same body decoded, already checked for types.
    /// - Throws: `ServerError.invalidParameter` for no messages, an unknown role or a content part that is not text.
    init(body: TemplateValue, request: ChatCompletionRequest) throws {
        guard !request.messages.isEmpty, let values = body["messages"]?.arrayValue else {
            throw ServerError.invalidParameter(param: "messages", message: "'messages' must hold at least one message")
        }
        messages = try zip(request.messages, values).enumerated().map { index, pair in
            let (message, value) = pair
            let param = "messages.\(index)"
            guard Self.roles.contains(message.role) else {
                throw ServerError.invalidParameter(param: "\(param).role", message: "'\(param).role' must be one of \(Self.roles.sorted().joined(separator: ", ")), not '\(message.role)'")
            }
            if case .parts(let parts) = message.content, let (partIndex, part) = parts.enumerated().first(where: { $0.element.type != "text" || $0.element.text == nil }) {
                throw ServerError.invalidParameter(param: "\(param).content.\(partIndex)", message: "'\(param).content.\(partIndex)': only text parts are supported, not '\(part.type)'")
            }
            var chat = try ChatMessage(value, index: index)
            // Templates written before the `developer` role know it as `system`.
            if message.role == "developer" { chat["role"] = "system" }
            if let calls = chat["tool_calls"]?.arrayValue {
                chat["tool_calls"] = .array(calls.map(Self.decodingArguments))
                if chat["content"] == nil || chat["content"] == .null { chat["content"] = "" }
            }
            if chat["content"] == nil { chat["content"] = .null }
            return chat
        }
        let choice = body["tool_choice"]
        // `tool_choice: "none"` asks for no tool call: the tools are then not offered at all.
        tools = choice?.stringValue == "none" ? nil : body["tools"]?.arrayValue
        var variables: [String: TemplateValue] = [:]
        if case .object(let members)? = body["chat_template_kwargs"] {
            for member in members { variables[member.key] = member.value }
        }
        if let choice, tools != nil { variables["tool_choice"] = choice }
        self.variables = variables
    }

    /// `call` with `function.arguments` decoded when it is a string of JSON (left as it is otherwise).
    private static func decodingArguments(_ call: TemplateValue) -> TemplateValue {
        guard case .object(var members) = call, let index = members.firstIndex(where: { $0.key == "function" }),
              case .object(var function) = members[index].value,
              let argumentIndex = function.firstIndex(where: { $0.key == "arguments" }),
              let text = function[argumentIndex].value.stringValue, let decoded = try? TemplateValue(json: text)
        else { return call }
        function[argumentIndex].value = decoded
        members[index].value = .object(function)
        return .object(members)
    }
}
