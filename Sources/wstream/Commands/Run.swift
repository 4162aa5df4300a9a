import ArgumentParser
import WStream

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate text from a .wst model within a memory budget.",
        discussion: """
            Text streams to standard output as it is generated; --stats and errors go to standard error. \
            A budget below the model's minimum working set is refused before anything is loaded (exit 2), \
            with the minimum in the message.

              wstream run model.wst --budget 700M --prompt "Once upon a time" -n 128 --stats
              wstream run model.wst --budget 700M --chat
            """)

    @Argument(help: "The .wst file.")
    var model: String

    @OptionGroup var runtime: RuntimeOptions

    @Option(name: .shortAndLong, help: "The prompt to continue.")
    var prompt: String?

    @Flag(help: "Interactive chat using the model's chat template (type a message, empty line or Ctrl-D to quit).")
    var chat = false

    @Option(help: "System message for --chat.")
    var system: String?

    @Option(name: [.customShort("n"), .long], help: "Most tokens to generate (per reply in --chat).")
    var maxTokens = 128

    @Option(help: "KV-cache positions to plan for (default: prompt + -n; 2048 in --chat).")
    var context: Int?

    @OptionGroup var sampling: SamplingArguments

    @Flag(help: "After the text, print peak RSS against the budget, tokens/s, pool and streaming figures to stderr.")
    var stats = false

    @Flag(help: "After the text, print {\"prompt_ids\":[…],\"generated_ids\":[…]} as one JSON line.")
    var printIds = false

    /// For `bench`: a prompt given as comma-separated token ids, so its length is exact.
    @Option(help: .hidden)
    var promptIds: String?

    /// For `bench`: the statistics as one JSON line on standard error, for a parent process to parse.
    @Flag(help: .hidden)
    var statsJson = false

    func validate() throws {
        if prompt == nil && promptIds == nil && !chat { throw ValidationError("give a --prompt, or --chat for an interactive session") }
        if let promptIds, parsedPromptIds(promptIds) == nil { throw ValidationError("--prompt-ids takes comma-separated token ids, e.g. 1,400,25") }
        if maxTokens < 1 { throw ValidationError("-n must be at least 1") }
    }

    func run() async throws {
        try await exitingOnBudgetError(json: statsJson) {
            var configuration = Engine.Configuration()
            configuration.threads = max(1, runtime.threads)
            configuration.streamingIO = runtime.io
            configuration.activationPrecision = runtime.activations
            let engine = try Engine(path: model, configuration: configuration)
            var options = GenerationOptions()
            options.maxTokens = maxTokens
            options.sampling = sampling.options
            options.stopStrings = sampling.stop
            let budget = try runtime.parsedBudget()
            if chat {
                try await engine.load(budget: budget, contextLength: context ?? 2048)
                try await ChatSession(engine: engine, options: options, system: system, showStats: stats).run()
                return
            }
            let ids: [Int]
            if let given = promptIds.flatMap(parsedPromptIds) {
                let vocabulary = engine.modelConfig.vocabSize
                guard given.allSatisfy({ $0 < vocabulary }) else { throw ValidationError("--prompt-ids: ids must be below the vocabulary size \(vocabulary)") }
                ids = given
            } else {
                ids = engine.encode(prompt!, options: options)
            }
            try await engine.load(budget: budget, contextLength: context ?? ids.count + maxTokens)
            let result = try await engine.generate(promptIds: ids, options: options) { Terminal.write($0) }
            Terminal.write("\n")
            if printIds {
                Terminal.write("{\"prompt_ids\":\(Terminal.jsonArray(result.promptIds)),\"generated_ids\":\(Terminal.jsonArray(result.generatedIds))}\n")
            }
            if stats { StatisticsReport.print(result.statistics) }
            if statsJson { Terminal.error(try StatisticsRecord(result.statistics).jsonLine()) }
        }
    }

    private func parsedPromptIds(_ text: String) -> [Int]? {
        let ids = text.split(separator: ",").map { Int($0) }
        guard !ids.isEmpty, ids.allSatisfy({ $0 != nil && $0! >= 0 }) else { return nil }
        return ids.map { $0! }
    }
}

/// Sampling flags, shared by `run` and `serve`.
struct SamplingArguments: ParsableArguments {
    @Option(help: "Sampling temperature; 0 = greedy (always the most likely token).")
    var temperature: Float = 0.8

    @Option(help: "Sample among the k most likely tokens (0 = all).")
    var topK = 40

    @Option(help: "Nucleus sampling: the smallest set of tokens with this much probability.")
    var topP: Float = 0.95

    @Option(help: "Drop tokens less likely than this fraction of the most likely one.")
    var minP: Float = 0.05

    @Option(help: "Penalty for tokens seen in the last 64 (1 = off).")
    var repeatPenalty: Float = 1.0

    @Option(help: "Random seed: the same seed gives the same output.")
    var seed: UInt64?

    @Option(help: "Stop before this string (repeatable).")
    var stop: [String] = []

    var options: SamplingOptions {
        var options = SamplingOptions()
        options.temperature = temperature
        options.topK = topK
        options.topP = topP
        options.minP = minP
        options.repetitionPenalty = repeatPenalty
        options.seed = seed
        return options
    }
}
