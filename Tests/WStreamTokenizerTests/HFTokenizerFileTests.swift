import FoundationEssentials
import TestSupport
import Testing
import WStreamFormat
import WStreamImport

@Suite struct HFTokenizerFileTests {
    @Test func storiesIsMetaspaceBPEWithByteFallbackAndBOS() throws {
        let spec = try Fixtures.storiesSpec()
        #expect(spec.model == .bytePairEncoding)
        #expect(spec.preTokenizer == .metaspace)
        #expect(spec.addPrefixSpace)
        #expect(spec.byteFallback)
        #expect(spec.tokens.count == 512)
        #expect(spec.merges.count == 165)
        #expect(spec.merges.first == "▁ t")
        #expect(spec.tokens[13] == "<0x0A>")
        #expect(spec.tokenTypes[13] == .byte)
        #expect(spec.bosTokenId == 1)
        #expect(spec.eosTokenId == 2)
        #expect(spec.unknownTokenId == 0)
        #expect(spec.addBosToken)
        #expect(!spec.addEosToken)
        #expect(spec.specialTokenIds == [0, 1, 2])
    }

    @Test func tinyLFM2IsGPT2ByteLevelWithoutBOS() throws {
        let spec = try HFTokenizerFile.load(directory: SharedModels.tinyLFM2HF)
        #expect(spec.preTokenizer == .byteLevel)
        #expect(spec.splitPattern == .gpt2)
        #expect(!spec.addPrefixSpace)
        #expect(spec.tokens.count == 50257)
        #expect(spec.merges.count == 50000)
        #expect(spec.merges.first == "Ġ t")
        #expect(spec.eosTokenId == 50256)
        #expect(!spec.addBosToken)
        #expect(spec.specialTokenIds == [50256])
    }

    @Test func unigramModelIsRejectedNamingTheFile() throws {
        let directory = TemporaryDirectory()
        let json = #"{"model": {"type": "Unigram", "vocab": [["<unk>", 0.0]]}, "added_tokens": []}"#
        try Data(json.utf8).write(to: URL(filePath: directory.file("tokenizer.json")))
        let error = try #require(throws: HFTokenizerFile.Error.self) { try HFTokenizerFile.load(directory: directory.path) }
        #expect(error.file == directory.file("tokenizer.json"))
        #expect(error.description.contains("Unigram"))
        #expect(error.description.contains("BPE"))
    }

    /// The token table holds every id up to the largest, so an id far past the number of tokens (or below 0) would
    /// make it as large as the file likes: refused, naming the token.
    @Test(arguments: [
        (#""vocab": {"a": 0, "b": 4611686018427387904}"#, #""b""#),
        (#""vocab": {"a": 0, "b": -3}"#, #""b""#),
        (#""vocab": {"a": 0, "b": 1}, "unk_token": "b""#, nil),
    ] as [(String, String?)])
    func tokenIdsFarOutsideTheVocabularyAreRefused(vocabulary: String, token: String?) throws {
        let directory = TemporaryDirectory()
        let json = #"{"model": {"type": "BPE", \#(vocabulary), "merges": []}, "added_tokens": [{"id": 9, "content": "<s>", "special": true}], "#
            + #""normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}}"#
        try Data(json.utf8).write(to: URL(filePath: directory.file("tokenizer.json")))
        guard let token else {
            // Sparse ids within reach are kept, the gaps filled with placeholders.
            let spec = try HFTokenizerFile.load(directory: directory.path)
            #expect(spec.tokens.count == 10)
            #expect(spec.tokens[5] == "<|unused_5|>")
            #expect(spec.unknownTokenId == 1)
            return
        }
        let error = try #require(throws: HFTokenizerFile.Error.self) { try HFTokenizerFile.load(directory: directory.path) }
        #expect(error.file == directory.file("tokenizer.json"))
        #expect(error.problem.contains("token \(token) has id"), "\(error)")
    }

    @Test func missingTokenizerFileIsReportedWithItsPath() throws {
        let directory = TemporaryDirectory()
        let error = try #require(throws: HFTokenizerFile.Error.self) { try HFTokenizerFile.load(directory: directory.path) }
        #expect(error.file == directory.file("tokenizer.json"))
    }

    @Test func llama3StyleFileGivesByteLevelWithLlama3SplitTemplateBOSAndChatTemplate() throws {
        let directory = TemporaryDirectory()
        let tokenizer = #"""
            {"added_tokens": [{"id": 5, "content": "<|begin_of_text|>", "special": true},
                              {"id": 6, "content": "<|eot_id|>", "special": true}],
             "normalizer": null,
             "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false},
                {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]},
             "post_processor": {"type": "Sequence", "processors": [
                {"type": "ByteLevel", "add_prefix_space": true},
                {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]}]},
             "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3, "c": 4}, "merges": [["a", "b"]], "ignore_merges": true}}
            """#
        let config = #"""
            {"bos_token": "<|begin_of_text|>", "eos_token": {"content": "<|eot_id|>"},
             "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}
            """#
        try Data(tokenizer.utf8).write(to: URL(filePath: directory.file("tokenizer.json")))
        try Data(config.utf8).write(to: URL(filePath: directory.file("tokenizer_config.json")))
        let spec = try HFTokenizerFile.load(directory: directory.path)
        #expect(spec.preTokenizer == .byteLevel)
        #expect(spec.splitPattern == .llama3)
        #expect(spec.merges == ["a b"])
        #expect(spec.bosTokenId == 5)
        #expect(spec.eosTokenId == 6)
        #expect(spec.addBosToken)
        #expect(spec.chatTemplate == "D")
        #expect(spec.specialTokenIds == [5, 6])
    }

    @Test func metaspacePreTokenizerWithPrependSchemeNeverHasNoPrefixSpace() throws {
        let directory = TemporaryDirectory()
        let tokenizer = #"""
            {"added_tokens": [], "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never", "split": false},
             "model": {"type": "BPE", "vocab": {"a": 0, "▁": 1}, "merges": []}}
            """#
        try Data(tokenizer.utf8).write(to: URL(filePath: directory.file("tokenizer.json")))
        let spec = try HFTokenizerFile.load(directory: directory.path)
        #expect(spec.preTokenizer == .metaspace)
        #expect(!spec.addPrefixSpace)
    }
}
