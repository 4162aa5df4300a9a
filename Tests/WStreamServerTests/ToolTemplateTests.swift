import FoundationEssentials
import Testing
import TestSupport

/// `tools`, `tool_choice`, tool-call turns and `chat_template_kwargs` reach the model's chat template (Qwen3's here),
/// which the prompt's length shows: the template writes the tools' schemas and a `<think>` block into the prompt.
@Suite struct ToolTemplateTests {
    static let tools = #"[{"type":"function","function":{"name":"get_weather","description":"Weather of a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]"#
    static let question = #"{"role":"user","content":"Weather in Paris?"}"#

    /// `usage.prompt_tokens` of a one-token chat completion with `extra` members in the body.
    static func promptTokens(_ server: ServerProcess, messages: String = "[\(question)]", _ extra: String = "") throws -> Int {
        let response = try server.post("/v1/chat/completions", #"{"model":"qwen3","messages":\#(messages),"max_tokens":1\#(extra)}"#)
        #expect(response.status == 200, "\(response)")
        return try JSONDecoder().decode(ChatReply.self, from: Data(response.body)).usage.promptTokens
    }

    @Test func toolsToolChoiceAndTemplateVariablesReachTheTemplate() throws {
        let server = try ServerProcess(["--model", "qwen3=\(try ServedModels.qwen3WithTemplate())", "--budget", "256M",
                                        "--context", "512", "--threads", "1"])
        let plain = try Self.promptTokens(server)
        let withTools = try Self.promptTokens(server, #","tools":\#(Self.tools)"#)
        #expect(withTools > plain + 20, "the tool schema is rendered into the prompt: \(withTools) against \(plain)")
        #expect(try Self.promptTokens(server, #","tools":\#(Self.tools),"tool_choice":"none""#) == plain,
                "tool_choice none offers no tools")
        let noThinking = try Self.promptTokens(server, #","chat_template_kwargs":{"enable_thinking":false}"#)
        #expect(noThinking > plain, "enable_thinking false adds an empty <think> block")

        let roundTrip = "[\(Self.question),"
            + #"{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\"}"}}]},"#
            + #"{"role":"tool","tool_call_id":"c1","content":"18 degrees and sunny"}]"#
        #expect(try Self.promptTokens(server, messages: roundTrip, #","tools":\#(Self.tools)"#) > withTools)
    }
}
