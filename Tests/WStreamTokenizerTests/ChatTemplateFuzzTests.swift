import Testing
import WStreamTokenizer

/// The fuzzing entry point absorbs every failure: the corpus templates render through it, and mangled
/// versions of them (truncated, spliced, with stray tag fragments) return instead of trapping.
@Suite struct ChatTemplateFuzzTests {
    private static func fuzz(_ text: String) -> Bool {
        Array(text.utf8).withUnsafeBytes { ChatTemplate.fuzz($0) }
    }

    @Test func everyCorpusTemplateRendersThroughTheFuzzEntryPoint() throws {
        let corpus = try ChatTemplateCorpus.load()
        let failing = corpus.templateSources.filter { !Self.fuzz($0.value) }.map(\.key).sorted()
        // The fuzzer's conversation has a system prompt and a tool call round trip: the templates transformers
        // refuses those for are the only ones allowed to fail.
        let refusing = Set(corpus.cases.filter { $0.expected == nil && ["multi_turn_system", "tool_call_round_trip"].contains($0.set) }.map(\.template))
        #expect(!failing.isEmpty && Set(failing).isSubset(of: refusing), "\(failing)")
    }

    @Test func mangledTemplatesAndMessagesReturnWithoutTrapping() throws {
        let corpus = try ChatTemplateCorpus.load()
        let fragments = ["{%", "{{", "}}", "%}", "{#", "(", ")", "[", "'", "|", "-", " is not ", "{% endfor %}", "{% macro m(a=", "\0[{\"role\":1}]"]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(max(bound, 1)))
        }
        var rendered = 0
        for source in corpus.templateSources.values.sorted() {
            let scalars = Array(source.unicodeScalars)
            for round in 0..<6 {
                var mangled = scalars
                let cut = next(mangled.count)
                switch round % 3 {
                case 0: mangled = Array(mangled[..<cut])
                case 1: mangled.insert(contentsOf: fragments[next(fragments.count)].unicodeScalars, at: cut)
                default: mangled.removeSubrange(cut..<min(mangled.count, cut + 1 + next(40)))
                }
                if Self.fuzz(String(String.UnicodeScalarView(mangled))) { rendered += 1 }
            }
        }
        #expect(Self.fuzz("{{ messages | length }}\0[{\"role\": \"user\", \"content\": \"x\"}]"))
        #expect(!Self.fuzz("{{ messages }}\0[{\"role\": "))
        #expect(rendered > 0)
    }
}
