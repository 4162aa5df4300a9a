import Testing
import TestSupport
import WStreamTokenizer

/// `wstream template` prints what transformers renders: every case of `../shared/chat-templates/cases.json`
/// through the release binary (one process per template, its message sets as JSON lines), the exact
/// prompt with no newline added, and a .wst model's own template and BOS text.
@Suite struct TemplateCommandTests {
    /// The corpus and its message sets written as request bodies (`{"messages": …, "tools": …}`), once per test run.
    struct Corpus: Sendable {
        let directory: String
        let scratch: TemporaryDirectory
        /// Set name → request file.
        let setFiles: [String: String]
        /// (template, set, expected prompt or nil where transformers raised), in file order.
        let cases: [(template: String, set: String, expected: String?)]
    }

    static let corpus = Result { () throws -> Corpus in
        let directory = SharedModels.directory + "/../chat-templates"
        let root = try TemplateValue(json: String(decoding: try FileContents.read(directory + "/cases.json"), as: UTF8.self))
        guard case .object(let sets)? = root["message_sets"], let templates = root["templates"]?.arrayValue else {
            throw FixtureFailure(description: "\(directory)/cases.json has no message_sets or templates")
        }
        let scratch = TemporaryDirectory("wstream-template")
        var files: [String: String] = [:]
        for set in sets {
            files[set.key] = scratch.file(set.key + ".json")
            try FileOperations.write(set.value.jsonText, to: files[set.key]!)
        }
        let cases = templates.flatMap { template in
            (template["cases"]?.arrayValue ?? []).map {
                (template["template"]?.stringValue ?? "", $0["set"]?.stringValue ?? "", $0["expected"]?.stringValue)
            }
        }
        return Corpus(directory: directory, scratch: scratch, setFiles: files, cases: cases)
    }

    static let referenceArguments = ["--bos", "<s>", "--eos", "</s>", "--now", "2026-11-27T12:00"]

    @Test func everyCorpusCaseRendersThroughTheCommandAsTransformersDoes() throws {
        let corpus = try Self.corpus.get()
        let templates = corpus.cases.reduce(into: [String]()) { if $0.last != $1.template { $0.append($1.template) } }
        var equal: [String: (Int, Int)] = [:]
        for template in templates {
            let cases = corpus.cases.filter { $0.template == template }
            let messageArguments: [String] = cases.flatMap { ["--messages", corpus.setFiles[$0.set] ?? ""] }
            let arguments: [String] = ["template", corpus.directory + "/" + template, "--json-lines"] + Self.referenceArguments + messageArguments
            let result = try WStreamExecutable.run(arguments)
            let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            guard result.succeeded, lines.count == cases.count else {
                Issue.record("\(template): expected \(cases.count) JSON lines: \(result)")
                continue
            }
            for (entry, line) in zip(cases, lines) {
                let output = try TemplateValue(json: String(line))
                var counts = equal[entry.set] ?? (0, 0)
                if let expected = entry.expected {
                    #expect(output["prompt"]?.stringValue == expected, "\(template) × \(entry.set): \(line.prefix(300))")
                    counts.1 += 1
                    if output["prompt"]?.stringValue == expected { counts.0 += 1 }
                } else {
                    #expect(output["error"] != nil, "\(template) × \(entry.set): transformers raised, the command printed a prompt")
                }
                equal[entry.set] = counts
            }
        }
        for (set, counts) in equal.sorted(by: { $0.key < $1.key }) {
            print("wstream template × \(set): \(counts.0)/\(counts.1) prompts equal the reference")
        }
    }

    @Test func thePromptIsPrintedExactlyWithNoNewlineAdded() throws {
        let corpus = try Self.corpus.get()
        let entry = corpus.cases.first { $0.template == "meta-llama-Llama-3.1-8B-Instruct.jinja" && $0.set == "tools_offered" }
        try #require(entry != nil, "cases.json has no Llama 3.1 tools_offered case")
        let result = try WStreamExecutable.run(
            ["template", corpus.directory + "/" + entry!.template, "--messages", corpus.setFiles[entry!.set]!] + Self.referenceArguments)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout == entry!.expected, "\(result)")
    }

    @Test func aRefusedConversationExitsOneWithTheTemplatesMessageAndPlace() throws {
        let corpus = try Self.corpus.get()
        let result = try WStreamExecutable.run(
            ["template", corpus.directory + "/google-gemma-2-2b-it.jinja", "--messages", corpus.setFiles["multi_turn_system"]!])
        #expect(result.exitStatus == 1, "\(result)")
        #expect(result.stdout.isEmpty, "\(result)")
        #expect(result.stderr.contains("google-gemma-2-2b-it.jinja: the chat template rejected the conversation at line 1, column"), "\(result)")
        #expect(result.stderr.contains("System role not supported"), "\(result)")
    }

    @Test func badInputNamesTheFileAndTheProblem() throws {
        let scratch = TemporaryDirectory("wstream-template-input")
        try FileOperations.write("[{\"role\": \"user\",, }]", to: scratch.file("broken.json"))
        try FileOperations.write("{% for m in messages %}{{ m.content }}", to: scratch.file("open.jinja"))
        try FileOperations.write("[]", to: scratch.file("empty.json"))
        try FileOperations.write("{{ messages | length }}", to: scratch.file("count.jinja"))
        let brokenJSON = try WStreamExecutable.run("template", scratch.file("count.jinja"), "--messages", scratch.file("broken.json"))
        #expect(brokenJSON.exitStatus == 1, "\(brokenJSON)")
        let openBlock = try WStreamExecutable.run("template", scratch.file("open.jinja"), "--messages", scratch.file("empty.json"))
        #expect(openBlock.exitStatus == 1, "\(openBlock)")
        #expect(openBlock.stderr.contains("open.jinja: chat template syntax error at line 1, column 39: unexpected end of template: 'for'"), "\(openBlock)")
        let badVariable = try WStreamExecutable.run("template", scratch.file("count.jinja"), "--messages", scratch.file("empty.json"), "--var", "x=text")
        #expect(badVariable.exitStatus != 0 && badVariable.stderr.contains("--var x"), "\(badVariable)")
        #expect(brokenJSON.stderr.contains("broken.json: invalid JSON at line 1, column 18"), "\(brokenJSON)")
    }

    @Test func aModelFileUsesItsOwnTemplateAndBOSUnlessOverridden() throws {
        let model = try Fixtures.synthetic()
        let corpus = try Self.corpus.get()
        let single = corpus.setFiles["single_user"]!
        let own = try WStreamExecutable.run("template", model.path, "--messages", single)
        #expect(own.stdout == "<|startoftext|><|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n", "\(own)")
        let overridden = try WStreamExecutable.run("template", model.path, "--messages", single, "--bos", "[B]", "--no-generation-prompt")
        #expect(overridden.stdout == "[B]<|im_start|>user\nHello!<|im_end|>\n", "\(overridden)")
    }
}
