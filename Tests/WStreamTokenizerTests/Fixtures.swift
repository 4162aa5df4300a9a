import FoundationEssentials
import TestSupport
import Testing
import WStreamFormat
import WStreamImport
import WStreamTokenizer

/// The real tokenizer files the tests read, loaded once.
enum Fixtures {
    struct Case: Decodable {
        var text: String
        var ids: [Int]
    }

    struct CaseFile: Decodable { var cases: [Case] }

    struct Reference: Decodable {
        struct Entry: Decodable {
            var prompt: String
            var prompt_ids: [Int]
            var generated_ids: [Int]
            var continuation_text: String
        }
        var cases: [Entry]
    }

    static func json<T: Decodable>(_ relative: String, as type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(filePath: try SharedModels.path(relative))))
    }

    static func storiesCases() throws -> [Case] {
        try json("stories260K/tokenizer-cases.json", as: CaseFile.self).cases
    }

    static func storiesSpec() throws -> TokenizerSpec { try HFTokenizerFile.load(directory: SharedModels.storiesHF) }
    // Built once for all tests: the GPT-2 tables take a noticeable fraction of a second in a debug build.
    private static let storiesTokenizer = Result { try Tokenizer(spec: storiesSpec()) }
    private static let tinyLFM2Tokenizer = Result {
        try Tokenizer(spec: HFTokenizerFile.load(directory: SharedModels.tinyLFM2HF))
    }

    static func stories() throws -> Tokenizer { try storiesTokenizer.get() }
    static func tinyLFM2() throws -> Tokenizer { try tinyLFM2Tokenizer.get() }

    /// A `.sentencePiece` spec built from the Hugging Face BPE file: a token's score is minus the rank of the
    /// merge that creates it, which is exactly the order llama2.c's tok512 scores give.
    static func storiesScoredSpec() throws -> TokenizerSpec {
        var spec = try storiesSpec()
        let index = Dictionary(spec.tokens.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        var scores = [Float](repeating: -1e9, count: spec.tokens.count)
        for (rank, merge) in spec.merges.enumerated().reversed() {
            let id = try #require(index[merge.replacing(" ", with: "")])
            scores[id] = -Float(rank)
        }
        spec.model = .sentencePiece
        spec.scores = scores
        spec.merges = []
        return spec
    }
}
