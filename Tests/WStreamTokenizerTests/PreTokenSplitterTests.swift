import Testing
import WStreamFormat
@testable import WStreamTokenizer

@Suite struct PreTokenSplitterTests {
    private func pieces(_ text: String, _ pattern: TokenizerSpec.SplitPattern) -> [String] {
        let scalars = Array(text.unicodeScalars)
        return PreTokenSplitter(pattern: pattern).split(scalars).map { range in
            var piece = String.UnicodeScalarView()
            piece.append(contentsOf: scalars[range])
            return String(piece)
        }
    }

    @Test func gpt2SplitsContractionsWordsNumbersPunctuationAndSpaces() {
        #expect(pieces("I'm here", .gpt2) == ["I", "'m", " here"])
        #expect(pieces("Hello,   world!!\n", .gpt2) == ["Hello", ",", "  ", " world", "!!", "\n"])
        #expect(pieces("abc 12345 x", .gpt2) == ["abc", " 12345", " x"])
        #expect(pieces("DON'T", .gpt2) == ["DON", "'", "T"])
        #expect(pieces("naïve 日本", .gpt2) == ["naïve", " 日本"])
        #expect(pieces("x  ", .gpt2) == ["x", "  "])
    }

    @Test func llama3SplitsNumbersInThreesAndKeepsNewlineRuns() {
        #expect(pieces("12345", .llama3) == ["123", "45"])
        #expect(pieces("DON'T", .llama3) == ["DON", "'T"])
        #expect(pieces("(hello) world", .llama3) == ["(hello", ")", " world"])
        #expect(pieces("a.\n\n  b", .llama3) == ["a", ".\n\n", " ", " b"])
        #expect(pieces("x \n\n y", .llama3) == ["x", " \n\n", " y"])
    }
}
