import WStreamFormat
import WStreamImport

/// The `config.json` of a synthetic model: the keys Hugging Face's configuration classes (and wstream's importer) read.
enum SyntheticConfigFile {
    static func json(for config: ModelConfig, spelling: HuggingFaceSpelling, tokenizer: SyntheticTokenizer) -> String {
        var members = spelling.configMembers(config)
        members += [
            ("vocab_size", "\(config.vocabSize)"), ("max_position_embeddings", "\(config.contextLength)"),
            ("bos_token_id", "\(tokenizer.bosTokenId)"), ("eos_token_id", "\(tokenizer.eosTokenId)"),
            ("torch_dtype", "\"bfloat16\""),
        ]
        return JSONText.object(members) + "\n"
    }
}
