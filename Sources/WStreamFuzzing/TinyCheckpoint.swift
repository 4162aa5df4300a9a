import WStreamFormat
import WStreamImport
import WStreamQuant

/// A complete checkpoint of a family small enough to be a fuzzing seed: every tensor the family's blocks hold, in
/// shapes that agree with its configuration, filled with deterministic values. The GGUF and Hugging Face seeds are
/// written from it, so that their inputs go all the way through the importers.
struct TinyCheckpoint {
    struct Tensor {
        /// Canonical (GGUF) name.
        let name: String
        /// `[rows, cols]` or `[count]`.
        let shape: [Int]
        var rows: Int { shape.count == 2 ? shape[0] : 1 }
        var cols: Int { shape.last! }
        var isMatrix: Bool { shape.count == 2 }
    }

    let config: ModelConfig
    let tokenizer: TokenizerSpec
    let tensors: [Tensor]

    /// A one-block Llama with a 16-token SentencePiece vocabulary; hidden 256 makes every matrix with that input
    /// width a whole number of K-quant super-blocks.
    static func llama(hidden: Int = 32, tied: Bool = false) -> TinyCheckpoint {
        let tokens = ["<unk>", "<s>", "</s>", "\u{2581}", "\u{2581}a", "a", "b", "c", "\u{2581}b", "ab", "<0x0A>", "<0x20>", "\u{2581}c", "ca", "bc", "!"]
        let types: [TokenizerSpec.TokenType] = [.unknown, .control, .control] + Array(repeating: .normal, count: 7) + [.byte, .byte]
            + Array(repeating: .normal, count: 4)
        let spec = TokenizerSpec(
            model: .sentencePiece, preTokenizer: .metaspace, tokens: tokens, scores: tokens.indices.map { -Float($0) },
            tokenTypes: types, byteFallback: true, addPrefixSpace: true, bosTokenId: 1, eosTokenId: 2, unknownTokenId: 0,
            addBosToken: true)
        let config = ModelConfig(
            architecture: "llama", hiddenSize: hidden, layerCount: 1, headCount: 2, kvHeadCount: 1, headDim: 16, ffnSize: 32,
            vocabSize: tokens.count, contextLength: 64, normEps: 1e-5, ropeTheta: 10_000, tiedEmbeddings: tied)
        return TinyCheckpoint(config: config, tokenizer: spec)
    }

    /// A one-block Qwen3 with a byte-level vocabulary (every byte, then a few merges).
    static func qwen3() -> TinyCheckpoint {
        let spec = byteLevelTokenizer()
        let config = ModelConfig(
            architecture: "qwen3", hiddenSize: 32, layerCount: 1, headCount: 2, kvHeadCount: 1, headDim: 16, ffnSize: 32,
            vocabSize: spec.tokens.count, contextLength: 64, normEps: 1e-6, ropeTheta: 1_000_000, tiedEmbeddings: true)
        return TinyCheckpoint(config: config, tokenizer: spec)
    }

    /// A two-block LFM2, a short convolution then attention, with a byte-level vocabulary.
    static func lfm2() -> TinyCheckpoint {
        let spec = byteLevelTokenizer()
        let config = ModelConfig(
            architecture: "lfm2", hiddenSize: 32, layerCount: 2, headCount: 2, kvHeadCount: 1, headDim: 16, ffnSize: 32,
            vocabSize: spec.tokens.count, contextLength: 64, normEps: 1e-5, ropeTheta: 1_000_000, tiedEmbeddings: true,
            blockKinds: [.shortConv, .attention], convKernelSize: 3)
        return TinyCheckpoint(config: config, tokenizer: spec)
    }

    private init(config: ModelConfig, tokenizer: TokenizerSpec) {
        self.config = config
        self.tokenizer = tokenizer
        var tensors = [Tensor(name: TensorName.tokenEmbedding, shape: [config.vocabSize, config.hiddenSize])]
        for layer in 0..<config.layerCount {
            for part in Self.blockTensors(config, layer: layer) {
                tensors.append(Tensor(name: TensorName.block(layer, part), shape: part.expectedShape(config)))
            }
        }
        tensors.append(Tensor(name: TensorName.outputNorm, shape: [config.hiddenSize]))
        if !config.tiedEmbeddings { tensors.append(Tensor(name: TensorName.output, shape: [config.vocabSize, config.hiddenSize])) }
        self.tensors = tensors
    }

    /// The tensors of block `layer`, as the importers' family files list them.
    private static func blockTensors(_ config: ModelConfig, layer: Int) -> [BlockTensor] {
        let attention: [BlockTensor] = [.attentionQ, .attentionK, .attentionV, .attentionOutput]
        let ffn: [BlockTensor] = [.ffnNorm, .ffnGate, .ffnUp, .ffnDown]
        switch config.architecture {
        case "qwen3": return [.attentionNorm] + attention + [.attentionQNorm, .attentionKNorm] + ffn
        case "lfm2":
            let mixer: [BlockTensor] = config.blockKinds[layer] == .shortConv
                ? [.convInProjection, .convWeight, .convOutProjection] : attention + [.attentionQNorm, .attentionKNorm]
            return [.attentionNorm] + mixer + ffn
        default: return [.attentionNorm] + attention + ffn
        }
    }

    /// GPT-2's byte alphabet (`bytes_to_unicode`) as 256 tokens, a few merges of common letters, and an end token.
    static func byteLevelTokenizer() -> TokenizerSpec {
        var tokens: [String] = []
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
            tokens.append(String(Unicode.Scalar(printable ? UInt32(byte) : next)!))
            if !printable { next += 1 }
        }
        let merges = ["\u{0120} t", "h e", "\u{0120}t he", "a n", "i n"]
        tokens += merges.map { $0.filter { $0 != " " } } + ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        let end = tokens.count - 3
        var types = [TokenizerSpec.TokenType](repeating: .normal, count: tokens.count)
        for id in end..<tokens.count { types[id] = .control }
        return TokenizerSpec(
            model: .bytePairEncoding, preTokenizer: .byteLevel, splitPattern: .gpt2, tokens: tokens, merges: merges, tokenTypes: types,
            eosTokenId: end, specialTokenIds: Array(end..<tokens.count), extraStopTokenIds: [end + 2],
            chatTemplate: "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}")
    }

    /// Deterministic values of `tensor`: norms near 1, matrices in [-0.5, 0.5).
    func values(of tensor: Tensor, seed: UInt64) -> [Float] {
        var random = SplitMix64(seed: seed &+ UInt64(tensor.name.utf8.reduce(0) { $0 &* 31 &+ Int($1) } & 0xFFFF))
        let count = tensor.rows * tensor.cols
        return tensor.isMatrix ? (0..<count).map { _ in random.unit() / 2 } : (0..<count).map { _ in 1 + random.unit() / 10 }
    }
}
