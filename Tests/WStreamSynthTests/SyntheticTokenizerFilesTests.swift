import FoundationEssentials
import Testing
import TestSupport
import WStreamSynth

/// The tokenizer files are valid Hugging Face JSON whose vocabulary, merges and special tokens agree.
@Suite struct SyntheticTokenizerFilesTests {
    let directory = TemporaryDirectory("wstream-synth-tokenizer")

    struct TokenizerFile: Decodable {
        struct AddedToken: Decodable {
            let id: Int
            let content: String
            let special: Bool
        }
        struct Model: Decodable {
            let type: String
            let vocab: [String: Int]
            let merges: [[String]]
        }
        let added_tokens: [AddedToken]
        let model: Model
    }

    struct TokenizerConfig: Decodable {
        let add_bos_token: Bool
        let bos_token: String
        let eos_token: String
        let chat_template: String
    }

    struct ModelConfigFile: Decodable {
        let bos_token_id: Int
        let eos_token_id: Int
    }

    @Test(arguments: ["llama-tiny", "lfm2-tiny"])
    func tokenizerFilesAreConsistent(name: String) throws {
        let specials = ["<|startoftext|>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        let shape = try SyntheticShape.named(name)
        try SyntheticModel.write(shape: shape, to: directory.path, seed: 1, shards: 1)
        let tokenizer = try JSONDecoder().decode(TokenizerFile.self, from: try read("tokenizer.json"))
        let config = try JSONDecoder().decode(TokenizerConfig.self, from: try read("tokenizer_config.json"))
        let modelConfig = try JSONDecoder().decode(ModelConfigFile.self, from: try read("config.json"))

        let vocabSize = shape.config.vocabSize
        #expect(tokenizer.model.type == "BPE")
        #expect(tokenizer.model.vocab.count == vocabSize)
        #expect(Set(tokenizer.model.vocab.values) == Set(0..<vocabSize))
        #expect(tokenizer.model.merges.count > 200)
        for merge in tokenizer.model.merges {
            #expect(merge.count == 2)
            #expect(tokenizer.model.vocab[merge[0]] != nil && tokenizer.model.vocab[merge[1]] != nil)
            #expect(tokenizer.model.vocab[merge.joined()] != nil, "\(merge)")
        }
        #expect(tokenizer.model.vocab["Ġthe"] != nil)
        #expect(tokenizer.added_tokens.map(\.content) == specials)
        #expect(tokenizer.added_tokens.allSatisfy { $0.special && tokenizer.model.vocab[$0.content] == $0.id })
        #expect(config.add_bos_token)
        #expect(config.bos_token == specials[0])
        #expect(tokenizer.model.vocab[config.bos_token] == modelConfig.bos_token_id)
        #expect(tokenizer.model.vocab[config.eos_token] == modelConfig.eos_token_id)
        #expect(config.eos_token == specials[1])
        #expect(config.chat_template.contains("<|im_start|>"))
    }

    private func read(_ name: String) throws -> Data {
        Data(try FileContents.read(directory.file(name)))
    }
}
