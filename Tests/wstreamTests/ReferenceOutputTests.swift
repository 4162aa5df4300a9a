import FoundationEssentials
import Testing
import TestSupport

/// `tokenize` and `run` reproduce llama2.c's ids for stories260K.
@Suite struct ReferenceOutputTests {
    struct TokenizerCases: Decodable {
        struct Case: Decodable {
            let text: String
            let ids: [Int]
        }
        let cases: [Case]
    }

    /// The line `run --print-ids` writes.
    struct PrintedIds: Decodable, Equatable {
        let promptIds: [Int]
        let generatedIds: [Int]

        enum CodingKeys: String, CodingKey {
            case promptIds = "prompt_ids"
            case generatedIds = "generated_ids"
        }
    }

    static func tokenizerCases() throws -> [TokenizerCases.Case] {
        let path = try SharedModels.path("stories260K/tokenizer-cases.json")
        return try JSONDecoder().decode(TokenizerCases.self, from: Data(try FileContents.read(path))).cases
    }

    @Test(arguments: ["no\u{a0}break space", "Once upon a time", "multiple   internal    spaces"])
    func tokenizePrintsTheReferenceIdsAsAJSONArray(text: String) throws {
        let expected = try #require(Self.tokenizerCases().first { $0.text == text }, "no case \(text) in tokenizer-cases.json")
        let model = try Fixtures.storiesHF()
        let result = try WStreamExecutable.run("tokenize", model.path, "--text", text)
        #expect(result.succeeded, "\(result)")
        let printed = result.stdout.split(separator: "\n").map(String.init)
        #expect(printed == ["[" + expected.ids.map(String.init).joined(separator: ",") + "]"], "\(result)")
    }

    @Test func runAt32BitsReproducesTheReferenceGreedyIds() throws {
        let reference = try #require(try ReferenceFile.load("stories260K/reference.json").cases.first)
        let model = try Fixtures.storiesFloat32()
        let result = try WStreamExecutable.run(
            "run", model.path, "--prompt", reference.promptText, "--temperature", "0", "-n", "64", "--print-ids")
        #expect(result.succeeded, "\(result)")
        let line = try #require(result.stdout.split(separator: "\n").last { $0.hasPrefix("{\"prompt_ids\"") }, "\(result)")
        let printed = try JSONDecoder().decode(PrintedIds.self, from: Data(line.utf8))
        #expect(printed == PrintedIds(promptIds: reference.promptIds, generatedIds: reference.generatedIds))
        if let continuation = reference.continuationText {
            #expect(result.stdout.contains(continuation), "\(result)")
        }
    }
}
