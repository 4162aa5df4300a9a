#if canImport(Glibc)
import Glibc
#endif
import Testing
import WStreamFormat
import WStreamTokenizer

/// Jinja behaviour that real chat templates rely on, each compared with what jinja2 3.1.6 in
/// transformers' environment renders for the same source (the expected strings were produced by it).
@Suite struct ChatTemplateTests {
    private let conversation = [
        ChatMessage(role: "system", content: "You are helpful."),
        ChatMessage(role: "user", content: "Hi there "),
        ChatMessage(role: "assistant", content: "Hello!"),
        ChatMessage(role: "user", content: "Tell me a story."),
    ]

    private func render(_ source: String, _ messages: [ChatMessage]? = nil, tools: [TemplateValue]? = nil, variables: [String: TemplateValue] = [:]) throws -> String {
        try ChatTemplate(source).render(messages ?? conversation, tools: tools, bosToken: "<s>", eosToken: "</s>", variables: variables)
    }

    @Test func chatMLTemplateRendersTurnsAndTheGenerationPrompt() throws {
        let template = try ChatTemplate(
            #"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"#)
        let turns = "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi there <|im_end|>\n"
            + "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nTell me a story.<|im_end|>\n"
        #expect(try template.render(conversation, addGenerationPrompt: false) == turns)
        #expect(try template.render(conversation) == turns + "<|im_start|>assistant\n")
    }

    @Test func trimBlocksLstripBlocksAndWhitespaceControlMatchJinja() throws {
        #expect(try render("a\n  {% if true %}\n  b\n  {% endif %}\nc\n") == "a\n  b\nc")
        #expect(try render("a  {%- if true -%}  b  {%- endif -%}  c") == "abc")
        #expect(try render("a\n  {%+ if true %}\n  b\n  {%+ endif %}\nc") == "a\n    b\n  c")
        #expect(try render("a\n  {{ 'x' }}\n  {# c #}\n  d") == "a\n  x\n  d")
        #expect(try render("{% if true %}\r\n  x\r\n{% endif %}\r\n") == "  x\n")
        #expect(try render("a\n  {% raw %}  {{x}}\n  {% endraw %}\nb") == "a\n  {{x}}\nb")
    }

    @Test func macrosTakeDefaultsKeywordsVarargsAndCaller() throws {
        #expect(try render("{% macro m(a, b=a*2) %}{{ a }}{{ b }}{% endmacro %}{{ m(3) }}|{{ m(1, b=5) }}") == "36|15")
        #expect(try render("{% macro m(a) %}{{ a }}-{{ varargs }}-{{ kwargs }}{% endmacro %}{{ m(1, 2, c=3) }}") == "1-(2,)-{'c': 3}")
        #expect(try render("{% macro m(x) %}[{{ caller(x * 2) }}]{% endmacro %}{% call(v) m(3) %}got {{ v }}{% endcall %}") == "[got 6]")
        #expect(try render("{% macro r(n) %}{{ n }}{% if n > 0 %}{{ r(n - 1) }}{% endif %}{% endmacro %}{{ r(3) }}") == "3210")
    }

    @Test func scopesFollowJinjaLoopsMacrosAndNamespaces() throws {
        #expect(try render("{% set x = 1 %}{% for i in [1,2] %}{{ x }}{% set x = x + 10 %}{{ x }};{% endfor %}{{ x }}") == "111;111;1")
        #expect(try render("{% for i in [1,2] %}{% if i == 1 %}{% set y = 5 %}{% endif %}[{{ y }}]{% endfor %}") == "[5][]")
        #expect(try render("{% set x = 1 %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 2 %}{{ m() }}") == "2")
        #expect(try render("{% macro m() %}{{ i }}{% endmacro %}{% for i in [1] %}{{ m() }}{% endfor %}") == "")
        let found = "{%- set ns = namespace(found=false, count=0) -%}{%- for m in messages -%}{%- if m.role == 'system' -%}"
            + "{%- set ns.found = true -%}{%- endif -%}{%- set ns.count = ns.count + 1 -%}{%- endfor -%}{{ ns.found }} {{ ns.count }}"
        #expect(try render(found) == "True 4")
    }

    @Test func blockSetSlicesWithStepsAndTuples() throws {
        #expect(try render("{% set t %}block {{ 1 + 1 }}{% endset %}[{{ t }}]{% set u | upper %}x{% endset %}{{ u }}") == "[block 2]X")
        #expect(try render("{{ (messages[::-1] | map(attribute='role') | list)[:2] }}") == "['user', 'assistant']")
        #expect(try render("{{ 'abcdef'[1::2] }}{{ range(10)[8:2:-3] }}") == "bdfrange(8, 2, -3)")
        #expect(try render("{% set a, b = 1, 2 %}{{ (a, b) }}{{ (a,) }}{% for k, v in [('x', 1)] %}{{ k }}{{ v }}{% endfor %}") == "(1, 2)(1,)x1")
    }

    @Test func loopVariablesAndLoopControls() throws {
        let source = "{% for m in messages if m.role != 'system' %}{% if loop.index == 2 %}{% continue %}{% endif %}"
            + "{{ loop.index }}/{{ loop.length }}{{ loop.first }}{{ loop.last }}{{ loop.previtem is defined }}{{ loop.cycle('a', 'b') }};{% endfor %}"
        #expect(try render(source) == "1/3TrueFalseFalsea;3/3FalseTrueTruea;")
        #expect(try render("{% for i in range(5) %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% else %}empty{% endfor %}") == "012")
        #expect(try render("{% for i in [] %}x{% else %}empty{% endfor %}") == "empty")
    }

    @Test func filtersBindPositionalAndKeywordArgumentsLikePython() throws {
        #expect(try render("{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join('|') }}") == "Hi there |Tell me a story.")
        #expect(try render("{{ {'b': 1, 'A': 2, 'a': 3} | dictsort }}{{ [3, 1, 2] | sort(reverse=true) }}") == "[('A', 2), ('a', 3), ('b', 1)][3, 2, 1]")
        #expect(try render("{{ ['a', 'A', 'b'] | unique | list }}{{ [1, 2, 3, 4] | reject('odd') | list }}{{ [3, 1] | min }}") == "['a', 'b'][2, 4]1")
        #expect(try render("{{ 'a\nb\n\nc' | indent(2, first=true) }}") == "  a\n  b\n\n  c")
        #expect(try render("{{ x | default('d') }}{{ '' | default('e', true) }}{{ '4.7' | int }}{{ 'x' | int(7) }}") == "de47")
    }

    @Test func anUnknownKeywordArgumentIsAnErrorNotDropped() throws {
        #expect(throws: TokenizerError.self) { try render("{{ messages | tojson(indnt=4) }}") }
        #expect(throws: TokenizerError.self) { try render("{{ messages | join(', ', attr='role') }}") }
        #expect(throws: TokenizerError.self) { try render("{{ 'a'.strip(chars='a') }}") }
    }

    @Test func tojsonIsPythonsJsonDumpsWithoutHTMLEscaping() throws {
        let tool: TemplateValue = ["name": "f", "parameters": ["type": "object", "required": ["city"], "empty": [:], "list": []]]
        #expect(try render("{{ tools[0] | tojson }}", tools: [tool])
            == #"{"name": "f", "parameters": {"type": "object", "required": ["city"], "empty": {}, "list": []}}"#)
        #expect(try render("{{ tools[0] | tojson(indent=4) }}", tools: [tool]) == """
            {
                "name": "f",
                "parameters": {
                    "type": "object",
                    "required": [
                        "city"
                    ],
                    "empty": {},
                    "list": []
                }
            }
            """)
        #expect(try render(#"{{ ['<&>\'', 'é😀', 1.0, 1e16, none, true] | tojson }}"#) == #"["<&>'", "é😀", 1.0, 1e+16, null, true]"#)
        #expect(try render("{{ ['é'] | tojson(ensure_ascii=true) }}{{ {'b': 1, 'a': 2} | tojson(sort_keys=true, separators=(',', ':')) }}")
            == #"["\u00e9"]{"a":2,"b":1}"#)
    }

    @Test func valuesPrintAsPythonPrintsThem() throws {
        #expect(try render("{{ [1, 'a', none, true, 1.5, {'k': \"it's\"}] }}") == #"[1, 'a', None, True, 1.5, {'k': "it's"}]"#)
        #expect(try render("{{ 1 / 2 }} {{ 4 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 0.1 + 0.2 }} {{ 1e-5 }}")
            == "0.5 2.0 3 -4 2 1024 0.30000000000000004 1e-05")
        #expect(try render("{{ 1 == 1.0 }}{{ true == 1 }}{{ [1] == (1,) }}{{ 'a' < 'b' }}{{ 'role' in messages[0] }}") == "TrueTrueFalseTrueTrue")
    }

    @Test func stringMethodsFollowPython() throws {
        #expect(try render("{{ ' a  b '.split() }}{{ 'a-b-c'.rsplit('-', 1) }}{{ 'xyx'.strip('x') }}{{ 'abc'.startswith(('x', 'ab')) }}")
            == "['a', 'b']['a-b', 'c']yTrue")
        #expect(try render("{{ '{}-{x}'.format(1, x='y') }}{{ '%s=%d' % ('n', 3) }}{{ 'aaa'.replace('a', 'b', 2) }}{{ 'hELLO wORLD'.title() }}")
            == "1-yn=3bbaHello World")
        #expect(try render("{{ messages[0].get('name', 'none given') }}{{ messages[0].items() | list }}")
            == "none given[('role', 'system'), ('content', 'You are helpful.')]")
    }

    @Test func undefinedPrintsNothingButUsingItFails() throws {
        #expect(try render("[{{ missing }}][{{ missing is defined }}][{{ messages[0].nope }}][{{ missing | length }}]") == "[][False][][0]")
        #expect(throws: TokenizerError.self) { try render("{{ missing.attribute }}") }
        #expect(throws: TokenizerError.self) { try render("{{ missing() }}") }
        #expect(throws: TokenizerError.self) { try render("{{ missing + 1 }}") }
    }

    @Test func listMutationIsRefusedAsTransformersSandboxRefusesIt() throws {
        #expect(try render("[{{ messages.append }}]") == "[]")
        #expect(throws: TokenizerError.chatTemplate(.render, message: "SecurityError: access to attribute 'append' of 'list' object is unsafe.",
            position: TemplatePosition(line: 1, column: 12))) {
            try render("{{ messages.append(1) }}")
        }
    }

    @Test func structuredContentToolCallsAndToolsReachTheTemplate() throws {
        let messages = [
            ChatMessage(role: "user", content: [["type": "text", "text": "A"], ["type": "text", "text": "B"]]),
            ChatMessage(role: "assistant", content: nil, fields: [
                .init("tool_calls", [["id": "c1", "function": ["name": "f", "arguments": ["x": 1]]]]),
            ]),
            ChatMessage(role: "tool", content: "42", fields: [.init("tool_call_id", "c1")]),
        ]
        let source = "{% for m in messages %}{% if m.content is string %}{{ m.content }}{% elif m.content %}"
            + "{{ m.content | map(attribute='text') | join }}{% endif %}{% for c in m.tool_calls | default([]) %}"
            + "{{ c.function.name }}{{ c.function.arguments | tojson }}{% endfor %}{{ m.tool_call_id }};{% endfor %}{{ tools | length }}"
        #expect(try render(source, messages, tools: [["type": "function"]]) == #"AB;f{"x": 1};42c1;1"#)
    }

    @Test func extraVariablesAndTheNoneDefaultsOfToolsAndDocuments() throws {
        let source = "{{ enable_thinking }} {{ tools is none }} {{ documents is none }} {{ bos_token }}{{ eos_token }}"
        #expect(try render(source, variables: ["enable_thinking": false]) == "False True True <s></s>")
        #expect(try render("{{ bos_token }}", variables: ["bos_token": "[BOS]"]) == "[BOS]")
    }

    @Test func reasoningIsCopiedToThinkingAndReasoningContentAsTransformersDoes() throws {
        let message = ChatMessage(role: "assistant", content: "Yes.", fields: [.init("reasoning", "because")])
        #expect(try render("{{ messages[0] | tojson }}", [message])
            == #"{"thinking": "because", "role": "assistant", "content": "Yes.", "reasoning": "because", "reasoning_content": "because"}"#)
    }

    @Test func strftimeNowReadsTheClockUnlessFixed() throws {
        let fixed = try ChatTemplate("{{ strftime_now('%d %b %Y') }}", clock: .fixed(year: 2026, month: 11, day: 27))
        #expect(try fixed.render([]) == "27 Nov 2026")
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        let year = try ChatTemplate("{{ strftime_now('%Y') }}").render([])
        #expect(year == String(parts.tm_year + 1900) || year == String(parts.tm_year + 1901))
    }

    @Test func bosAndEosComeFromTheTokenizerVocabulary() throws {
        let spec = TokenizerSpec(
            model: .sentencePiece, preTokenizer: .metaspace, tokens: ["<|begin|>", "<|end|>", "a"], scores: [0, 0, 0], bosTokenId: 0, eosTokenId: 1)
        let tokenizer = try Tokenizer(spec: spec)
        #expect(try ChatTemplate("{{ bos_token }}{{ messages[0].content }}{{ eos_token }}").render([ChatMessage(role: "user", content: "a")], tokenizer: tokenizer)
            == "<|begin|>a<|end|>")
    }
}
