import FoundationEssentials
import WStreamFormat

/// Reads a Hugging Face `tokenizer.json` (and `tokenizer_config.json` beside it) into a `TokenizerSpec`.
///
/// Supported: `model.type == "BPE"` with either SentencePiece-style Metaspace preparation (a `Prepend("▁")` +
/// `Replace(" ", "▁")` normalizer, or a `Metaspace` pre-tokenizer) or GPT-2-style `ByteLevel` pre-tokenization
/// (optionally after a `Split` regex; Llama 3's regex is recognised).
public enum HFTokenizerFile {
    /// A tokenizer file that cannot be read or describes something wstream does not support.
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        /// The file at fault.
        public let file: String
        /// What is wrong, written for a person.
        public let problem: String

        public var description: String { "\(file): \(problem)" }
    }

    /// - Parameter directory: the model directory holding `tokenizer.json`.
    /// - Returns: the tokenizer description, with BOS/EOS, special tokens and chat template from
    ///   `tokenizer_config.json` (and `generation_config.json`) when present.
    /// - Throws: `HFTokenizerFile.Error` naming the file and what is unsupported or malformed.
    public static func load(directory: String) throws -> TokenizerSpec {
        let tokenizerPath = directory + "/tokenizer.json"
        let file: HFTokenizerJSON = try decode(tokenizerPath, required: true)!
        let config: HFTokenizerConfig? = try decode(directory + "/tokenizer_config.json", required: false)
        let generation: HFGenerationConfig? = try decode(directory + "/generation_config.json", required: false)
        var spec = try makeSpec(file, path: tokenizerPath)
        let added = Dictionary(file.addedTokens.map { ($0.content, $0.id) }, uniquingKeysWith: { first, _ in first })
        applyConfig(config, generation: generation, template: file.bosTemplate, to: &spec) { added[$0] ?? file.model.vocab[$0] }
        if spec.chatTemplate == nil, let data = try? contents(of: directory + "/chat_template.jinja") {
            spec.chatTemplate = String(decoding: data, as: UTF8.self)
        }
        return spec
    }

    private static func decode<T: Decodable>(_ path: String, required: Bool) throws -> T? {
        let data: Data
        do {
            data = try contents(of: path)
        } catch {
            if required { throw Error(file: path, problem: "cannot read the file (\(error.reason))") }
            return nil
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as Error {
            throw Error(file: path, problem: error.problem)
        } catch {
            throw Error(file: path, problem: "not a tokenizer description wstream understands: \(error)")
        }
    }

    /// The bytes of the file at `path`, read as every other source file is (Foundation's `Data(contentsOf:)` leaks
    /// a 4 KiB buffer for each empty file it reads).
    /// - Throws: `FormatError.io` naming the failing call.
    private static func contents(of path: String) throws(FormatError) -> Data {
        let file = try ReadOnlyFile(path: path)
        var data = Data(count: file.size)
        // withUnsafeMutableBytes only rethrows untyped errors: carry ours out in a Result.
        try data.withUnsafeMutableBytes { bytes in Result { () throws(FormatError) in try file.read(into: bytes, at: 0) } }.get()
        return data
    }

    private static func makeSpec(_ file: HFTokenizerJSON, path: String) throws -> TokenizerSpec {
        let model = file.model
        guard model.type == "BPE" else {
            throw Error(
                file: path,
                problem: "tokenizer model type \(model.type) is not supported; wstream reads BPE tokenizers "
                    + "(SentencePiece-style Metaspace or GPT-2-style ByteLevel)")
        }
        let (preTokenizer, splitPattern, addPrefixSpace) = try preparation(of: file, path: path)

        // Ids index the token table, which holds every id up to the largest: a real vocabulary's ids are dense, so a
        // file may leave some unused, but never more than it lists tokens (or it could make any table it likes).
        let entries = model.vocab.count + file.addedTokens.count
        let idLimit = 2 * entries + 1024
        let listed = model.vocab.map { ($0.key, $0.value) } + file.addedTokens.map { ($0.content, $0.id) }
        if let (text, id) = listed.first(where: { !(0..<idLimit).contains($0.1) }) {
            throw Error(file: path, problem: "token \(JSONString.quoted(text)) has id \(id); the ids of \(entries) tokens lie in 0..<\(idLimit)")
        }
        let count = (listed.map(\.1).max() ?? -1) + 1
        var tokens = [String?](repeating: nil, count: count)
        for (text, id) in model.vocab { tokens[id] = text }
        var types = [TokenizerSpec.TokenType](repeating: .normal, count: count)
        for (id, text) in tokens.enumerated() {
            if text == nil {
                types[id] = .unused
            } else if model.byteFallback, let text, isByteToken(text) {
                types[id] = .byte
            }
        }
        var specialIds: [Int] = []
        for added in file.addedTokens {
            tokens[added.id] = added.content
            types[added.id] = added.special ? .control : .userDefined
            if added.special { specialIds.append(added.id) }
        }
        let unknownId = model.unkToken.flatMap { model.vocab[$0] }
        if let unknownId { types[unknownId] = .unknown }

        return TokenizerSpec(
            model: .bytePairEncoding, preTokenizer: preTokenizer, splitPattern: splitPattern,
            tokens: tokens.enumerated().map { $0.element ?? "<|unused_\($0.offset)|>" },
            merges: model.merges, tokenTypes: types, byteFallback: model.byteFallback,
            addPrefixSpace: addPrefixSpace, unknownTokenId: unknownId, specialTokenIds: specialIds.sorted())
    }

    /// Works out Metaspace vs ByteLevel from the normalizer and pre-tokenizer.
    private static func preparation(of file: HFTokenizerJSON, path: String) throws
        -> (TokenizerSpec.PreTokenizer, TokenizerSpec.SplitPattern?, Bool)
    {
        let normalizers = file.normalizer?.flattened ?? []
        let preTokenizers = file.preTokenizer?.flattened ?? []
        if let byteLevel = preTokenizers.first(where: { $0.type == "ByteLevel" }) {
            let split = preTokenizers.first { $0.type == "Split" }?.pattern?.regex
            let pattern: TokenizerSpec.SplitPattern =
                split.map { $0.contains("\\p{N}{1,3}") } == true ? .llama3 : .gpt2
            return (.byteLevel, pattern, byteLevel.addPrefixSpace ?? false)
        }
        if let metaspace = preTokenizers.first(where: { $0.type == "Metaspace" }) {
            let prepend: Bool
            switch metaspace.prependScheme {
            case "never": prepend = false
            case "always", "first": prepend = true
            default: prepend = metaspace.addPrefixSpace ?? true
            }
            return (.metaspace, nil, prepend)
        }
        let prepends = normalizers.contains { $0.type == "Prepend" && $0.prepend == "▁" }
        let replacesSpaces = normalizers.contains {
            $0.type == "Replace" && $0.pattern?.string == " " && $0.content == "▁"
        }
        if prepends || replacesSpaces { return (.metaspace, nil, prepends) }
        let found = (normalizers + preTokenizers).map(\.type)
        throw Error(
            file: path,
            problem: "unsupported text preparation (normalizer/pre_tokenizer: \(found.isEmpty ? "none" : found.joined(separator: ", "))); "
                + "wstream supports Metaspace (Prepend/Replace \"▁\" normalizer or Metaspace pre-tokenizer) and ByteLevel")
    }

    /// BOS/EOS, padding, stop tokens and the chat template from the config files and the post-processor.
    private static func applyConfig(
        _ config: HFTokenizerConfig?, generation: HFGenerationConfig?, template: (bos: String?, eos: String?),
        to spec: inout TokenizerSpec, id: (String) -> Int?
    ) {
        let bosName = config?.bosToken ?? template.bos
        let eosName = config?.eosToken ?? template.eos
        spec.bosTokenId = bosName.flatMap(id) ?? generation?.bosTokenIds.first
        spec.eosTokenId = eosName.flatMap(id) ?? generation?.eosTokenIds.first
        spec.paddingTokenId = config?.padToken.flatMap(id)
        spec.addBosToken = config?.addBosToken ?? (template.bos != nil)
        spec.addEosToken = config?.addEosToken ?? (template.eos != nil)
        if spec.unknownTokenId == nil, let unknown = config?.unkToken { spec.unknownTokenId = id(unknown) }

        // Chat models end a turn with a token other than EOS; stopping only at EOS would run on into the next turn.
        let endOfTurn = ["<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|end|>", "<end_of_turn>", "<|endoftext|>"]
        var stops = Set(generation?.eosTokenIds ?? [])
        for name in endOfTurn { if let stop = id(name), spec.specialTokenIds.contains(stop) { stops.insert(stop) } }
        if let eos = spec.eosTokenId { stops.remove(eos) }
        spec.extraStopTokenIds = stops.sorted()
        spec.chatTemplate = config?.chatTemplate
    }

    private static func isByteToken(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 6 && bytes[0] == UInt8(ascii: "<") && bytes[1] == UInt8(ascii: "0")
            && bytes[2] == UInt8(ascii: "x") && bytes[5] == UInt8(ascii: ">")
    }
}
