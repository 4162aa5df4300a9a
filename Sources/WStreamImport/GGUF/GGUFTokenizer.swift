import WStreamFormat

/// Reads the tokenizer a GGUF file carries in its `tokenizer.ggml.*` metadata.
enum GGUFTokenizer {
    /// - Throws: `ImportError.missingMetadata` when the file has no tokenizer, `.unsupported` for tokenizer
    ///   models other than `llama` (SentencePiece) and `gpt2` (byte-level BPE), `.malformed` for inconsistent arrays.
    static func read(from gguf: GGUFFile) throws -> TokenizerSpec {
        let path = gguf.path
        let model = try gguf.string("tokenizer.ggml.model")
        guard let tokens = try gguf.value("tokenizer.ggml.tokens").array?.compactMap(\.string), !tokens.isEmpty else {
            throw ImportError.missingMetadata(file: path, key: "tokenizer.ggml.tokens")
        }
        let tokenTypes = try (gguf.metadata["tokenizer.ggml.token_type"]?.array ?? []).map { value in
            guard let code = value.int, let type = TokenizerSpec.TokenType(rawValue: Int32(clamping: code)) else {
                throw ImportError.malformed(file: path, detail: "tokenizer.ggml.token_type holds \(value)")
            }
            return type
        }
        guard tokenTypes.isEmpty || tokenTypes.count == tokens.count else {
            throw ImportError.malformed(file: path, detail: "\(tokenTypes.count) token types for \(tokens.count) tokens")
        }
        let specialTokenIds = tokenTypes.indices.filter { tokenTypes[$0] == .control || tokenTypes[$0] == .userDefined }

        var spec: TokenizerSpec
        switch model {
        case "llama":
            let scores = (gguf.metadata["tokenizer.ggml.scores"]?.array ?? []).compactMap { $0.double.map(Float.init) }
            guard scores.count == tokens.count else {
                throw ImportError.malformed(file: path, detail: "tokenizer.ggml.scores has \(scores.count) numbers for \(tokens.count) tokens")
            }
            spec = TokenizerSpec(
                model: .sentencePiece, preTokenizer: .metaspace, tokens: tokens, scores: scores, tokenTypes: tokenTypes,
                byteFallback: tokenTypes.contains(.byte) || tokens.contains("<0x00>"),
                addPrefixSpace: gguf.metadata["tokenizer.ggml.add_space_prefix"]?.bool ?? true,
                addBosToken: gguf.metadata["tokenizer.ggml.add_bos_token"]?.bool ?? true)
        case "gpt2":
            guard let merges = gguf.metadata["tokenizer.ggml.merges"]?.array?.compactMap(\.string) else {
                throw ImportError.missingMetadata(file: path, key: "tokenizer.ggml.merges")
            }
            let pre = gguf.metadata["tokenizer.ggml.pre"]?.string ?? "gpt2"
            spec = TokenizerSpec(
                model: .bytePairEncoding, preTokenizer: .byteLevel,
                splitPattern: ["gpt2", "gpt-2", "default"].contains(pre) ? .gpt2 : .llama3,
                tokens: tokens, merges: merges, tokenTypes: tokenTypes,
                addBosToken: gguf.metadata["tokenizer.ggml.add_bos_token"]?.bool ?? false)
        default:
            throw ImportError.unsupported(file: path, detail: "tokenizer.ggml.model '\(model)' (supported: llama, gpt2)")
        }
        spec.bosTokenId = tokenId(gguf, "bos", count: tokens.count)
        spec.eosTokenId = tokenId(gguf, "eos", count: tokens.count)
        spec.unknownTokenId = tokenId(gguf, "unknown", count: tokens.count)
        spec.paddingTokenId = tokenId(gguf, "padding", count: tokens.count)
        spec.addEosToken = gguf.metadata["tokenizer.ggml.add_eos_token"]?.bool ?? false
        spec.specialTokenIds = specialTokenIds
        spec.extraStopTokenIds = ["eot", "eom"].compactMap { tokenId(gguf, $0, count: tokens.count) }
            .filter { $0 != spec.eosTokenId }
        spec.chatTemplate = gguf.metadata["tokenizer.chat_template"]?.string
        return spec
    }

    /// `tokenizer.ggml.<role>_token_id`, nil when absent or out of range (converters write 0xFFFFFFFF for "none").
    private static func tokenId(_ gguf: GGUFFile, _ role: String, count: Int) -> Int? {
        guard let id = gguf.metadata["tokenizer.ggml.\(role)_token_id"]?.int, id < count else { return nil }
        return id
    }
}
