import Testing
import WStreamFormat
@testable import WStreamTokenizer

@Suite struct StreamingDetokenizerTests {
    private func streamed(_ tokenizer: Tokenizer, _ ids: [Int]) -> [String] {
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        return ids.map { detokenizer.append($0) } + [detokenizer.flush()]
    }

    @Test func byteFallbackCharactersAreHeldUntilComplete() throws {
        let tokenizer = try Fixtures.stories()
        for text in ["emoji 😀 and 🐶", "日本", "Ñandú señor año", "price €5 ™"] {
            let ids = tokenizer.encode(text)
            let chunks = streamed(tokenizer, ids)
            #expect(chunks.joined() == tokenizer.decode(ids), "\(text)")
            #expect(chunks.joined() == text)
            #expect(!chunks.joined().contains("\u{FFFD}"))
        }
        // The emoji is four byte tokens after the dummy prefix: nothing comes out until the fourth.
        let emoji = tokenizer.encode("😀", addSpecialTokens: false)
        #expect(emoji.count == 5)
        #expect(streamed(tokenizer, emoji) == ["", "", "", "", "😀", ""])
    }

    @Test func byteLevelEmojiSplitAcrossTokensStreamsWhole() throws {
        let tokenizer = try Fixtures.tinyLFM2()
        let text = "emoji 😀 and 🐶, 日本語, and 👩‍👩‍👧 done"
        let ids = tokenizer.encode(text)
        let chunks = streamed(tokenizer, ids)
        #expect(chunks.joined() == text)
        #expect(chunks.joined() == tokenizer.decode(ids))
        #expect(!chunks.contains { $0.contains("\u{FFFD}") })
    }

    @Test func continuationKeepsItsLeadingSpaceWhenStartedAfterThePrompt() throws {
        let tokenizer = try Fixtures.stories()
        let prompt = tokenizer.encode("Once upon a time")
        let continuation = Array(tokenizer.encode("Once upon a time there").dropFirst(prompt.count))
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer, previousTokenId: prompt.last)
        let text = continuation.map { detokenizer.append($0) }.joined() + detokenizer.flush()
        #expect(text.hasPrefix(" "))
    }

    @Test func incompleteTrailingBytesAreHeldAndMalformedOnesPassThrough() {
        #expect(StreamingDetokenizer.completePrefixLength([0x61, 0xF0, 0x9F, 0x98]) == 1)
        #expect(StreamingDetokenizer.completePrefixLength([0x61, 0xF0, 0x9F, 0x98, 0x80]) == 5)
        #expect(StreamingDetokenizer.completePrefixLength([0x61, 0xC3]) == 1)
        #expect(StreamingDetokenizer.completePrefixLength([0x80, 0x80]) == 2)
        #expect(StreamingDetokenizer.completePrefixLength([]) == 0)
    }
}
