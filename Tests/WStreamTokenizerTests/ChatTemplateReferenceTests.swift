import Testing
import WStreamTokenizer

/// Every case of `../shared/chat-templates/cases.json` through the library: the render equals what
/// transformers rendered, and where transformers raised, rendering raises too.
@Suite struct ChatTemplateReferenceTests {
    static let messageSets = ["single_user", "multi_turn_system", "unicode_quotes_newlines", "tools_offered", "content_parts", "tool_call_round_trip"]

    @Test(arguments: messageSets)
    func everyTemplateRendersThisMessageSetAsTransformersDoes(set: String) throws {
        let corpus = try ChatTemplateCorpus.load()
        let cases = corpus.cases.filter { $0.set == set }
        try #require(!cases.isEmpty, "cases.json has no case for the message set \(set)")
        var equal = 0
        var raised = 0
        for entry in cases {
            let outcome = Result { try corpus.render(entry) }
            switch (entry.expected, outcome) {
            case let (expected?, .success(prompt)):
                #expect(prompt == expected, "\(entry.template) × \(set): the render differs from transformers'")
                if prompt == expected { equal += 1 }
            case let (_?, .failure(error)):
                Issue.record("\(entry.template) × \(set): transformers renders it, wstream fails: \(error)")
            case (nil, .success):
                Issue.record("\(entry.template) × \(set): transformers raised (\(entry.error ?? "")), wstream rendered a prompt")
            case (nil, .failure):
                raised += 1
            }
        }
        let scorable = cases.filter { $0.expected != nil }.count
        print("chat templates × \(set): \(equal)/\(scorable) renders equal the reference; \(raised)/\(cases.count - scorable) raise as the reference does")
    }
}
