#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import WStreamFormat
@_exported import WStreamModel
@_exported import WStreamRuntime
@_exported import WStreamTokenizer

/// The embedding API: open a `.wst` model under a memory budget and generate text as an `AsyncSequence`.
///
/// ```swift
/// let engine = try Engine(path: "model.wst", budget: try MemoryBudget(parsing: "700M"))
/// for try await piece in engine.generate(prompt: "Once upon a time", options: GenerationOptions()) {
///     print(piece, terminator: "")
/// }
/// ```
/// One generation runs at a time (calls queue up); the model's memory is planned on the first
/// generation (or at once when `Configuration.contextLength` is given) and kept for later ones that fit.
public final class Engine: @unchecked Sendable {
    /// How the engine sizes and runs the model.
    public struct Configuration: Sendable {
        /// Compute threads (default: all cores).
        public var threads = Engine.coreCount
        /// KV-cache positions to plan for. nil: each generation's prompt plus its `maxTokens`, planned again
        /// (dropping the cache) when a later generation needs more than the current plan.
        public var contextLength: Int?
        /// Prompt tokens per prefill chunk.
        public var chunkSize = 32

        public init() {}
    }

    public let path: String
    public let budget: MemoryBudget?
    public let configuration: Configuration
    /// The model's architecture and hyper-parameters.
    public var modelConfig: ModelConfig { reader.metadata.config }
    public let tokenizer: Tokenizer
    /// The model's chat template, or ChatML when it has none.
    /// - Throws: the template's syntax error; the model still runs plain prompts.
    public var chatTemplate: ChatTemplate {
        get throws { try parsedChatTemplate.get() }
    }
    private let parsedChatTemplate: Result<ChatTemplate, any Error>
    private let reader: ContainerReader
    private let queue = DispatchQueue(label: "wstream.engine")
    private var model: LanguageModel?
    private var latest: GenerationResult?

    /// Opens and validates the file and builds its tokenizer; the pool is planned later (see the type's notes).
    /// - Throws: `FormatError` for an unreadable or damaged file.
    public init(path: String, budget: MemoryBudget? = nil, configuration: Configuration = Configuration()) throws {
        self.path = path
        self.budget = budget
        self.configuration = configuration
        reader = try ContainerReader(path: path)
        tokenizer = try Tokenizer(spec: reader.metadata.tokenizer)
        let templateSource = reader.metadata.tokenizer.chatTemplate ?? Self.chatML
        parsedChatTemplate = Result { try ChatTemplate(templateSource) }
        if let context = configuration.contextLength { try queue.sync { _ = try loadedModel(context: context) } }
    }

    /// Prompt ids as the model will see them.
    public func encode(_ prompt: String, options: GenerationOptions = GenerationOptions()) -> [Int] {
        tokenizer.encode(prompt, addSpecialTokens: options.addSpecialTokens, parseSpecialTokens: options.parseSpecialTokens)
    }

    /// Generates a continuation of `prompt`; each element is a piece of text, complete UTF-8.
    public func generate(prompt: String, options: GenerationOptions = GenerationOptions()) -> AsyncThrowingStream<String, any Error> {
        generate(promptIds: encode(prompt, options: options), options: options)
    }

    /// Generates the assistant's reply to `messages`, rendered with the model's chat template
    /// (ChatML when the model has none) as Hugging Face renders it. Special-token text in the rendered
    /// prompt becomes those tokens.
    /// - Parameters:
    ///   - messages: the conversation; structured content, `tool_calls` and `tool` messages pass through as given.
    ///   - tools: function schemas (OpenAI format) offered to the model; nil renders the template without tools.
    ///   - variables: further template variables, such as `enable_thinking` or `documents`.
    /// - Throws: `TokenizerError` when the template cannot be parsed or rendered (or refuses the conversation).
    public func generate(
        messages: [ChatMessage], tools: [TemplateValue]? = nil, variables: [String: TemplateValue] = [:],
        options: GenerationOptions = GenerationOptions()
    ) throws -> AsyncThrowingStream<String, any Error> {
        var options = options
        options.addSpecialTokens = false
        options.parseSpecialTokens = true
        let prompt = try chatTemplate.render(messages, tools: tools, addGenerationPrompt: true, variables: variables, tokenizer: tokenizer)
        return generate(prompt: prompt, options: options)
    }

    /// Generates a continuation of already-tokenised `promptIds`.
    public func generate(promptIds: [Int], options: GenerationOptions = GenerationOptions()) -> AsyncThrowingStream<String, any Error> {
        AsyncThrowingStream { continuation in
            let cancellation = GenerationCancellation()
            continuation.onTermination = { _ in cancellation.cancel() }
            queue.async { [self] in
                do {
                    let model = try loadedModel(context: promptIds.count + options.maxTokens)
                    let result = try model.generate(promptIds: promptIds, options: options, cancellation: cancellation) { piece in
                        continuation.yield(piece)
                        return true
                    }
                    latest = result
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
        }
    }

    /// Ids, text and figures of the most recent finished generation.
    public var lastResult: GenerationResult? { queue.sync { latest } }

    /// Frees the model's pool, KV cache and activations; the next generation plans them again.
    public func unload() {
        queue.sync { model = nil }
    }

    /// The model, opened for at least `context` positions: planned anew (within the same budget) when a
    /// request needs more positions than it was planned for, unless `Configuration.contextLength` fixed them.
    private func loadedModel(context: Int) throws -> LanguageModel {
        if let model {
            let fits = context <= model.options.contextLength || model.options.contextLength >= model.config.contextLength
            if fits || configuration.contextLength != nil { return model }
            // Free the old pool before planning the new one: both at once could exceed the budget.
            self.model = nil
        }
        var options = LanguageModel.Options(contextLength: configuration.contextLength ?? context, budget: budget, threads: configuration.threads)
        options.chunkSize = configuration.chunkSize
        let opened = try LanguageModel(reader: reader, tokenizer: tokenizer, options: options)
        model = opened
        return opened
    }

    /// The template used for models that carry none (ChatML).
    public static let chatML = """
        {% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}\
        {% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}
        """

    /// Online processors.
    public static var coreCount: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}
