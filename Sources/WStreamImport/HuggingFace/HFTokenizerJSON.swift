import FoundationEssentials

/// The parts of `tokenizer.json` that wstream reads. Unknown keys are ignored.
struct HFTokenizerJSON: Decodable {
    struct AddedToken: Decodable {
        var id: Int
        var content: String
        var special: Bool
    }

    /// `model`: the vocabulary and merges are decoded only for BPE, so that a Unigram file (whose vocab is a list
    /// of pairs) reaches the "unsupported model" error instead of a decoding error.
    struct Model: Decodable {
        var type: String
        var vocab: [String: Int] = [:]
        var merges: [String] = []
        var byteFallback = false
        var unkToken: String?

        enum CodingKeys: String, CodingKey {
            case type, vocab, merges, byteFallback = "byte_fallback", unkToken = "unk_token"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let hasMerges = container.contains(.merges)
            type = try container.decodeIfPresent(String.self, forKey: .type) ?? (hasMerges ? "BPE" : "unknown")
            guard type == "BPE" else { return }
            vocab = try container.decode([String: Int].self, forKey: .vocab)
            // Older files spell a merge "left right"; newer ones as a pair ["left", "right"].
            if let strings = try? container.decode([String].self, forKey: .merges) {
                merges = strings
            } else if hasMerges {
                merges = try container.decode([[String]].self, forKey: .merges).map { $0.joined(separator: " ") }
            }
            byteFallback = (try? container.decodeIfPresent(Bool.self, forKey: .byteFallback)) ?? false
            unkToken = try? container.decodeIfPresent(String.self, forKey: .unkToken)
        }
    }

    /// A normalizer, pre-tokenizer, post-processor or decoder; `Sequence` nests further components.
    struct Component: Decodable {
        struct Pattern: Decodable {
            var string: String?
            var regex: String?
            enum CodingKeys: String, CodingKey { case string = "String", regex = "Regex" }
        }

        struct TemplatePiece: Decodable {
            struct Reference: Decodable { var id: String }
            var specialToken: Reference?
            enum CodingKeys: String, CodingKey { case specialToken = "SpecialToken" }
        }

        var type: String
        var children: [Component] = []
        var prepend: String?
        var content: String?
        var pattern: Pattern?
        var addPrefixSpace: Bool?
        var prependScheme: String?
        var single: [TemplatePiece] = []

        enum CodingKeys: String, CodingKey {
            case type, normalizers, pretokenizers, processors, decoders, prepend, content, pattern, single
            case addPrefixSpace = "add_prefix_space", prependScheme = "prepend_scheme"
        }

        // Each field is optional and decoded leniently: components wstream does not use must not fail the file.
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = try container.decode(String.self, forKey: .type)
            for key in [CodingKeys.normalizers, .pretokenizers, .processors, .decoders] {
                if let nested = try? container.decodeIfPresent([Component].self, forKey: key) { children += nested }
            }
            prepend = try? container.decodeIfPresent(String.self, forKey: .prepend)
            content = try? container.decodeIfPresent(String.self, forKey: .content)
            pattern = try? container.decodeIfPresent(Pattern.self, forKey: .pattern)
            addPrefixSpace = try? container.decodeIfPresent(Bool.self, forKey: .addPrefixSpace)
            prependScheme = try? container.decodeIfPresent(String.self, forKey: .prependScheme)
            single = (try? container.decodeIfPresent([TemplatePiece].self, forKey: .single)) ?? []
        }

        /// This component, or the members of a `Sequence`, in order.
        var flattened: [Component] {
            type == "Sequence" ? children.flatMap(\.flattened) : [self]
        }
    }

    var addedTokens: [AddedToken]
    var normalizer: Component?
    var preTokenizer: Component?
    var postProcessor: Component?
    var model: Model

    enum CodingKeys: String, CodingKey {
        case addedTokens = "added_tokens", normalizer, preTokenizer = "pre_tokenizer"
        case postProcessor = "post_processor", model
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        addedTokens = try container.decodeIfPresent([AddedToken].self, forKey: .addedTokens) ?? []
        normalizer = try container.decodeIfPresent(Component.self, forKey: .normalizer)
        preTokenizer = try container.decodeIfPresent(Component.self, forKey: .preTokenizer)
        postProcessor = try? container.decodeIfPresent(Component.self, forKey: .postProcessor)
        model = try container.decode(Model.self, forKey: .model)
    }

    /// The special tokens a `TemplateProcessing` post-processor puts before and after a single sequence.
    var bosTemplate: (bos: String?, eos: String?) {
        guard let template = postProcessor?.flattened.first(where: { $0.type == "TemplateProcessing" }) else {
            return (nil, nil)
        }
        return (template.single.first?.specialToken?.id, template.single.count > 1 ? template.single.last?.specialToken?.id : nil)
    }
}

/// The parts of `tokenizer_config.json` that wstream reads.
struct HFTokenizerConfig: Decodable {
    var bosToken: String?
    var eosToken: String?
    var unkToken: String?
    var padToken: String?
    var addBosToken: Bool?
    var addEosToken: Bool?
    var chatTemplate: String?

    enum CodingKeys: String, CodingKey {
        case bosToken = "bos_token", eosToken = "eos_token", unkToken = "unk_token", padToken = "pad_token"
        case addBosToken = "add_bos_token", addEosToken = "add_eos_token", chatTemplate = "chat_template"
    }

    /// A token is spelled either as a string or as `{"content": …}`.
    private struct TokenName: Decodable {
        var content: String
        init(from decoder: any Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                content = text
            } else {
                content = try decoder.container(keyedBy: Key.self).decode(String.self, forKey: .content)
            }
        }
        enum Key: String, CodingKey { case content }
    }

    private struct NamedTemplate: Decodable {
        var name: String
        var template: String
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func token(_ key: CodingKeys) -> String? { (try? container.decodeIfPresent(TokenName.self, forKey: key))??.content }
        bosToken = token(.bosToken)
        eosToken = token(.eosToken)
        unkToken = token(.unkToken)
        padToken = token(.padToken)
        addBosToken = try? container.decodeIfPresent(Bool.self, forKey: .addBosToken)
        addEosToken = try? container.decodeIfPresent(Bool.self, forKey: .addEosToken)
        if let text = try? container.decodeIfPresent(String.self, forKey: .chatTemplate) {
            chatTemplate = text
        } else if let named = try? container.decodeIfPresent([NamedTemplate].self, forKey: .chatTemplate) {
            chatTemplate = (named.first { $0.name == "default" } ?? named.first)?.template
        }
    }
}

/// `generation_config.json`: its `eos_token_id` may be one id or a list.
struct HFGenerationConfig: Decodable {
    var bosTokenIds: [Int]
    var eosTokenIds: [Int]

    enum CodingKeys: String, CodingKey { case bos = "bos_token_id", eos = "eos_token_id" }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func ids(_ key: CodingKeys) -> [Int] {
            if let one = try? container.decodeIfPresent(Int.self, forKey: key) { return [one] }
            return ((try? container.decodeIfPresent([Int].self, forKey: key)) ?? nil) ?? []
        }
        bosTokenIds = ids(.bos)
        eosTokenIds = ids(.eos)
    }
}
