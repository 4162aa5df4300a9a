import WStreamTokenizer

/// Chat-template parsing and rendering, through `ChatTemplate.fuzz(_:)`: an input is template text, optionally
/// followed by a NUL byte and a JSON array of messages (see there).
///
/// Every template failure is a thrown error that `ChatTemplate.fuzz` absorbs, so `run` only returns: what it
/// proves is that no input traps, hangs past the sandbox's limits or trips a sanitizer.
public final class ChatTemplateTarget: FuzzTarget {
    public static let name = "template"

    public init() {}

    public func run(_ input: UnsafeRawBufferPointer) throws {
        ChatTemplate.fuzz(input)
    }

    public func seeds(sharedModels: String?) throws -> [FuzzSeed] {
        let messages = #"[{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hi"}]}]"#
        var seeds = [
            FuzzSeed(name: "chatml", bytes: Array(TinyCheckpoint.byteLevelTokenizer().chatTemplate!.utf8)),
            FuzzSeed(name: "loop-filters-messages", bytes: InputParts.join(Array("""
                {%- set ns = namespace(n=0) -%}{%- for m in messages if m.role != 'x' -%}{%- set ns.n = ns.n + 1 -%}
                {{ loop.index }}:{{ m.role | upper }}={{ (m.content if m.content is string else m.content | tojson) | trim }}
                {%- endfor %}{{ ns.n }}{{ tools | length }}{% if add_generation_prompt %}>{% endif %}
                """.utf8), Array(messages.utf8))),
            FuzzSeed(name: "macro-slice-format", bytes: Array("""
                {% macro item(x, sep=', ') %}{{ x[::-1] ~ sep }}{% endmacro %}{{ item('abc') }}{{ '%s-%d' % ('a', 3) }}\
                {{ bos_token + messages[-1]['content'][:5] }}{{ raise_exception('stop') if messages|length > 9 }}
                """.utf8)),
        ]
        if let sharedModels {
            let directory = sharedModels + "/../chat-templates"
            for name in try InputFiles.names(in: directory, endingIn: ".jinja") {
                seeds.append(FuzzSeed(name: "shared-" + name, bytes: try InputFiles.read(name, in: directory)))
            }
        }
        return seeds
    }
}
