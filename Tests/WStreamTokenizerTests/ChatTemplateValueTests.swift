import Testing
import WStreamTokenizer

/// JSON values for chat templates keep what `tojson` and `items()` depend on (key order, integers
/// versus floats) and reject malformed input with the line and column of the problem.
@Suite struct ChatTemplateValueTests {
    @Test func objectsKeepKeyOrderAndARepeatedKeyKeepsItsFirstPlace() throws {
        let value = try TemplateValue(json: #"{"zeta": 1, "alpha": {"y": [], "b": null}, "zeta": 3}"#)
        #expect(value == .object([.init("zeta", 3), .init("alpha", .object([.init("y", []), .init("b", nil)]))]))
        #expect(value.jsonText == #"{"zeta":3,"alpha":{"y":[],"b":null}}"#)
        #expect(try ChatTemplate("{{ v | tojson }} {{ v.alpha.keys() | list }}").render([], variables: ["v": value])
            == #"{"zeta": 3, "alpha": {"y": [], "b": null}} ['y', 'b']"#)
    }

    @Test func numbersStayIntegersOrFloatsAsWritten() throws {
        let value = try TemplateValue(json: "[1, 1.0, -0.5e2, 12345678901234567]")
        #expect(value == [1, 1.0, -50.0, 12_345_678_901_234_567])
        #expect(try ChatTemplate("{{ v }}").render([], variables: ["v": value]) == "[1, 1.0, -50.0, 12345678901234567]")
    }

    @Test func stringEscapesDecodeIncludingSurrogatePairs() throws {
        #expect(try TemplateValue(json: #""a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00""#) == .string("a\"\\/\u{8}\u{C}\n\r\té😀"))
    }

    @Test func malformedJSONNamesLineColumnAndProblem() {
        #expect(throws: TokenizerError.invalidJSON(message: "unexpected \",]\", expected a value", line: 2, column: 4)) {
            try TemplateValue(json: "[1,\n 2,,]")
        }
        #expect(throws: TokenizerError.invalidJSON(message: "the integer 123456789012345678901 does not fit in 64 bits", line: 1, column: 1)) {
            try TemplateValue(json: "123456789012345678901")
        }
        #expect(throws: TokenizerError.self) { try TemplateValue(json: #""\ud800""#) }
        #expect(throws: TokenizerError.self) { try TemplateValue(json: "1E400") }
        #expect(throws: TokenizerError.self) { try TemplateValue(json: "[1] 2") }
        #expect(throws: TokenizerError.self) { try TemplateValue(json: "{\"a\": 1") }
        #expect(throws: TokenizerError.self) { try TemplateValue(json: "[01]") }
        #expect(throws: TokenizerError.invalidJSON(message: "arrays and objects nest deeper than 64 levels", line: 1, column: 65)) {
            try TemplateValue(json: String(repeating: "[", count: 100) + String(repeating: "]", count: 100))
        }
    }

    @Test func messagesComeFromAJSONArrayOfObjects() throws {
        let messages = try ChatMessage.messages(from: TemplateValue(json: #"[{"role": "user", "content": [{"type": "text", "text": "x"}], "name": "n"}]"#))
        #expect(messages.count == 1)
        #expect(messages[0].role == "user")
        #expect(messages[0].content == [["type": "text", "text": "x"]])
        #expect(messages[0].fields.map(\.key) == ["role", "content", "name"])
        #expect(throws: TokenizerError.invalidChatMessage(index: 1, reason: "a message must be a JSON object, not a string")) {
            try ChatMessage.messages(from: TemplateValue(json: #"[{"role": "user"}, "hello"]"#))
        }
    }

    @Test func settingAMessageFieldKeepsOrAppendsItsPlace() {
        var message = ChatMessage(role: "assistant", content: "x")
        message["tool_calls"] = []
        message["role"] = "tool"
        message["content"] = nil
        #expect(message.fields == [.init("role", "tool"), .init("tool_calls", [])])
    }
}
