/// A model's Jinja chat template, rendered exactly as Hugging Face transformers renders it
/// (`apply_chat_template`: jinja2's sandbox with `trim_blocks`, `lstrip_blocks`, loop controls, and
/// transformers' `tojson`, `raise_exception` and `strftime_now`).
///
/// The engine implements the Jinja language: macros (with defaults, `varargs`, `kwargs`, `caller`),
/// `set` and block `set`, `for` with `else`/`if`/`recursive`/`loop.*`/`break`/`continue`, `if`, `with`,
/// `filter` blocks, namespaces, tuples, slices with steps, Jinja's filters and tests with their Python
/// signatures, Python's string, list and dictionary methods, and Python's values, operators and errors.
/// What it does not render (`include`, `extends`, a few rare filters) fails with an error naming the
/// construct and its line and column, never with a different prompt. Rendering is sandboxed: the template
/// has no access to files or processes, and `TemplateLimits` bounds its time, memory and recursion.
public struct ChatTemplate: Sendable {
    /// The Jinja text.
    public let source: String
    /// What rendering may use (steps, output, recursion, …).
    public let limits: TemplateLimits
    /// Where `strftime_now()` reads the date.
    public let clock: TemplateClock
    private let nodes: [JinjaNode]

    /// Parses `source`.
    /// - Throws: `TokenizerError.chatTemplate` (`.syntax` with line and column, or `.limit` for a template
    ///   larger or deeper than `limits` allow).
    public init(_ source: String, limits: TemplateLimits = TemplateLimits(), clock: TemplateClock = .system) throws {
        self.source = source
        self.limits = limits
        self.clock = clock
        nodes = try JinjaParser.parse(source, limits: limits)
    }

    /// The prompt for a conversation, as `tokenizer.apply_chat_template(messages, tools=tools,
    /// add_generation_prompt=…, **variables)` renders it.
    /// - Parameters:
    ///   - messages: the conversation so far.
    ///   - tools: function schemas in OpenAI's format (`{"type": "function", "function": {…}}`); nil passes `None`.
    ///   - addGenerationPrompt: end with the header that opens the assistant's turn.
    ///   - bosToken: the text of BOS, for templates that write `{{ bos_token }}`.
    ///   - eosToken: the text of EOS.
    ///   - variables: further variables the template reads (`enable_thinking`, `documents`, …); they
    ///     override `bos_token` and `eos_token` when they name them. `documents` is `None` unless given.
    /// - Returns: the rendered text, exactly.
    /// - Throws: `TokenizerError.chatTemplate`: `.raised` when the template refuses the conversation
    ///   (`raise_exception`), `.render` for an error Jinja would raise too, `.unsupported` for a construct
    ///   wstream does not render, `.limit` when a sandbox limit is reached; each with its line and column.
    public func render(
        _ messages: [ChatMessage], tools: [TemplateValue]? = nil, addGenerationPrompt: Bool = true,
        bosToken: String = "", eosToken: String = "", variables: [String: TemplateValue] = [:]
    ) throws -> String {
        let interpreter = JinjaInterpreter(limits: limits, clock: clock)
        var values: [String: JinjaValue] = ["bos_token": .string(bosToken), "eos_token": .string(eosToken), "documents": .none]
        for (name, value) in variables { values[name] = try convert(value, depth: 0) }
        values["messages"] = try interpreter.list(try messages.map { try convert(Self.aliasingReasoning($0).value, depth: 1) })
        values["tools"] = try tools.map { try interpreter.list(try $0.map { try convert($0, depth: 1) }) } ?? JinjaValue.none
        values["add_generation_prompt"] = .boolean(addGenerationPrompt)
        interpreter.root.variables = values
        return try interpreter.render(nodes)
    }

    /// As `render(_:tools:addGenerationPrompt:bosToken:eosToken:variables:)`, with BOS and EOS spelled as
    /// `tokenizer`'s vocabulary spells them.
    public func render(
        _ messages: [ChatMessage], tools: [TemplateValue]? = nil, addGenerationPrompt: Bool = true,
        variables: [String: TemplateValue] = [:], tokenizer: Tokenizer
    ) throws -> String {
        let tokens = tokenizer.spec.tokens
        return try render(
            messages, tools: tools, addGenerationPrompt: addGenerationPrompt,
            bosToken: tokenizer.spec.bosTokenId.map { tokens[$0] } ?? "",
            eosToken: tokenizer.spec.eosTokenId.map { tokens[$0] } ?? "", variables: variables)
    }

    /// transformers copies a message's reasoning to `thinking` (first) and `reasoning_content` (last) before
    /// rendering, so that templates reading either name see it.
    static func aliasingReasoning(_ message: ChatMessage) -> ChatMessage {
        let names = ["reasoning_content", "thinking", "reasoning"]
        guard let reasoning = names.lazy.compactMap({ message[$0] }).first(where: { $0 != .null }) else { return message }
        var fields = [TemplateValue.Member("thinking", reasoning)]
        for member in message.fields {
            if member.key == "thinking" { fields[0].value = member.value } else { fields.append(member) }
        }
        var aliased = (try? ChatMessage(.object(fields))) ?? message
        aliased["reasoning_content"] = reasoning
        return aliased
    }

    private func convert(_ value: TemplateValue, depth: Int) throws -> JinjaValue {
        guard depth <= limits.maxNesting else {
            throw JinjaFailure.limit("a variable nests deeper than \(limits.maxNesting) levels")
        }
        switch value {
        case .null: return .none
        case .bool(let flag): return .boolean(flag)
        case .int(let number): return .integer(number)
        case .double(let number): return .float(number)
        case .string(let text): return .string(text)
        case .array(let elements):
            return .list(try JinjaSequence(try elements.map { try convert($0, depth: depth + 1) }, maxNesting: limits.maxNesting))
        case .object(let members):
            var dictionary = JinjaDictionary()
            for member in members {
                try dictionary.set(.string(member.key), try convert(member.value, depth: depth + 1), maxNesting: limits.maxNesting)
            }
            return .dictionary(dictionary)
        }
    }
}
