import WStreamImport
import WStreamTokenizer

/// The GGUF importer: an input is a whole `.gguf` file.
///
/// It is written to a scratch file and imported as `wstream pack` imports one (header, metadata, tensor directory,
/// the family's configuration and tensor layout, the tokenizer); then the first and last row of every tensor are
/// converted (to float32 and to affine groups), the tokenizer is built and used, and a small model is packed and
/// its `.wst` file verified.
public final class GGUFTarget: FuzzTarget {
    public static let name = "gguf"
    private let scratch: ScratchFolder

    /// - Throws: `FuzzingError.scratch` when the scratch folder cannot be made.
    public init() throws {
        scratch = try ScratchFolder()
    }

    public func run(_ input: UnsafeRawBufferPointer) throws {
        let path = try scratch.write(input, as: "model.gguf")
        let model = try ModelImporter.importModel(at: path)
        try TensorEdges.read(model.tensors)
        TokenizerExercise.run(try Tokenizer(spec: model.tokenizer))
        try PackedRoundTrip.run(model, to: scratch.file("model.wst"))
    }

    public func seeds(sharedModels: String?) throws -> [FuzzSeed] {
        typealias Type = GGUFSeedWriter.TensorType
        var seeds: [FuzzSeed] = []
        for type in [Type.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .iq4_nl] {
            seeds.append(FuzzSeed(name: "llama-\(type)", bytes: GGUFSeedWriter.gguf(.llama(), matrixType: type)))
        }
        for type in [Type.q2_K, .q3_K, .q4_K, .q5_K, .q6_K] {
            seeds.append(FuzzSeed(name: "llama-\(type)", bytes: GGUFSeedWriter.gguf(.llama(hidden: 256), matrixType: type, fallback: .q8_0)))
        }
        seeds.append(FuzzSeed(
            name: "llama-rope-factors", bytes: GGUFSeedWriter.gguf(.llama(tied: true), matrixType: .f16, ropeFactors: (0..<8).map { 1 + Float($0) })))
        seeds.append(FuzzSeed(name: "qwen3-f16", bytes: GGUFSeedWriter.gguf(.qwen3(), matrixType: .f16)))
        seeds.append(FuzzSeed(name: "qwen3-q8_0", bytes: GGUFSeedWriter.gguf(.qwen3(), matrixType: .q8_0)))
        seeds.append(FuzzSeed(name: "lfm2-f32", bytes: GGUFSeedWriter.gguf(.lfm2(), matrixType: .f32)))
        seeds.append(FuzzSeed(name: "lfm2-q4_0", bytes: GGUFSeedWriter.gguf(.lfm2(), matrixType: .q4_0)))
        if let sharedModels {
            seeds.append(FuzzSeed(name: "shared-stories260K", bytes: try InputFiles.read("stories260K/stories260K.gguf", in: sharedModels)))
            for name in try InputFiles.names(in: sharedModels + "/tiny-kquant", endingIn: ".gguf") where !name.hasSuffix("f32.gguf") {
                let type = name.dropFirst("tiny-kquant-".count).dropLast(".gguf".count)
                seeds.append(FuzzSeed(name: "shared-kquant-\(type)", bytes: try InputFiles.read("tiny-kquant/" + name, in: sharedModels)))
            }
        }
        return seeds
    }
}
