import WStream

/// Turns an OpenAI request's messages into the engine's chat input. The one place that knows both shapes,
/// so that moving to the engine's structured messages (tools, list-valued content) changes only this.
enum ChatInput {
    static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool"]

    /// - Throws: `ServerError.invalidParameter` for no messages, an unknown role or a non-text part;
    ///   `.unsupportedParameter` for tool calls.
    static func messages(from request: ChatCompletionRequest) throws -> [ChatMessage] {
        guard !request.messages.isEmpty else {
            throw ServerError.invalidParameter(param: "messages", message: "'messages' must hold at least one message")
        }
        return try request.messages.enumerated().map { index, message in
            let param = "messages.\(index)"
            guard roles.contains(message.role) else {
                throw ServerError.invalidParameter(param: "\(param).role", message: "'\(param).role' must be one of \(roles.sorted().joined(separator: ", ")), not '\(message.role)'")
            }
            if let calls = message.toolCalls, !calls.isEmpty {
                throw ServerError.unsupportedParameter(param: "\(param).tool_calls", message: "'\(param).tool_calls' is not supported yet")
            }
            // Templates written before the `developer` role know it as `system`.
            let role = message.role == "developer" ? "system" : message.role
            switch message.content {
            case .none:
                return ChatMessage(role: role, content: "")
            case .text(let text):
                return ChatMessage(role: role, content: text)
            case .parts(let parts):
                let texts = try parts.enumerated().map { partIndex, part -> String in
                    guard part.type == "text", let text = part.text else {
                        throw ServerError.invalidParameter(param: "\(param).content.\(partIndex)", message: "'\(param).content.\(partIndex)': only text parts are supported, not '\(part.type)'")
                    }
                    return text
                }
                return ChatMessage(role: role, content: texts.joined(separator: "\n"))
            }
        }
    }
}
