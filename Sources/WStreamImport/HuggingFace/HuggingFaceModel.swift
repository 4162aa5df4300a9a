#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import WStreamFormat

/// The weights of a Hugging Face model directory (`config.json` and safetensors), in canonical form.
///
/// The tokenizer is read separately (`HFTokenizerFile`), so configuration and weights can be loaded on their own.
public struct HuggingFaceModel: Sendable {
    public var config: ModelConfig
    /// In canonical order (see `TensorName`).
    public var tensors: [any TensorSource]

    /// The configuration `config.json` alone describes (`vocabSize` and `ffnSize` as declared, tying as declared).
    /// - Throws: `ImportError` naming config.json for unsupported architectures or missing keys.
    public static func loadConfig(directory: String) throws -> ModelConfig {
        try loadConfigAndFamily(directory: directory).config
    }

    /// The configuration of `directory/config.json` and the family that reads it.
    private static func loadConfigAndFamily(directory: String) throws -> (config: ModelConfig, family: any CheckpointFamily.Type) {
        let file = try HFConfigFile.load(directory: directory)
        let (family, modelType) = try CheckpointFamilies.family(of: file)
        return (try family.config(from: file, modelType: modelType), family)
    }

    /// Reads `config.json` and maps the safetensors weights (single or sharded); nothing is read until rows are asked for.
    /// - Parameter directory: the model directory.
    /// - Throws: `ImportError` for unsupported architectures or dtypes, missing or unexpected tensors, bad shapes or offsets.
    public init(directory: String) throws {
        var (config, family) = try Self.loadConfigAndFamily(directory: directory)
        let quantization = try MLXQuantizationConfig.load(directory: directory)

        let files = try Self.safetensorsFiles(directory: directory)
        var canonical: [String: any TensorSource] = [:]
        var fileOfTensor: [String: String] = [:]
        var sourceNames: [String: String] = [:]
        var quantizedModules = MLXQuantizedModules()
        for path in files {
            let safetensors = try SafetensorsFile(path: path)
            for entry in safetensors.entries.values {
                if MLXQuantizedModules.isGroupParameter(entry.name) {
                    try quantizedModules.add(entry, in: safetensors.file)
                    continue
                }
                guard let name = family.canonicalName(huggingFace: entry.name, config: config) else {
                    if entry.name.hasSuffix("rotary_emb.inv_freq") { continue }  // recomputed from rope_theta
                    throw ImportError.unexpectedTensor(file: path, tensor: entry.name)
                }
                guard canonical[name] == nil else {
                    throw ImportError.malformed(file: path, detail: "tensor '\(entry.name)' also appears in \(fileOfTensor[name]!)")
                }
                canonical[name] = try MappedTensor(
                    name: name, shape: Self.canonicalShape(entry, canonicalName: name, family: family, file: path), storage: entry.storage,
                    file: safetensors.file, offset: entry.offset)
                fileOfTensor[name] = path
                sourceNames[name] = entry.name
            }
        }
        let weightsDescription = files.count == 1 ? files[0] : directory + "/*.safetensors"
        guard let embedding = canonical[TensorName.tokenEmbedding] else {
            throw ImportError.missingTensor(file: weightsDescription, tensor: family.huggingFaceName(canonical: TensorName.tokenEmbedding))
        }
        if !config.tiedEmbeddings, canonical[TensorName.output] == nil {
            throw ImportError.missingTensor(file: weightsDescription, tensor: family.huggingFaceName(canonical: TensorName.output))
        }
        config.vocabSize = embedding.shape[0]
        try quantizedModules.resolve(&canonical, sourceNames: sourceNames, config: config, quantization: quantization)
        tensors = try CanonicalLayout.assemble(config: &config, tensors: canonical, file: weightsDescription) {
            family.huggingFaceName(canonical: $0)
        }
        self.config = config
    }

    /// `model.safetensors`, or the shards `model.safetensors.index.json` lists.
    private static func safetensorsFiles(directory: String) throws -> [String] {
        let indexPath = directory + "/model.safetensors.index.json"
        if access(indexPath, F_OK) == 0 {
            let index = try MappedFile(path: indexPath)
            struct Index: Decodable { let weight_map: [String: String] }
            let decoded: Index
            do {
                decoded = try JSONDecoder().decode(Index.self, from: Data(index.bytes))
            } catch {
                throw ImportError.malformed(file: indexPath, detail: "\(error)")
            }
            let shards = Set(decoded.weight_map.values).sorted()
            guard !shards.isEmpty, shards.allSatisfy({ !$0.contains("/") }) else {
                throw ImportError.malformed(file: indexPath, detail: "weight_map names shards \(shards)")
            }
            return shards.map { directory + "/" + $0 }
        }
        let single = directory + "/model.safetensors"
        guard access(single, F_OK) == 0 else {
            throw ImportError.unrecognizedFormat(file: directory, detail: "no model.safetensors or model.safetensors.index.json")
        }
        return [single]
    }

    /// The source shape, as the family maps it (e.g. a depthwise convolution's `[hidden, 1, kernel]` to `[hidden, kernel]`).
    private static func canonicalShape(
        _ entry: SafetensorsFile.Entry, canonicalName: String, family: any CheckpointFamily.Type, file: String
    ) throws -> [Int] {
        var shape = entry.shape
        if let dot = canonicalName.dropFirst("blk.".count).firstIndex(of: "."), canonicalName.hasPrefix("blk."),
           let part = BlockTensor(rawValue: String(canonicalName[canonicalName.index(after: dot)...])) {
            shape = family.canonicalShape(part, huggingFaceShape: shape)
        }
        guard shape.count == 1 || shape.count == 2 else {
            throw ImportError.unsupported(file: file, detail: "tensor '\(entry.name)' has shape \(entry.shape)")
        }
        return shape
    }
}
