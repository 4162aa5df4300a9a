import WStreamImport

/// The Hugging Face importer's configuration and weights: an input is `config.json`, a NUL byte, then
/// `model.safetensors` (8-byte header length, JSON header, tensor bytes).
///
/// Both files are written to a scratch folder beside a fixed, valid tokenizer.json, which is imported as `wstream
/// pack` imports a model folder (the family and configuration from config.json, MLX's quantization block, the
/// safetensors header, each tensor's name, dtype, shape and bounds, MLX's codes, scales and biases); then the first
/// and last row of every tensor are converted (to float32 and to affine groups), and a small model is packed and
/// its `.wst` file verified. Without a NUL the whole input is config.json and model.safetensors is empty.
public final class SafetensorsTarget: FuzzTarget {
    public static let name = "safetensors"
    private let scratch: ScratchFolder

    /// - Throws: `FuzzingError.scratch` when the scratch folder cannot be made.
    public init() throws {
        scratch = try ScratchFolder()
        try Array(TokenizerTarget.tokenizerJSON(TinyCheckpoint.byteLevelTokenizer()).utf8).withUnsafeBytes {
            _ = try scratch.write($0, as: "tokenizer.json")
        }
    }

    public func run(_ input: UnsafeRawBufferPointer) throws {
        let parts = InputParts(input)
        try scratch.write(parts.first, as: "config.json")
        try scratch.write(parts.rest ?? UnsafeRawBufferPointer(start: nil, count: 0), as: "model.safetensors")
        let model = try ModelImporter.importModel(at: scratch.path)
        try TensorEdges.read(model.tensors)
        try PackedRoundTrip.run(model, to: scratch.file("model.wst"))
    }

    public func seeds(sharedModels: String?) throws -> [FuzzSeed] {
        var seeds: [FuzzSeed] = []
        let checkpoints: [(String, TinyCheckpoint)] = [("llama", .llama()), ("llama-tied", .llama(tied: true)), ("qwen3", .qwen3()), ("lfm2", .lfm2())]
        for (name, checkpoint) in checkpoints {
            for dtype in ["F32", "BF16", "F16"] where dtype == "BF16" || name == "llama" {
                let folder = try HuggingFaceSeedWriter.folder(checkpoint, weights: .float(dtype: dtype))
                seeds.append(FuzzSeed(name: "\(name)-\(dtype.lowercased())", bytes: InputParts.join(folder.config, folder.safetensors)))
            }
            let mlx = try HuggingFaceSeedWriter.folder(checkpoint, weights: .mlx4)
            seeds.append(FuzzSeed(name: "\(name)-mlx4", bytes: InputParts.join(mlx.config, mlx.safetensors)))
        }
        if let sharedModels {
            for folder in ["stories260K/hf", "stories260K-mlx4"] {
                let bytes = InputParts.join(
                    try InputFiles.read(folder + "/config.json", in: sharedModels),
                    try InputFiles.read(folder + "/model.safetensors", in: sharedModels))
                seeds.append(FuzzSeed(name: "shared-" + folder.replacing("/", with: "-"), bytes: bytes))
            }
        }
        return seeds
    }
}
