/// Everything a tokenizer needs, carried from the source model into the `.wst` metadata.
///
/// Two families are described:
/// - `.sentencePiece`: SentencePiece-style BPE driven by per-token `scores` (GGUF `llama` vocabularies,
///   llama2.c): repeatedly merge the adjacent pair whose merged string has the highest score.
/// - `.bytePairEncoding`: Hugging Face `tokenizer.json` BPE driven by ranked `merges`
///   (with a Metaspace or ByteLevel pre-tokenizer).
public struct TokenizerSpec: Codable, Sendable, Equatable {
    public enum Model: String, Codable, Sendable {
        case sentencePiece
        case bytePairEncoding
    }

    /// How text is prepared before BPE runs.
    public enum PreTokenizer: String, Codable, Sendable {
        /// Spaces become `▁` (U+2581); with `addPrefixSpace` a `▁` is prepended (SentencePiece's dummy prefix).
        case metaspace
        /// GPT-2 style: split with `splitPattern`, then map every byte to a printable character.
        case byteLevel
    }

    /// Regular-expression families for the ByteLevel split step.
    public enum SplitPattern: String, Codable, Sendable {
        /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
        case gpt2
        /// Llama 3 / LFM2: case-insensitive contractions, `[^\r\n\p{L}\p{N}]?\p{L}+`, numbers in runs of 1–3, …
        case llama3
    }

    /// GGUF token types (`tokenizer.ggml.token_type`).
    public enum TokenType: Int32, Codable, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public var model: Model
    public var preTokenizer: PreTokenizer
    /// Used with `.byteLevel`.
    public var splitPattern: SplitPattern?
    /// Token strings by id, as the source spells them (`▁` for spaces in SentencePiece vocabularies,
    /// GPT-2's byte-to-unicode characters in ByteLevel vocabularies, `<0x0A>` for byte-fallback tokens).
    public var tokens: [String]
    /// Per-token scores (`.sentencePiece`); empty otherwise.
    public var scores: [Float]
    /// Ranked merges `"left right"` (`.bytePairEncoding`); empty otherwise.
    public var merges: [String]
    /// Per-token types; empty means every token is `.normal`.
    public var tokenTypes: [TokenType]
    /// Unknown characters become their UTF-8 bytes as `<0xXX>` tokens instead of `unknownTokenId`.
    public var byteFallback: Bool
    /// Prepend a space (as `▁`) to the text before encoding (SentencePiece's dummy prefix).
    public var addPrefixSpace: Bool
    public var bosTokenId: Int?
    public var eosTokenId: Int?
    public var unknownTokenId: Int?
    public var paddingTokenId: Int?
    /// Put BOS in front of an encoded prompt.
    public var addBosToken: Bool
    public var addEosToken: Bool
    /// Ids of added/special tokens that are matched verbatim in input text and never split (e.g. `<|im_start|>`).
    public var specialTokenIds: [Int]
    /// Further ids that end generation besides `eosTokenId` (e.g. `<|im_end|>`, `<|eot_id|>`).
    public var extraStopTokenIds: [Int]
    /// The model's Jinja chat template, when it has one.
    public var chatTemplate: String?

    public init(
        model: Model, preTokenizer: PreTokenizer, splitPattern: SplitPattern? = nil, tokens: [String],
        scores: [Float] = [], merges: [String] = [], tokenTypes: [TokenType] = [], byteFallback: Bool = false,
        addPrefixSpace: Bool = false, bosTokenId: Int? = nil, eosTokenId: Int? = nil, unknownTokenId: Int? = nil,
        paddingTokenId: Int? = nil, addBosToken: Bool = false, addEosToken: Bool = false,
        specialTokenIds: [Int] = [], extraStopTokenIds: [Int] = [], chatTemplate: String? = nil
    ) {
        self.model = model
        self.preTokenizer = preTokenizer
        self.splitPattern = splitPattern
        self.tokens = tokens
        self.scores = scores
        self.merges = merges
        self.tokenTypes = tokenTypes
        self.byteFallback = byteFallback
        self.addPrefixSpace = addPrefixSpace
        self.bosTokenId = bosTokenId
        self.eosTokenId = eosTokenId
        self.unknownTokenId = unknownTokenId
        self.paddingTokenId = paddingTokenId
        self.addBosToken = addBosToken
        self.addEosToken = addEosToken
        self.specialTokenIds = specialTokenIds
        self.extraStopTokenIds = extraStopTokenIds
        self.chatTemplate = chatTemplate
    }
}
