/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A model's Jinja chat template, rendered by a small interpreter for the subset chat templates use.
///
/// Supported: text with `{{ … }}`, `{% … %}`, `{# … #}` and whitespace control (`-`, `+`, with Hugging Face's
/// `trim_blocks` and `lstrip_blocks`); `for … in … [if …]` with `else`, `loop.index/index0/first/last/length/…`,
/// tuple unpacking, `break`/`continue`; `if`/`elif`/`else`; `set x = …` and `set ns.x = …` with `namespace(…)`;
/// literals (strings, numbers, booleans, `none`, lists, dictionaries); `.attr`, `[key]`, `[a:b]`;
/// `+ - * / // % ~`, comparisons, `in`/`not in`, `and`/`or`/`not`, `x if c else y`;
/// filters `trim length count upper lower title capitalize replace default tojson string int list first last
/// reverse join items`; tests `defined undefined none string number integer float boolean true false mapping
/// sequence iterable even odd`; methods `strip lstrip rstrip upper lower title capitalize startswith endswith
/// replace split items keys values get`; functions `raise_exception`, `namespace`, `range`.
/// Not supported: macros, `call` blocks, `include`/`extends`, tuple literals.
public struct ChatTemplate: Sendable {
    public let source: String
    private let nodes: [JinjaNode]

    /// Parses `source`.
    /// - Throws: `TokenizerError.chatTemplateSyntax` for syntax outside the supported subset.
    public init(_ source: String) throws {
        self.source = source
        nodes = try JinjaParser.parse(source)
    }

    /// The prompt text for `messages`.
    /// - Parameters:
    ///   - messages: the conversation so far (`role` is usually `system`, `user` or `assistant`).
    ///   - addGenerationPrompt: end with the header that opens the assistant's turn.
    ///   - bosToken: the text of BOS, for templates that write `{{ bos_token }}`.
    ///   - eosToken: the text of EOS.
    ///   - variables: further string variables the template reads.
    /// - Throws: `TokenizerError.chatTemplateRaised` when the template rejects the conversation,
    ///   `.chatTemplateEvaluation` when it uses something unsupported.
    public func render(
        _ messages: [ChatMessage], addGenerationPrompt: Bool = true, bosToken: String = "", eosToken: String = "",
        variables: [String: String] = [:]
    ) throws -> String {
        var values: [String: JinjaValue] = variables.mapValues { .string($0) }
        values["messages"] = .list(messages.map { .dictionary([("role", .string($0.role)), ("content", .string($0.content))]) })
        values["add_generation_prompt"] = .boolean(addGenerationPrompt)
        values["bos_token"] = .string(bosToken)
        values["eos_token"] = .string(eosToken)
        var interpreter = JinjaInterpreter(variables: values)
        try interpreter.render(nodes)
        return interpreter.output
    }

    /// The prompt text for `messages`, with BOS and EOS spelled as `tokenizer`'s vocabulary spells them.
    /// - Throws: as `render(_:addGenerationPrompt:bosToken:eosToken:variables:)`.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true, tokenizer: Tokenizer) throws -> String {
        let tokens = tokenizer.spec.tokens
        return try render(
            messages, addGenerationPrompt: addGenerationPrompt,
            bosToken: tokenizer.spec.bosTokenId.map { tokens[$0] } ?? "",
            eosToken: tokenizer.spec.eosTokenId.map { tokens[$0] } ?? "")
    }
}
