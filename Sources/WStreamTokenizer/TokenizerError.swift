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
    /// A chat template uses syntax outside the supported Jinja subset, or is malformed.
    case chatTemplateSyntax(message: String, offset: Int)
    /// Rendering a chat template failed (an unknown filter, a type mismatch, …).
    case chatTemplateEvaluation(message: String)
    /// The template itself refused the conversation (`raise_exception(…)`).
    case chatTemplateRaised(message: String)

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
        case let .chatTemplateSyntax(message, offset):
            "chat template, byte \(offset): \(message) (wstream supports a Jinja subset: see ChatTemplate)"
        case let .chatTemplateEvaluation(message):
            "chat template: \(message)"
        case let .chatTemplateRaised(message):
            "the chat template rejected the conversation: \(message)"
        }
    }
}
