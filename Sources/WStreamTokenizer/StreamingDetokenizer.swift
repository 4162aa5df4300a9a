/// Incremental detokenisation that never emits half a UTF-8 character.
///
/// Byte-fallback and ByteLevel tokens can end in the middle of a character (an emoji is often four `<0xXX>`
/// tokens); the bytes of an unfinished character are held until the rest arrives.
public struct StreamingDetokenizer: Sendable {
    private let tokenizer: Tokenizer
    private var pending: [UInt8] = []
    private var previous: Int?

    /// - Parameter tokenizer: the tokenizer whose ids will be fed.
    public init(tokenizer: Tokenizer) {
        self.tokenizer = tokenizer
    }

    /// Starts after `previousTokenId`, e.g. the last prompt token when streaming a continuation, so that a
    /// SentencePiece dummy-prefix space is only dropped where `decode` drops it (at the start and after BOS).
    /// - Parameters:
    ///   - tokenizer: the tokenizer whose ids will be fed.
    ///   - previousTokenId: the token before the first one fed; nil means the start of the text.
    public init(tokenizer: Tokenizer, previousTokenId: Int?) {
        self.tokenizer = tokenizer
        self.previous = previousTokenId
    }

    /// Feeds one id; returns the text that became complete (possibly empty).
    public mutating func append(_ id: Int) -> String {
        tokenizer.appendPiece(id, after: previous, to: &pending)
        previous = id
        let complete = Self.completePrefixLength(pending)
        guard complete > 0 else { return "" }
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Whatever is still held (invalid trailing bytes as U+FFFD).
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the longest prefix of `bytes` that does not end inside an unfinished character.
    ///
    /// Only a trailing lead byte followed by fewer continuation bytes than it announces is held back;
    /// anything malformed is let through (it decodes as U+FFFD) so that it cannot block the stream.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        var start = bytes.count - 1
        // Step back over at most three continuation bytes to the lead byte of the last character.
        while start >= 0, bytes.count - start <= 4, bytes[start] & 0xC0 == 0x80 { start -= 1 }
        guard start >= 0 else { return bytes.count }
        let lead = bytes[start]
        let length = lead >= 0xF0 && lead < 0xF8 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        return bytes.count - start < length ? start : bytes.count
    }
}
