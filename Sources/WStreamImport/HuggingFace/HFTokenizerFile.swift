import WStreamFormat
// SKELETON: signature the HF importer codes against; the Tokenizer work fills in the body.

/// Reads a Hugging Face `tokenizer.json` (and `tokenizer_config.json` beside it) into a `TokenizerSpec`.
public enum HFTokenizerFile {
    /// - Parameter directory: the model directory holding `tokenizer.json`.
    /// - Throws: `ImportError` naming the file and what is unsupported.
    public static func load(directory: String) throws -> TokenizerSpec { fatalError("unimplemented") }
}
