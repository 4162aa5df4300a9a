#if canImport(Glibc)
import Glibc
#endif
import TestSupport
import WStreamTokenizer

/// `../shared/chat-templates`: 55 published chat templates and, in `cases.json`, what Hugging Face
/// transformers renders for each of six message sets (or that it raised).
struct ChatTemplateCorpus: Sendable {
    struct MessageSet: Sendable {
        let name: String
        let messages: [ChatMessage]
        let tools: [TemplateValue]?
    }

    struct Case: Sendable {
        let template: String
        let set: String
        /// The reference prompt; nil when transformers raised (`error`).
        let expected: String?
        let error: String?
    }

    /// In the order of `cases.json`.
    let messageSets: [MessageSet]
    let cases: [Case]
    let templateSources: [String: String]

    /// `../shared/chat-templates`, beside the shared models.
    static var directory: String { SharedModels.directory + "/../chat-templates" }

    /// The date transformers' `strftime_now` was fixed to for the references.
    static let referenceClock = TemplateClock.fixed(year: 2026, month: 11, day: 27, hour: 12)

    /// Loaded once; a missing or unreadable corpus fails the tests that use it with the path.
    static let shared: Result<ChatTemplateCorpus, any Error> = Result { try ChatTemplateCorpus() }

    static func load() throws -> ChatTemplateCorpus { try shared.get() }

    private init() throws {
        let path = Self.directory + "/cases.json"
        let root = try TemplateValue(json: String(decoding: try FileContents.read(path), as: UTF8.self))
        guard case .object(let sets)? = root["message_sets"], let templates = root["templates"]?.arrayValue else {
            throw CorpusError(description: "\(path) has no message_sets or templates")
        }
        messageSets = try sets.map { member in
            MessageSet(
                name: member.key, messages: try ChatMessage.messages(from: member.value["messages"] ?? .null),
                tools: member.value["tools"]?.arrayValue)
        }
        var cases: [Case] = []
        var sources: [String: String] = [:]
        for template in templates {
            let name = template["template"]?.stringValue ?? ""
            sources[name] = String(decoding: try FileContents.read(Self.directory + "/" + name), as: UTF8.self)
            for entry in template["cases"]?.arrayValue ?? [] {
                cases.append(Case(
                    template: name, set: entry["set"]?.stringValue ?? "", expected: entry["expected"]?.stringValue,
                    error: entry["error"]?.stringValue))
            }
        }
        self.cases = cases
        templateSources = sources
    }

    struct CorpusError: Error, CustomStringConvertible {
        let description: String
    }

    /// Renders one case as the references were rendered: `add_generation_prompt=True`, BOS `<s>`, EOS `</s>`.
    func render(_ entry: Case) throws -> String {
        let template = try ChatTemplate(templateSources[entry.template] ?? "", clock: Self.referenceClock)
        let set = messageSets.first { $0.name == entry.set }!
        return try template.render(set.messages, tools: set.tools, addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>")
    }
}
