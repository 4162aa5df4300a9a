extension ChatTemplate {
    /// Limits for fuzzing: tight enough that every input finishes in milliseconds.
    public static let fuzzingLimits: TemplateLimits = {
        var limits = TemplateLimits()
        limits.maxTemplateBytes = 64 << 10
        limits.maxSteps = 200_000
        limits.maxOutputBytes = 1 << 20
        limits.maxCollectionCount = 100_000
        return limits
    }()

    /// One fuzzing input through parsing and rendering, for a libFuzzer target
    /// (`LLVMFuzzerTestOneInput` calls it with the input bytes).
    ///
    /// The bytes are template text (invalid UTF-8 replaced), optionally followed by a NUL byte and a JSON
    /// array of messages; without one the template renders a fixed conversation with a system prompt,
    /// a tool call, a tool result and a tool list. Every failure, whatever the input,
    /// is a thrown error that this function absorbs: it never traps.
    /// - Returns: whether the input parsed and rendered.
    @discardableResult
    public static func fuzz(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let separator = bytes.firstIndex(of: 0)
        let source = String(decoding: bytes[..<(separator ?? bytes.count)], as: UTF8.self)
        do {
            var messages = fuzzingConversation
            if let separator {
                let json = String(decoding: bytes[(separator + 1)...], as: UTF8.self)
                messages = try ChatMessage.messages(from: try TemplateValue(json: json, maxDepth: fuzzingLimits.maxNesting))
            }
            let template = try ChatTemplate(source, limits: fuzzingLimits, clock: .fixed(year: 2026, month: 11, day: 27))
            _ = try template.render(
                messages, tools: [fuzzingTool], bosToken: "<s>", eosToken: "</s>", variables: ["enable_thinking": false])
            return true
        } catch {
            return false
        }
    }

    private static let fuzzingTool: TemplateValue = [
        "type": "function",
        "function": [
            "name": "get_weather", "description": "Weather in a city",
            "parameters": [
                "type": "object", "properties": ["city": ["type": "string", "description": "City name"]], "required": ["city"],
            ],
        ],
    ]

    private static let fuzzingConversation: [ChatMessage] = [
        ChatMessage(role: "system", content: "Be brief."),
        ChatMessage(role: "user", content: "Weather in Paris?"),
        ChatMessage(role: "assistant", content: "", fields: [
            .init("tool_calls", [["type": "function", "id": "call_1", "function": ["name": "get_weather", "arguments": ["city": "Paris"]]]]),
        ]),
        ChatMessage(role: "tool", content: "{\"temperature_c\": 18}", fields: [.init("tool_call_id", "call_1"), .init("name", "get_weather")]),
    ]
}
