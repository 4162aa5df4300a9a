import WStreamFormat

/// The `config.json` of a synthetic model: the keys Hugging Face's configuration classes (and wstream's importer) read.
enum SyntheticConfigFile {
    static func json(for config: ModelConfig, tokenizer: SyntheticTokenizer) -> String {
        var members: [(String, String)]
        switch config.architecture {
        case .llama:
            members = [
                ("architectures", "[\"LlamaForCausalLM\"]"), ("model_type", "\"llama\""),
                ("hidden_size", "\(config.hiddenSize)"), ("intermediate_size", "\(config.ffnSize)"),
                ("num_hidden_layers", "\(config.layerCount)"), ("num_attention_heads", "\(config.headCount)"),
                ("num_key_value_heads", "\(config.kvHeadCount)"), ("head_dim", "\(config.headDim)"),
                ("rms_norm_eps", "\(config.normEps)"), ("rope_theta", "\(config.ropeTheta)"),
                ("tie_word_embeddings", "\(config.tiedEmbeddings)"), ("attention_bias", "false"),
                ("mlp_bias", "false"), ("hidden_act", "\"silu\""),
            ]
        case .lfm2:
            let layerTypes = config.blockKinds.map { $0 == .attention ? "\"full_attention\"" : "\"conv\"" }
            members = [
                ("architectures", "[\"Lfm2ForCausalLM\"]"), ("model_type", "\"lfm2\""),
                ("hidden_size", "\(config.hiddenSize)"), ("num_hidden_layers", "\(config.layerCount)"),
                ("num_attention_heads", "\(config.headCount)"), ("num_key_value_heads", "\(config.kvHeadCount)"),
                ("intermediate_size", "\(config.ffnSize)"), ("block_ff_dim", "\(config.ffnSize)"),
                ("block_auto_adjust_ff_dim", "false"), ("block_multiple_of", "256"),
                ("conv_L_cache", "\(config.convKernelSize)"), ("conv_bias", "false"),
                ("layer_types", "[" + layerTypes.joined(separator: ", ") + "]"),
                ("norm_eps", "\(config.normEps)"), ("rope_theta", "\(config.ropeTheta)"),
                ("tie_embedding", "\(config.tiedEmbeddings)"), ("tie_word_embeddings", "\(config.tiedEmbeddings)"),
            ]
        }
        members += [
            ("vocab_size", "\(config.vocabSize)"), ("max_position_embeddings", "\(config.contextLength)"),
            ("bos_token_id", "\(tokenizer.bosTokenId)"), ("eos_token_id", "\(tokenizer.eosTokenId)"),
            ("torch_dtype", "\"bfloat16\""),
        ]
        return JSONText.object(members) + "\n"
    }
}
