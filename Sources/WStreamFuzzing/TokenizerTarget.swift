import WStreamFormat
import WStreamImport
import WStreamTokenizer

/// Hugging Face tokenizer loading: an input is `tokenizer.json`, optionally followed by a NUL byte and
/// `tokenizer_config.json`.
///
/// The files are written to a scratch folder and read as `wstream pack` reads a model folder's tokenizer (BPE model,
/// added tokens, normalizer and pre-tokenizer detection, BOS/EOS and stop tokens from the config); the spec then
/// builds a `Tokenizer`, which encodes and decodes a fixed text.
public final class TokenizerTarget: FuzzTarget {
    public static let name = "tokenizer"
    private let scratch: ScratchFolder

    /// - Throws: `FuzzingError.scratch` when the scratch folder cannot be made.
    public init() throws {
        scratch = try ScratchFolder()
    }

    public func run(_ input: UnsafeRawBufferPointer) throws {
        let parts = InputParts(input)
        try scratch.write(parts.first, as: "tokenizer.json")
        if let config = parts.rest { try scratch.write(config, as: "tokenizer_config.json") } else { scratch.remove("tokenizer_config.json") }
        let spec = try HFTokenizerFile.load(directory: scratch.path)
        TokenizerExercise.run(try Tokenizer(spec: spec))
    }

    public func seeds(sharedModels: String?) throws -> [FuzzSeed] {
        let config = Array(#"{"bos_token": "<s>", "eos_token": {"content": "</s>"}, "add_bos_token": true, "chat_template": "{{ messages }}"}"#.utf8)
        var seeds = [
            FuzzSeed(name: "byte-level", bytes: Array(Self.tokenizerJSON(TinyCheckpoint.byteLevelTokenizer()).utf8)),
            FuzzSeed(name: "metaspace-with-config", bytes: InputParts.join(Array(Self.tokenizerJSON(TinyCheckpoint.llama().tokenizer).utf8), config)),
        ]
        if let sharedModels {
            for folder in ["stories260K/hf", "stories260K-mlx4"] {
                let bytes = InputParts.join(
                    try InputFiles.read(folder + "/tokenizer.json", in: sharedModels),
                    try InputFiles.read(folder + "/tokenizer_config.json", in: sharedModels))
                seeds.append(FuzzSeed(name: "shared-" + folder.replacing("/", with: "-"), bytes: bytes))
            }
        }
        return seeds
    }

    /// A `tokenizer.json` for `spec`: ByteLevel, or SentencePiece-style Metaspace through a Prepend + Replace
    /// normalizer, with its control tokens as added tokens.
    static func tokenizerJSON(_ spec: TokenizerSpec) -> String {
        let byteLevel = spec.preTokenizer == .byteLevel
        let added = spec.tokens.indices.filter { spec.tokenTypes[$0] == .control }.map { id in
            #"{"id": \#(id), "content": \#(JSONString.quoted(spec.tokens[id])), "special": true, "normalized": false}"#
        }
        let vocab = spec.tokens.enumerated().map { "\(JSONString.quoted($0.element)): \($0.offset)" }
        let preparation = byteLevel
            ? #""normalizer": null, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}"#
            : #""normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\#u{2581}"}, {"type": "Replace", "pattern": {"String": " "}, "content": "\#u{2581}"}]}, "pre_tokenizer": null"#
        let merges = byteLevel ? spec.merges : ["\u{2581} a", "a b", "\u{2581} b", "\u{2581} c", "c a", "b c"]
        return """
            {"version": "1.0", "added_tokens": [\(added.joined(separator: ", "))], \(preparation),
             "model": {"type": "BPE", "unk_token": \(spec.unknownTokenId.map { JSONString.quoted(spec.tokens[$0]) } ?? "null"), "byte_fallback": \(spec.byteFallback),
              "vocab": {\(vocab.joined(separator: ", "))}, "merges": [\(merges.map(JSONString.quoted).joined(separator: ", "))]}}
            """
    }
}
