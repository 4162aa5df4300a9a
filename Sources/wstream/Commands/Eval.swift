import ArgumentParser
import WStream
import WStreamFormat
import WStreamTokenizer

struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure perplexity on a text; with --reference, also the mean KL divergence and top-1 agreement.",
        discussion: """
            The text is fed teacher-forced: every position predicts the next token of the text. With a reference \
            model (e.g. the same model packed with --bits 32) both see the same tokens and their distributions \
            are compared position by position.

              wstream eval m4.wst --text story.txt --reference m32.wst
            """)

    @Argument(help: "The .wst file to evaluate.")
    var model: String

    @Option(help: "A UTF-8 text file.")
    var text: String

    @Option(help: "A reference .wst of the same model (e.g. --bits 32). It is loaded whole, outside --budget.")
    var reference: String?

    @Option(help: "Score at most this many tokens of the text.")
    var limit = 512

    @OptionGroup var runtime: RuntimeOptions

    func run() async throws {
        try await exitingOnBudgetError {
            let contents = try TextFile.read(text)
            let reader = try ContainerReader(path: model)
            let tokenizer = try Tokenizer(spec: reader.metadata.tokenizer)
            // One more token than positions scored, and no more than the model's context.
            let tokens = Array(tokenizer.encode(contents).prefix(min(limit, reader.metadata.config.contextLength - 1) + 1))
            guard tokens.count >= 2 else { throw CommandFailure("\(text): fewer than two tokens to evaluate") }
            var options = LanguageModel.Options(contextLength: tokens.count, budget: try runtime.parsedBudget(), threads: max(1, runtime.threads))
            options.logitsForEveryPosition = true
            options.streamingIO = runtime.io
            options.activationPrecision = runtime.activations
            let evaluated = try LanguageModel(reader: reader, tokenizer: tokenizer, options: options)
            let referenceModel = try reference.map { path -> LanguageModel in
                let referenceReader = try ContainerReader(path: path)
                guard referenceReader.metadata.config.vocabSize == reader.metadata.config.vocabSize else {
                    throw CommandFailure("\(path): vocabulary differs from \(model)")
                }
                var referenceOptions = options
                referenceOptions.budget = nil
                return try LanguageModel(reader: referenceReader, tokenizer: tokenizer, options: referenceOptions)
            }
            let result = try Evaluation.run(model: evaluated, reference: referenceModel, tokens: tokens)
            print("tokens      \(result.tokens)")
            print("perplexity  \(Terminal.decimal(result.perplexity, places: 3))")
            if let kl = result.meanKLDivergence, let agreement = result.topOneAgreement {
                print("mean KL     \(Terminal.decimal(kl, places: 5)) nats")
                print("top-1       \(Terminal.decimal(agreement * 100, places: 2))% agreement")
            }
            print("time        \(Terminal.decimal(result.seconds, places: 2)) s")
        }
    }
}
