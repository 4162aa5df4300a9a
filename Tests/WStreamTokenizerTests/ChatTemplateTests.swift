import Testing
import WStreamFormat
import WStreamTokenizer

@Suite struct ChatTemplateTests {
    private let conversation = [
        ChatMessage(role: "system", content: "You are helpful."),
        ChatMessage(role: "user", content: "Hi there "),
        ChatMessage(role: "assistant", content: "Hello!"),
        ChatMessage(role: "user", content: "Tell me a story."),
    ]

    @Test func chatMLTemplateRendersTurnsAndTheGenerationPrompt() throws {
        let template = try ChatTemplate(
            #"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"#)
        let expected = """
            <|im_start|>system
            You are helpful.<|im_end|>
            <|im_start|>user
            Hi there <|im_end|>
            <|im_start|>assistant
            Hello!<|im_end|>
            <|im_start|>user
            Tell me a story.<|im_end|>

            """
        #expect(try template.render(conversation, addGenerationPrompt: false) == expected)
        #expect(try template.render(conversation) == expected + "<|im_start|>assistant\n")
    }

    @Test func multiLineTemplateWithWhitespaceControlRendersLikeTheOneLiner() throws {
        let template = try ChatTemplate("""
            {%- for message in messages %}
                {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}
            {%- endfor %}
            {%- if add_generation_prompt %}
                {{- '<|im_start|>assistant\\n' }}
            {%- endif %}

            """)
        let rendered = try template.render([ChatMessage(role: "user", content: "Hi")])
        #expect(rendered == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test func llama3TemplateTrimsContentAndPutsBOSFirst() throws {
        let template = try ChatTemplate(
            #"{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"#)
        let rendered = try template.render(Array(conversation.prefix(2)), bosToken: "<|begin_of_text|>")
        #expect(rendered == "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
    }

    private let llama2 = #"{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"#

    @Test func llama2TemplateFoldsTheSystemPromptIntoTheFirstTurn() throws {
        let template = try ChatTemplate(llama2)
        let rendered = try template.render(conversation, bosToken: "<s>", eosToken: "</s>")
        #expect(rendered == "<s>[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\nHi there [/INST] Hello! </s><s>[INST] Tell me a story. [/INST]")
    }

    @Test func raiseExceptionBecomesAnErrorWithItsMessage() throws {
        let template = try ChatTemplate(llama2)
        let messages = [ChatMessage(role: "user", content: "a"), ChatMessage(role: "user", content: "b")]
        #expect(throws: TokenizerError.chatTemplateRaised(message: "Conversation roles must alternate user/assistant/user/assistant/...")) {
            try template.render(messages)
        }
    }

    @Test func namespaceCarriesAssignmentsOutOfLoops() throws {
        let template = try ChatTemplate(
            "{%- set ns = namespace(found=false, count=0) -%}{%- for m in messages -%}{%- if m.role == 'system' -%}{%- set ns.found = true -%}{%- endif -%}{%- set ns.count = ns.count + 1 -%}{%- endfor -%}{{ ns.found }} {{ ns.count }} {{ messages|length }} {{ messages[-1].content }}")
        #expect(try template.render(conversation) == "True 4 4 Tell me a story.")
    }

    @Test func blockTagsAloneOnALineLeaveNoBlankLines() throws {
        let template = try ChatTemplate("{% for m in messages %}\n  {% if loop.last %}\n[{{ m.role }}]\n  {% else %}\n{{ m.role }},\n  {% endif %}\n{% endfor %}")
        #expect(try template.render(Array(conversation.prefix(2))) == "system,\n[user]\n")
    }

    @Test func unsupportedSyntaxIsASyntaxError() {
        #expect(throws: TokenizerError.self) { try ChatTemplate("{% macro greet() %}hi{% endmacro %}") }
        #expect(throws: TokenizerError.self) { try ChatTemplate("{{ unclosed ") }
        #expect(throws: TokenizerError.self) { try ChatTemplate("{% if true %}no end") }
    }
}
