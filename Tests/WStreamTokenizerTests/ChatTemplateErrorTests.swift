import Testing
import WStreamTokenizer

/// Errors say what went wrong and where (line and column), and a construct wstream does not render
/// fails naming it, never with a different prompt.
@Suite struct ChatTemplateErrorTests {
    private let messages = [ChatMessage(role: "user", content: "Hi")]

    private func failure(_ source: String) -> TokenizerError? {
        do {
            _ = try ChatTemplate(source).render(messages)
            return nil
        } catch {
            return error as? TokenizerError
        }
    }

    private func expect(_ source: String, _ kind: ChatTemplateFailure, line: Int, column: Int, mentioning text: String) {
        guard case let .chatTemplate(failure, message, position)? = failure(source) else {
            Issue.record("\(source.debugDescription) did not fail with a chat template error: \(String(describing: self.failure(source)))")
            return
        }
        #expect(failure == kind, "\(source.debugDescription): \(message)")
        #expect(position == TemplatePosition(line: line, column: column), "\(source.debugDescription): \(message)")
        #expect(message.contains(text), "\(source.debugDescription): \(message)")
    }

    @Test func syntaxErrorsNameTheirLineAndColumn() {
        expect("Hello\n  {% if messages %}\n{{ 1 + }}{% endif %}", .syntax, line: 3, column: 8, mentioning: "expected an expression")
        expect("{% for m in messages %}\n{{ m.role }}", .syntax, line: 2, column: 13, mentioning: "'for' opened at line 1, column 4 is never closed")
        expect("x\n {% frobnicate %}", .syntax, line: 2, column: 5, mentioning: "unknown tag 'frobnicate'")
        expect("{{ (1 }}", .syntax, line: 1, column: 7, mentioning: "unexpected '}', expected ')'")
        expect("{# no end", .syntax, line: 1, column: 1, mentioning: "comment")
        expect("{% macro m(a=1, b) %}{% endmacro %}", .syntax, line: 1, column: 17, mentioning: "non-default argument")
        expect("{% break %}", .syntax, line: 1, column: 4, mentioning: "inside a for loop")
    }

    @Test func aMissingFilterFailsAtLoadUnlessOnlyAConditionReachesIt() throws {
        expect("{{ messages | nonexistent }}", .syntax, line: 1, column: 15, mentioning: "no filter named 'nonexistent'")
        #expect(try ChatTemplate("{% if false %}{{ messages | nonexistent }}{% endif %}fine").render(messages) == "fine")
        expect("{% if true %}{{ messages | nonexistent }}{% endif %}", .render, line: 1, column: 28, mentioning: "No filter named 'nonexistent'")
    }

    @Test func renderErrorsNameTheExpressionThatFailed() {
        expect("{% for m in messages %}\n  {{ m.content + 1 }}\n{% endfor %}", .render, line: 2, column: 6, mentioning: #"can only concatenate str (not "int") to str"#)
        expect("{{ messages[0].content.nope.deeper }}", .render, line: 1, column: 28, mentioning: "'str object' has no attribute 'nope'")
        expect("\n\n{{ undefined_name.attribute }}", .render, line: 3, column: 18, mentioning: "'undefined_name' is undefined")
        expect("{% for x in none %}{% endfor %}", .render, line: 1, column: 13, mentioning: "'NoneType' object is not iterable")
        expect("{{ messages | tojson(indnt=4) }}", .render, line: 1, column: 15, mentioning: "unexpected keyword argument 'indnt'")
    }

    @Test func raiseExceptionCarriesTheTemplatesMessageAndPlace() {
        expect("{% if messages|length > 0 %}\n    {{- raise_exception('Only one turn, please') }}\n{% endif %}", .raised, line: 2, column: 9,
            mentioning: "Only one turn, please")
        #expect(failure("{{ raise_exception('No') }}")?.description == "the chat template rejected the conversation at line 1, column 4: No")
    }

    @Test func unsupportedConstructsFailNamingThemselves() {
        expect("text\n{% include 'other.jinja' %}", .unsupported, line: 2, column: 4, mentioning: "'include' tag")
        expect("{{ messages[0].content | wordwrap(20) }}", .unsupported, line: 1, column: 26, mentioning: "'wordwrap' filter")
        expect("{{ messages | map(attribute='role') }}", .unsupported, line: 1, column: 15, mentioning: "printing a generator")
        expect("{{ '{:>{w}}'.format('a', w=5) }}", .unsupported, line: 1, column: 13, mentioning: "nested replacement fields")
        expect("{{ 2 ** 64 }}", .unsupported, line: 1, column: 4, mentioning: "beyond 64 bits")
        expect("{% block body %}x{% endblock %}", .unsupported, line: 1, column: 4, mentioning: "'block' tag")
    }

    @Test func anUnsupportedTagOnlyFailsWhenReached() throws {
        #expect(try ChatTemplate("{% if false %}{% include 'x' %}{% endif %}ok").render(messages) == "ok")
    }
}
