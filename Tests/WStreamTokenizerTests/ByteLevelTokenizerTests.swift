import TestSupport
import Testing
import WStreamFormat
import WStreamImport
import WStreamTokenizer

/// tiny-lfm2's GPT-2 vocabulary; ids from Hugging Face's tokenizer and llama.cpp.
@Suite struct ByteLevelTokenizerTests {
    @Test func referencePromptsEncodeWithoutBOS() throws {
        let tokenizer = try Fixtures.tinyLFM2()
        #expect(tokenizer.encode("Yes") == [5297])
        #expect(
            tokenizer.encode("Once upon a time, there was a little robot.")
                == [7454, 2402, 257, 640, 11, 612, 373, 257, 1310, 9379, 13])
    }

    @Test func decodeOfEncodeIsTheText() throws {
        let tokenizer = try Fixtures.tinyLFM2()
        let texts = [
            "Hello, world!", "  two leading spaces", "trailing  ", "line one\nline two\r\n\n", "tabs\tand\u{0B}more",
            "1984 2024 31415926535", "I'm sure you'll see it's what we'd've done", "naïve résumé über straße",
            "日本語のテキスト", "emoji 😀 and 🐶 and 👩‍👩‍👧", "“Smart quotes” — dash…", "<|endoftext|> as text", "",
        ]
        for text in texts {
            #expect(tokenizer.decode(tokenizer.encode(text)) == text, "\(text.debugDescription)")
        }
    }

    @Test func endOfTextIsParsedOnlyWhenAskedAndOmittedWhenDecoding() throws {
        let tokenizer = try Fixtures.tinyLFM2()
        #expect(!tokenizer.encode("a<|endoftext|>b").contains(50256))
        let parsed = tokenizer.encode("a<|endoftext|>b", parseSpecialTokens: true)
        #expect(parsed == tokenizer.encode("a") + [50256] + tokenizer.encode("b"))
        #expect(tokenizer.decode(parsed) == "ab")
        #expect(tokenizer.stopTokenIds == [50256])
    }

    @Test func knownGPT2Splits() throws {
        let tokenizer = try Fixtures.tinyLFM2()
        // GPT-2: " world" is one token (995); "  " before a word leaves one space to the word.
        #expect(tokenizer.encode(" world") == [995])
        #expect(tokenizer.encode("Hello world") == [15496, 995])
        #expect(tokenizer.encode("it's") == [270, 338])
    }
}
