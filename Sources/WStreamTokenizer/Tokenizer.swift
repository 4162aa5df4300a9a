import WStreamFormat
// SKELETON: signatures the rest of the package codes against; the Tokenizer work fills in the bodies.

/// Turns text into token ids and back, as the model's metadata describes.
public final class Tokenizer: Sendable {
    public let spec: TokenizerSpec
    public init(spec: TokenizerSpec) throws { fatalError("unimplemented") }
    /// Ids for `text`; BOS (and EOS) added when `addSpecialTokens` and the spec says so.
    /// Special tokens spelled in the text (e.g. `<|im_start|>`) become their ids when `parseSpecialTokens`.
    public func encode(_ text: String, addSpecialTokens: Bool = true, parseSpecialTokens: Bool = false) -> [Int] { fatalError("unimplemented") }
    /// Text of `ids` (control tokens omitted).
    public func decode(_ ids: [Int]) -> String { fatalError("unimplemented") }
    /// Ids that end generation (EOS and the spec's extra stop ids).
    public var stopTokenIds: Set<Int> { fatalError("unimplemented") }
}

/// Incremental detokenisation that never emits half a UTF-8 character.
public struct StreamingDetokenizer {
    public init(tokenizer: Tokenizer) { fatalError("unimplemented") }
    /// Feeds one id; returns the text that became complete (possibly empty).
    public mutating func append(_ id: Int) -> String { fatalError("unimplemented") }
    /// Whatever is still held (invalid trailing bytes as U+FFFD).
    public mutating func flush() -> String { fatalError("unimplemented") }
}
