import WStreamFormat

/// A small byte-level BPE tokenizer for synthetic models (`tokenizer.json` + `tokenizer_config.json`).
///
/// Vocabulary: GPT-2's 256 byte characters, then tokens built by a few hundred merges of common English words
/// (so ordinary text encodes to multi-byte tokens), then made-up syllable words up to the vocabulary size (so a
/// random-weight model's output reads as words, not as markers), then the special tokens at the top.
struct SyntheticTokenizer {
    let tokens: [String]
    /// Pairs in rank order.
    let merges: [(String, String)]
    /// Ids of the special (added) tokens.
    let specialIds: [Int]
    let bosTokenId: Int
    let eosTokenId: Int
    let contextLength: Int

    static let chatTemplate =
        "{{ bos_token }}{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

    /// Words (with GPT-2's leading-space convention) whose merges the tokenizer learns, most common first.
    static let words: [String] = (
        " the of and to in is that it was for on are as with his they at be this from have or by one had not but what all were when we there can an your which their said if do will each about how up out them then she many some so these would other into has more her two like him see time could no make than first been its who now people my made over did down only way find use may water long little very after words called just where most know get through back much before go good new write our used me man too any day same right look think also around another came come work three word must because does part even place well such here take why things help put years different away again off went old number great tell men say small every found still between name should home big give air line set own under read last never us left end along while might next sound below saw something thought both few those always looked show large often together asked house world going want school important until form food keep children feet land side without boy once animals life enough took sometimes four head above kind began almost live page got earth need far hand high year mother light parts country father let night following picture being study second eyes soon times story boys since white days paper hard near sentence better best across during today others however sure means knew try told young miles sun ways thing whole hear example heard several change answer room sea against top turned learn point city play toward five using himself usually money seen car morning"
        .split(separator: " ").map { " " + $0 }) + ["ing", "ed", "er", "ly", "tion", "es", "'s", "\n\n", "  ", "    "]

    /// - Parameters:
    ///   - config: the vocabulary size and context length.
    init(config: ModelConfig) {
        let specials = ["<|startoftext|>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        let byteCharacters = Self.byteCharacters()
        var tokens = byteCharacters
        var known = Set(tokens)
        var merges: [(String, String)] = []
        let mergeLimit = config.vocabSize - 256 - specials.count
        for word in Self.words {
            let characters = word.utf8.map { byteCharacters[Int($0)] }
            var prefix = characters[0]
            for character in characters.dropFirst() {
                let merged = prefix + character
                if !known.contains(merged), merges.count < mergeLimit {
                    merges.append((prefix, character))
                    tokens.append(merged)
                    known.insert(merged)
                }
                prefix = merged
            }
        }
        let firstSpecial = config.vocabSize - specials.count
        var filler = 0
        while tokens.count < firstSpecial {
            let word = byteCharacters[32] + Self.syllableWord(filler)
            filler += 1
            if known.insert(word).inserted { tokens.append(word) }
        }
        tokens += specials
        self.tokens = tokens
        self.merges = merges
        specialIds = Array(firstSpecial..<config.vocabSize)
        bosTokenId = firstSpecial
        eosTokenId = firstSpecial + 1
        contextLength = config.contextLength
    }

    /// The `index`th word of one to four consonant-vowel syllables (`ka`, `lomi`, …), in a fixed order.
    static func syllableWord(_ index: Int) -> String {
        let consonants = Array("bdfghklmnprstvz"), vowels = Array("aeiou")
        let syllables = consonants.count * vowels.count
        var word = ""
        var rest = index
        repeat {
            let syllable = rest % syllables
            word.append(consonants[syllable / vowels.count])
            word.append(vowels[syllable % vowels.count])
            rest /= syllables
        } while rest > 0
        return word
    }

    /// GPT-2's byte-to-unicode table: printable bytes stand for themselves, the rest map to U+0100 onwards.
    static func byteCharacters() -> [String] {
        let printable = Array(33...126) + Array(161...172) + Array(174...255)
        var table = [String](repeating: "", count: 256)
        var next = 256
        for byte in 0..<256 {
            let scalar: Int
            if printable.contains(byte) {
                scalar = byte
            } else {
                scalar = next
                next += 1
            }
            table[byte] = String(Character(Unicode.Scalar(UInt32(scalar))!))
        }
        return table
    }

    var tokenizerJSON: String {
        let added = specialIds.map { id in
            "    {\"id\": \(id), \"content\": \(JSONText.quoted(tokens[id])), \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}"
        }.joined(separator: ",\n")
        let vocabulary = tokens.enumerated().map { "\(JSONText.quoted($0.element)): \($0.offset)" }.joined(separator: ", ")
        let mergeList = merges.map { "[\(JSONText.quoted($0.0)), \(JSONText.quoted($0.1))]" }.joined(separator: ", ")
        let bos = JSONText.quoted(tokens[bosTokenId])
        return """
            {
              "version": "1.0",
              "truncation": null,
              "padding": null,
              "added_tokens": [
            \(added)
              ],
              "normalizer": null,
              "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
              "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": \(bos), "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "pair": [{"SpecialToken": {"id": \(bos), "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}], "special_tokens": {\(bos): {"id": \(bos), "ids": [\(bosTokenId)], "tokens": [\(bos)]}}},
              "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
              "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "", "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false, "ignore_merges": false, "vocab": {\(vocabulary)}, "merges": [\(mergeList)]}
            }

            """
    }

    var tokenizerConfigJSON: String {
        let decoder = specialIds.map { id in
            (String(id), JSONText.object([
                ("content", JSONText.quoted(tokens[id])), ("lstrip", "false"), ("normalized", "false"),
                ("rstrip", "false"), ("single_word", "false"), ("special", "true"),
            ], indent: "    "))
        }
        return JSONText.object([
            ("tokenizer_class", "\"PreTrainedTokenizerFast\""), ("add_bos_token", "true"), ("add_eos_token", "false"),
            ("bos_token", JSONText.quoted(tokens[bosTokenId])), ("eos_token", JSONText.quoted(tokens[eosTokenId])),
            ("model_max_length", "\(contextLength)"), ("clean_up_tokenization_spaces", "false"),
            ("chat_template", JSONText.quoted(Self.chatTemplate)),
            ("added_tokens_decoder", JSONText.object(decoder, indent: "  ")),
        ]) + "\n"
    }
}
