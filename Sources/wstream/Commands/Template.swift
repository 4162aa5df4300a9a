#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import WStream
import WStreamFormat

struct Template: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the prompt a chat template renders for a conversation, exactly (no newline added).",
        discussion: """
            The template comes from a .wst model (with its BOS and EOS text, or ChatML when it has none, as \
            `run --chat` and the Engine use) or from a Jinja file. It is rendered as Hugging Face transformers' \
            apply_chat_template renders it. The messages file holds a JSON array of messages (or an object with \
            "messages" and optionally "tools", such as an OpenAI request body). A template that refuses the \
            conversation or fails exits 1 with the template's message, line and column.

              wstream template model.wst --messages chat.json
              wstream template chat_template.jinja --messages chat.json --tools tools.json --bos "<s>" --eos "</s>"
              wstream template model.wst --messages chat.json --var enable_thinking=false --now 2026-11-27
            """)

    @Argument(help: "A .wst model, or a Jinja template file.")
    var source: String

    @Option(help: "JSON file with the messages (an array, or an object with \"messages\" and \"tools\").")
    var messages: [String] = []

    @Option(help: "JSON file with the tools (an array of OpenAI function schemas).")
    var tools: String?

    @Flag(help: "Do not end with the assistant's turn header (add_generation_prompt=False).")
    var noGenerationPrompt = false

    @Option(help: "The BOS text (default: the model's BOS token, or empty for a template file).")
    var bos: String?

    @Option(help: "The EOS text (default: the model's EOS token, or empty for a template file).")
    var eos: String?

    @Option(name: .customLong("var"), help: "A template variable as name=JSON, e.g. enable_thinking=false or name='\"text\"' (repeatable).")
    var variables: [String] = []

    @Option(help: "The date strftime_now() sees, YYYY-MM-DD[THH:MM[:SS]] (default: the clock).")
    var now: String?

    /// For the tests: several --messages files, each rendered and printed as one JSON line ({"prompt": …} or {"error": …}).
    @Flag(help: .hidden)
    var jsonLines = false

    func validate() throws {
        if messages.isEmpty { throw ValidationError("give the conversation with --messages FILE.json") }
        if messages.count > 1 && !jsonLines { throw ValidationError("--messages may be given once") }
        if let now, TemplateClock(parsing: now) == nil { throw ValidationError("--now \(now): expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]") }
    }

    func run() throws {
        let (text, defaultBOS, defaultEOS) = try templateSource()
        let template = try failing(source) { try ChatTemplate(text, clock: now.flatMap(TemplateClock.init(parsing:)) ?? .system) }
        let variableValues = try parsedVariables()
        let toolsValue = try tools.map { path in
            guard let array = try parsedJSON(path).arrayValue else { throw Self.failure("\(path): tools must be a JSON array") }
            return array
        }
        for path in messages {
            let (conversation, requestTools) = try parsedConversation(path)
            do {
                let prompt = try template.render(
                    conversation, tools: toolsValue ?? requestTools, addGenerationPrompt: !noGenerationPrompt,
                    bosToken: bos ?? defaultBOS, eosToken: eos ?? defaultEOS, variables: variableValues)
                Terminal.write(jsonLines ? TemplateValue.object([.init("prompt", .string(prompt))]).jsonText + "\n" : prompt)
            } catch let error as TokenizerError {
                guard jsonLines else { throw Self.failure("\(source): \(error)") }
                Terminal.write(TemplateValue.object([.init("error", .string(error.description))]).jsonText + "\n")
            }
        }
    }

    /// Prints `error: message` and gives the exit status 1 to throw.
    private static func failure(_ message: String) -> ExitCode {
        Terminal.error("error: \(message)")
        return ExitCode.failure
    }

    /// `body`, with a `TokenizerError` reported as a failure naming `path`.
    private func failing<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as TokenizerError {
            throw Self.failure("\(path): \(error)")
        }
    }

    /// The template text and the default BOS and EOS text.
    private func templateSource() throws -> (String, String, String) {
        guard Self.isContainer(source) else { return (try TextFile.read(source), "", "") }
        let reader = try ContainerReader(path: source)
        let spec = reader.metadata.tokenizer
        let tokens = spec.tokens
        let template = spec.chatTemplate ?? {
            Terminal.error("\(source) has no chat template; rendering ChatML, as run --chat does")
            return Engine.chatML
        }()
        return (template, spec.bosTokenId.map { tokens[$0] } ?? "", spec.eosTokenId.map { tokens[$0] } ?? "")
    }

    /// A .wst file starts with the magic `WSTREAM\0`.
    private static func isContainer(_ path: String) -> Bool {
        guard let file = fopen(path, "rb") else { return false }
        defer { fclose(file) }
        var magic = [UInt8](repeating: 0, count: 8)
        return fread(&magic, 1, 8, file) == 8 && magic == Array("WSTREAM\0".utf8)
    }

    private func parsedJSON(_ path: String) throws -> TemplateValue {
        let text = try TextFile.read(path)
        return try failing(path) { try TemplateValue(json: text) }
    }

    /// The messages and, for an object with "tools", those tools.
    private func parsedConversation(_ path: String) throws -> ([ChatMessage], [TemplateValue]?) {
        let value = try parsedJSON(path)
        let list = value["messages"] ?? value
        var requestTools: [TemplateValue]?
        if let toolsValue = value["tools"], toolsValue != .null {
            guard let array = toolsValue.arrayValue else { throw Self.failure("\(path): \"tools\" must be a JSON array") }
            requestTools = array
        }
        return (try failing(path) { try ChatMessage.messages(from: list) }, requestTools)
    }

    private func parsedVariables() throws -> [String: TemplateValue] {
        var result: [String: TemplateValue] = [:]
        for assignment in variables {
            guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                throw ValidationError("--var \(assignment): expected name=JSON")
            }
            let name = String(assignment[..<equals])
            do {
                result[name] = try TemplateValue(json: String(assignment[assignment.index(after: equals)...]))
            } catch {
                throw ValidationError("--var \(name): the value is not JSON (\(error)); quote text as name='\"text\"'")
            }
        }
        return result
    }
}
