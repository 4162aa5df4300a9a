import ArgumentParser
import WStreamFormat
import WStreamTokenizer

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the token ids a model is fed for a text, as a JSON array (BOS included when the model adds one).")

    @Argument(help: "The .wst file.")
    var model: String

    @Option(help: "The text to tokenise.")
    var text: String

    @Flag(help: "Turn special-token text such as <|im_start|> into those tokens.")
    var parseSpecial = false

    func run() throws {
        let reader = try ContainerReader(path: model)
        let tokenizer = try Tokenizer(spec: reader.metadata.tokenizer)
        let ids = tokenizer.encode(text, addSpecialTokens: true, parseSpecialTokens: parseSpecial)
        print(Terminal.jsonArray(ids))
    }
}
