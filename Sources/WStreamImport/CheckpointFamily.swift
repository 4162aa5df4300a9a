import WStreamFormat

/// How one model family's checkpoints spell their configuration and tensors, in both directions: Hugging Face
/// `config.json` keys and safetensors names, GGUF metadata keys and tensor names, against wstream's canonical
/// `ModelConfig` and `TensorName`s.
///
/// Each family is one file in `Families/`, named after its type; the build registers every file there
/// (`Plugins/FamilyRegistry`), so supporting a family's checkpoints is adding that file. Its forward pass is
/// the file of the same family in `WStreamModel/Families`.
protocol CheckpointFamily: SendableMetatype {
    /// The family's name in `ModelConfig.architecture`.
    static var architecture: Architecture { get }
    /// config.json `model_type` values this family reads.
    static var huggingFaceModelTypes: [String] { get }
    /// config.json `architectures` class names (used when `model_type` is absent), with their `model_type`.
    static var huggingFaceClasses: [String: String] { get }
    /// GGUF `general.architecture` values this family reads.
    static var ggufArchitectures: [String] { get }

    /// The configuration config.json describes (`vocabSize` and `ffnSize` are checked against the tensors later).
    static func config(from file: HFConfigFile, modelType: String) throws -> ModelConfig
    /// The configuration GGUF metadata under `prefix` (the file's `general.architecture`) describes.
    static func config(from gguf: GGUFFile, prefix: String) throws -> ModelConfig

    /// The canonical tensors one block of `kind` holds, in the order they are stored.
    static func blockTensors(_ kind: BlockKind, config: ModelConfig) -> [BlockTensor]
    /// A block tensor's Hugging Face name after `model.layers.N.`.
    static func huggingFaceName(_ part: BlockTensor) -> String
    /// Hugging Face names of the tensors outside the blocks, by canonical name.
    static var huggingFaceGlobalNames: [String: String] { get }
    /// The canonical shape of a Hugging Face tensor whose stored shape differs (a convolution's `[out, 1, kernel]`).
    static func canonicalShape(_ part: BlockTensor, huggingFaceShape: [Int]) -> [Int]
    /// The shape Hugging Face stores a canonical tensor in: the inverse of `canonicalShape`.
    static func huggingFaceShape(_ part: BlockTensor, canonicalShape: [Int]) -> [Int]
    /// GGUF names that differ from the canonical ones (usually none), by GGUF name.
    static var ggufRenames: [String: String] { get }
    /// llama.cpp's converter stores this family's Q and K rows interleaved for adjacent-pair RoPE.
    static var ggufPermutesQueryKeyRows: Bool { get }

    /// `config.json` members (key, JSON text) describing `config`: the inverse of `config(from:modelType:)`,
    /// for synthetic models.
    static func huggingFaceConfigMembers(_ config: ModelConfig) -> [(String, String)]
}

extension CheckpointFamily {
    static func canonicalShape(_ part: BlockTensor, huggingFaceShape: [Int]) -> [Int] { huggingFaceShape }
    static func huggingFaceShape(_ part: BlockTensor, canonicalShape: [Int]) -> [Int] { canonicalShape }
    static var ggufRenames: [String: String] { [:] }
    static var huggingFaceClasses: [String: String] { [:] }
}

/// Finding the family of a checkpoint, and the names of its tensors.
enum CheckpointFamilies {
    /// Every family this build reads (generated from `Families/`).
    static var all: [any CheckpointFamily.Type] { registeredCheckpointFamilies }

    /// The family whose `ModelConfig.architecture` is `architecture`.
    /// - Throws: `ImportError.unsupportedArchitecture` listing the known families.
    static func family(of architecture: Architecture, file: String) throws -> any CheckpointFamily.Type {
        guard let family = all.first(where: { $0.architecture == architecture }) else {
            throw ImportError.unsupportedArchitecture(file: file, found: architecture.rawValue, supported: all.map { $0.architecture.rawValue }.sorted())
        }
        return family
    }

    /// The family and `model_type` of a config.json (`architectures` decides when `model_type` is absent).
    static func family(of file: HFConfigFile) throws -> (family: any CheckpointFamily.Type, modelType: String) {
        let supported = all.flatMap { $0.huggingFaceModelTypes + $0.huggingFaceClasses.keys }.sorted()
        if let modelType = try file.optional("model_type", \.string) {
            guard let family = all.first(where: { $0.huggingFaceModelTypes.contains(modelType) }) else {
                throw ImportError.unsupportedArchitecture(file: file.path, found: "model_type \(modelType)", supported: supported)
            }
            return (family, modelType)
        }
        guard let name = try file.optional("architectures", \.array)?.first?.string else {
            throw ImportError.missingMetadata(file: file.path, key: "model_type")
        }
        for family in all {
            if let modelType = family.huggingFaceClasses[name] { return (family, modelType) }
        }
        throw ImportError.unsupportedArchitecture(file: file.path, found: "architectures \(name)", supported: supported)
    }

    /// The family of a GGUF `general.architecture` value.
    static func family(ofGGUF name: String, file: String) throws -> any CheckpointFamily.Type {
        guard let family = all.first(where: { $0.ggufArchitectures.contains(name) }) else {
            throw ImportError.unsupportedArchitecture(file: file, found: name, supported: all.flatMap { $0.ggufArchitectures }.sorted())
        }
        return family
    }
}

extension CheckpointFamily {
    /// The canonical name of a Hugging Face tensor of this family, or nil when it has none.
    static func canonicalName(huggingFace name: String, config: ModelConfig) -> String? {
        if let global = huggingFaceGlobalNames.first(where: { $0.value == name }) { return global.key }
        let prefix = "model.layers."
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]), layer >= 0, layer < config.layerCount else { return nil }
        let suffix = rest[rest.index(after: dot)...]
        guard let part = blockTensors(config.blockKinds[layer], config: config).first(where: { huggingFaceName($0) == suffix }) else {
            return nil
        }
        return TensorName.block(layer, part)
    }

    /// The Hugging Face name of a canonical tensor (for error messages, and for writing Hugging Face files).
    static func huggingFaceName(canonical: String) -> String {
        if let global = huggingFaceGlobalNames[canonical] { return global }
        let prefix = "blk."
        guard canonical.hasPrefix(prefix) else { return canonical }
        let rest = canonical.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), let part = BlockTensor(rawValue: String(rest[rest.index(after: dot)...])) else {
            return canonical
        }
        return "model.layers.\(rest[..<dot]).\(huggingFaceName(part))"
    }

    /// The canonical name of a GGUF tensor of this family.
    static func canonicalName(gguf name: String) -> String { ggufRenames[name] ?? name }

    /// The GGUF name of a canonical tensor.
    static func ggufName(canonical: String) -> String { ggufRenames.first { $0.value == canonical }?.key ?? canonical }

    /// The Hugging Face names of the tensors every model of this family has outside its blocks.
    static var standardGlobalNames: [String: String] {
        [TensorName.tokenEmbedding: "model.embed_tokens.weight", TensorName.outputNorm: "model.norm.weight", TensorName.output: "lm_head.weight"]
    }
}

/// How a Hugging Face checkpoint of one family spells its configuration and tensors, for code outside the importer
/// that writes or compares such checkpoints (`WStreamSynth`, tests).
public struct HuggingFaceSpelling: Sendable {
    private let family: any CheckpointFamily.Type

    /// The spelling of `architecture`'s checkpoints.
    /// - Throws: `ImportError.unsupportedArchitecture` when no family of this build is called so.
    public init(architecture: Architecture) throws {
        family = try CheckpointFamilies.family(of: architecture, file: "configuration")
    }

    /// `config.json` members (key, JSON text) describing `config`.
    public func configMembers(_ config: ModelConfig) -> [(String, String)] { family.huggingFaceConfigMembers(config) }

    /// The Hugging Face name of canonical tensor `name`.
    public func tensorName(_ name: String) -> String { family.huggingFaceName(canonical: name) }

    /// The canonical name of Hugging Face tensor `name` in a model of `config`, or nil when it has none.
    public func canonicalName(_ name: String, config: ModelConfig) -> String? { family.canonicalName(huggingFace: name, config: config) }

    /// The shape Hugging Face stores canonical tensor `name` in.
    public func storedShape(_ name: String, canonicalShape shape: [Int]) -> [Int] {
        guard name.hasPrefix("blk."), let dot = name.dropFirst(4).firstIndex(of: "."),
              let part = BlockTensor(rawValue: String(name[name.index(after: dot)...])) else { return shape }
        return family.huggingFaceShape(part, canonicalShape: shape)
    }
}
