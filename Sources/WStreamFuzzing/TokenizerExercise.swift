import WStreamTokenizer

/// Encodes and decodes a fixed text with a tokenizer built from fuzzed input: every preparation path (Metaspace,
/// ByteLevel split patterns, byte fallback, special tokens) meets spaces, digits, accents, an emoji, control
/// characters and special-token spellings.
enum TokenizerExercise {
    static let text = "Once upon a time, 42 cats said \u{201C}h\u{00E9}llo\u{201D} \u{1F642}\n\t<|im_start|>user\n<s>a</s>  end.\r\n"

    static func run(_ tokenizer: Tokenizer) {
        for parseSpecialTokens in [false, true] {
            let ids = tokenizer.encode(text, addSpecialTokens: true, parseSpecialTokens: parseSpecialTokens)
            _ = tokenizer.decode(ids)
            var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
            for id in ids { _ = detokenizer.append(id) }
            _ = detokenizer.flush()
        }
    }
}
