import WStreamFormat

/// A `TokenizerSpec` that cannot drive a tokenizer.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// `.sentencePiece` needs one score per token.
    case scoreCountMismatch(tokens: Int, scores: Int)
    /// A ranked merge names a token that is not in the vocabulary.
    case mergeWithUnknownToken(rank: Int, merge: String)
    /// A ByteLevel vocabulary lacks the single-character token for a byte.
    case missingByteLevelToken(byte: UInt8, character: String)
    /// An id in the spec (BOS, EOS, special, …) is outside the vocabulary.
    case idOutOfRange(field: String, id: Int, vocabularySize: Int)
    /// A chat template could not be parsed or rendered; `position` is where in the template (nil when the
    /// problem is the template as a whole, such as its size).
    case chatTemplate(ChatTemplateFailure, message: String, position: TemplatePosition?)
    /// A JSON value for a chat template (messages, tools, variables) is malformed.
    case invalidJSON(message: String, line: Int, column: Int)
    /// A chat message is not an object with a string `role`.
    case invalidChatMessage(index: Int, reason: String)

    public var description: String {
        switch self {
        case let .scoreCountMismatch(tokens, scores):
            "tokenizer has \(tokens) tokens but \(scores) scores; SentencePiece-style merging needs one score per token"
        case let .mergeWithUnknownToken(rank, merge):
            "merge #\(rank) \"\(merge)\" names a token that is not in the vocabulary"
        case let .missingByteLevelToken(byte, character):
            "ByteLevel vocabulary has no token \"\(character)\" for byte 0x\(String(byte, radix: 16, uppercase: true))"
        case let .idOutOfRange(field, id, size):
            "\(field) id \(id) is outside the vocabulary of \(size) tokens"
        case let .chatTemplate(failure, message, position):
            Self.describe(failure, message: message, at: position.map { " at \($0)" } ?? "")
        case let .invalidJSON(message, line, column):
            "invalid JSON at line \(line), column \(column): \(message)"
        case let .invalidChatMessage(index, reason):
            "message \(index): \(reason)"
        }
    }

    private static func describe(_ failure: ChatTemplateFailure, message: String, at place: String) -> String {
        switch failure {
        case .syntax: "chat template syntax error\(place): \(message)"
        case .unsupported: "chat template\(place): \(message) (not supported by wstream's Jinja engine)"
        case .render: "chat template\(place): \(message)"
        case .raised: "the chat template rejected the conversation\(place): \(message)"
        case .limit: "chat template\(place): \(message) (a sandbox limit; see TemplateLimits)"
        }
    }
}
