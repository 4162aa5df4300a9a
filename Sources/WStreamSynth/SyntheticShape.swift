import WStreamFormat

/// A model shape `wstream synth` can generate: the one table of every synthetic model's hyper-parameters.
public struct SyntheticShape: Sendable, Equatable {
    /// The `--shape` name, e.g. `llama-3.2-1b`.
    public let name: String
    /// The configuration the written model imports as.
    public let config: ModelConfig

    /// Every shape, real-size ones first.
    public static let all: [SyntheticShape] = [
        // Meta's Llama 3.2 1B (its llama3 rope_scaling left out: it changes nothing for synthetic weights).
        SyntheticShape(name: "llama-3.2-1b", config: ModelConfig(
            architecture: "llama", hiddenSize: 2048, layerCount: 16, headCount: 32, kvHeadCount: 8, headDim: 64,
            ffnSize: 8192, vocabSize: 128_256, contextLength: 131_072, normEps: 1e-5, ropeTheta: 500_000,
            tiedEmbeddings: true)),
        // Liquid AI's LFM2 1.2B: attention in blocks 2, 5, 8, 10, 12, 14, short convolutions elsewhere.
        SyntheticShape(name: "lfm2-1.2b", config: ModelConfig(
            architecture: "lfm2", hiddenSize: 2048, layerCount: 16, headCount: 32, kvHeadCount: 8, headDim: 64,
            ffnSize: 8192, vocabSize: 65_536, contextLength: 128_000, normEps: 1e-5, ropeTheta: 1_000_000,
            tiedEmbeddings: true, blockKinds: blockKinds(count: 16, attentionAt: [2, 5, 8, 10, 12, 14]),
            convKernelSize: 3)),
        // Qwen's Qwen3 0.6B: 596,049,920 parameters, a 151,936-token vocabulary tied to the head.
        SyntheticShape(name: "qwen3-0.6b", config: ModelConfig(
            architecture: "qwen3", hiddenSize: 1024, layerCount: 28, headCount: 16, kvHeadCount: 8, headDim: 128,
            ffnSize: 3072, vocabSize: 151_936, contextLength: 40_960, normEps: 1e-6, ropeTheta: 1_000_000,
            tiedEmbeddings: true)),
        // Small shapes for tests. FFN 688 = 21.5 · 32 keeps a row length that is not a multiple of 64 in play,
        // and the untied head exercises `lm_head.weight`.
        SyntheticShape(name: "llama-tiny", config: ModelConfig(
            architecture: "llama", hiddenSize: 256, layerCount: 4, headCount: 8, kvHeadCount: 4, headDim: 32,
            ffnSize: 688, vocabSize: 1024, contextLength: 2048, normEps: 1e-5, ropeTheta: 10_000,
            tiedEmbeddings: false)),
        // ~99M parameters, 58 MB packed at 4 bits: more than the end-to-end budget test's 48M budget, so a run
        // within it must stream; small enough to synthesise and pack in seconds.
        SyntheticShape(name: "llama-small", config: ModelConfig(
            architecture: "llama", hiddenSize: 1024, layerCount: 8, headCount: 16, kvHeadCount: 4, headDim: 64,
            ffnSize: 2816, vocabSize: 8192, contextLength: 2048, normEps: 1e-5, ropeTheta: 10_000,
            tiedEmbeddings: true)),
        SyntheticShape(name: "lfm2-tiny", config: ModelConfig(
            architecture: "lfm2", hiddenSize: 256, layerCount: 6, headCount: 8, kvHeadCount: 4, headDim: 32,
            ffnSize: 512, vocabSize: 1024, contextLength: 4096, normEps: 1e-5, ropeTheta: 1_000_000,
            tiedEmbeddings: true, blockKinds: blockKinds(count: 6, attentionAt: [2, 5]), convKernelSize: 3)),
    ]

    /// The shape called `name`.
    /// - Throws: `SynthError.unknownShape` listing the known names.
    public static func named(_ name: String) throws -> SyntheticShape {
        guard let shape = all.first(where: { $0.name == name }) else {
            throw SynthError.unknownShape(name: name, known: all.map(\.name))
        }
        return shape
    }

    private static func blockKinds(count: Int, attentionAt: Set<Int>) -> [BlockKind] {
        (0..<count).map { attentionAt.contains($0) ? .attention : .shortConv }
    }
}
