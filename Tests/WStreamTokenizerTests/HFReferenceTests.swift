import Testing
import WStreamFormat
import WStreamImport
import WStreamTokenizer

/// Agreement with Hugging Face `tokenizers` on strings that stress the split patterns and merging.
@Suite struct HFReferenceTests {
    @Test func gpt2ByteLevelMatchesHuggingFace() throws {
        let tokenizer = try Fixtures.tinyLFM2()
        for entry in HFReferenceCases.all {
            #expect(tokenizer.encode(entry.text) == entry.gpt2, "\(entry.text.debugDescription)")
        }
    }

    @Test func llama3SplitWithIgnoreMergesMatchesHuggingFace() throws {
        var spec = try Fixtures.tinyLFM2().spec
        spec.splitPattern = .llama3
        let tokenizer = try Tokenizer(spec: spec)
        for entry in HFReferenceCases.all {
            #expect(tokenizer.encode(entry.text) == entry.llama3, "\(entry.text.debugDescription)")
            #expect(tokenizer.decode(entry.llama3) == entry.text)
        }
    }

    @Test func metaspaceByteFallbackMatchesHuggingFace() throws {
        let tokenizer = try Fixtures.stories()
        for entry in HFReferenceCases.all {
            #expect(tokenizer.encode(entry.text) == entry.stories, "\(entry.text.debugDescription)")
        }
    }
}
