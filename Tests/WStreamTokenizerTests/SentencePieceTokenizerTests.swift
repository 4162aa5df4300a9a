import TestSupport
import Testing
import WStreamFormat
import WStreamImport
import WStreamTokenizer

/// stories260K's tok512: llama2.c's `encode()` is the reference for every case.
@Suite struct SentencePieceTokenizerTests {
    @Test func everyLlama2cCaseEncodesAlikeFromTokenizerJSON() throws {
        let tokenizer = try Fixtures.stories()
        for entry in try Fixtures.storiesCases() {
            #expect(tokenizer.encode(entry.text) == entry.ids, "\(entry.text.debugDescription)")
        }
    }

    @Test func everyLlama2cCaseEncodesAlikeWithScoresDerivedFromMergeRanks() throws {
        let tokenizer = try Tokenizer(spec: Fixtures.storiesScoredSpec())
        for entry in try Fixtures.storiesCases() {
            #expect(tokenizer.encode(entry.text) == entry.ids, "\(entry.text.debugDescription)")
        }
    }

    /// Needs the GGUF importer (another module); it runs once that is merged.
    @Test func everyLlama2cCaseEncodesAlikeFromTheGGUFVocabulary() throws {
        let spec = try ModelImporter.importModel(at: SharedModels.storiesGGUF).tokenizer
        #expect(spec.model == .sentencePiece)
        let tokenizer = try Tokenizer(spec: spec)
        for entry in try Fixtures.storiesCases() {
            #expect(tokenizer.encode(entry.text) == entry.ids, "\(entry.text.debugDescription)")
        }
    }

    @Test func referencePromptEncodesWithBOSAndContinuationDecodes() throws {
        let tokenizer = try Fixtures.stories()
        let reference = try #require(Fixtures.json("stories260K/reference.json", as: Fixtures.Reference.self).cases.first)
        #expect(tokenizer.encode("Once upon a time") == [1, 403, 407, 261, 378])
        #expect(tokenizer.encode(reference.prompt) == reference.prompt_ids)
        #expect(tokenizer.decode(reference.generated_ids) == reference.continuation_text)
    }

    @Test func decodeDropsTheDummyPrefixAfterBOSAndRoundTrips() throws {
        let tokenizer = try Fixtures.stories()
        for entry in try Fixtures.storiesCases() where !entry.text.isEmpty {
            #expect(tokenizer.decode(entry.ids) == entry.text, "\(entry.text.debugDescription)")
        }
        // Mid-text, a piece's leading space is a real space.
        #expect(tokenizer.decode([403, 407]) == "Once upon")
        #expect(tokenizer.decode([1, 403, 407]) == "Once upon")
    }

    @Test func emptyTextIsJustBOS() throws {
        let tokenizer = try Fixtures.stories()
        #expect(tokenizer.encode("") == [1])
        #expect(tokenizer.encode("", addSpecialTokens: false) == [])
        #expect(tokenizer.encode("Once", addSpecialTokens: false).first != 1)
    }

    @Test func specialTokenTextIsPlainUnlessParsed() throws {
        let tokenizer = try Fixtures.stories()
        let plain = tokenizer.encode("a</s>b")
        #expect(!plain.contains(2))
        let parsed = tokenizer.encode("a</s>b", parseSpecialTokens: true)
        #expect(parsed.contains(2))
        #expect(parsed == tokenizer.encode("a") + [2] + tokenizer.encode("b", addSpecialTokens: false))
    }

    @Test func stopTokensIncludeEOS() throws {
        #expect(try Fixtures.stories().stopTokenIds.contains(2))
    }

    @Test func longPromptRoundTrips() throws {
        let tokenizer = try Fixtures.stories()
        let sentence = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
        let text = String(repeating: sentence, count: 60)
        #expect(tokenizer.decode(tokenizer.encode(text)) == text)
    }
}
