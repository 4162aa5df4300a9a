import Testing
import TestSupport
import WStreamFormat
import WStreamImport

@Suite struct GGUFTokenizerTests {
    @Test func storiesVocabularyIsSentencePieceWithByteFallback() throws {
        let spec = try ModelImporter.importModel(at: SharedModels.storiesGGUF).tokenizer
        #expect(spec.model == .sentencePiece)
        #expect(spec.preTokenizer == .metaspace)
        #expect(spec.tokens.count == 512)
        #expect(spec.scores.count == 512)
        #expect(spec.tokens[1] == "<s>")
        #expect(spec.tokens[3] == "<0x00>")
        #expect(spec.bosTokenId == 1)
        #expect(spec.eosTokenId == 2)
        #expect(spec.unknownTokenId == 0)
        #expect(spec.paddingTokenId == nil)
        #expect(spec.byteFallback)
        #expect(spec.addPrefixSpace)
        #expect(spec.addBosToken)
        #expect(!spec.addEosToken)
        #expect(spec.specialTokenIds == [1, 2])
        #expect(spec.scores[300] != 0)
    }

    @Test func tinyLFM2VocabularyIsByteLevelBPE() throws {
        let spec = try ModelImporter.importModel(at: SharedModels.tinyLFM2GGUF).tokenizer
        #expect(spec.model == .bytePairEncoding)
        #expect(spec.preTokenizer == .byteLevel)
        #expect(spec.splitPattern == .gpt2)
        #expect(spec.tokens.count == 50257)
        #expect(spec.merges.count == 50000)
        #expect(spec.merges.first == "Ġ t")
        #expect(spec.scores.isEmpty)
        #expect(spec.bosTokenId == 50256)
        #expect(!spec.addBosToken)
    }
}
