import FoundationEssentials
import WStreamFormat

/// A Hugging Face `config.json`, read as plain JSON so that each family reads the keys it knows
/// (`CheckpointFamily.config(from:)`); the keys most transformers share are read by `standardConfig`.
struct HFConfigFile {
    /// The file, for error messages.
    let path: String
    let values: [String: JSONValue]

    /// Reads and decodes `directory/config.json`.
    /// - Throws: `ImportError` naming the file when it is missing or is not a JSON object.
    static func load(directory: String) throws -> HFConfigFile {
        let path = directory + "/config.json"
        let file = try MappedFile(path: path)
        do {
            let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(file.bytes))
            guard let values = decoded.object else { throw ImportError.malformed(file: path, detail: "not a JSON object") }
            return HFConfigFile(path: path, values: values)
        } catch let error as ImportError {
            throw error
        } catch {
            throw ImportError.malformed(file: path, detail: "\(error)")
        }
    }

    /// The value of `key` read by `read`, or nil when the key is absent or null.
    /// - Throws: `ImportError.missingMetadata` when the key is present with another type.
    func optional<T>(_ key: String, _ read: (JSONValue) -> T?) throws -> T? {
        guard let value = values[key], value != .null else { return nil }
        guard let typed = read(value) else { throw ImportError.missingMetadata(file: path, key: key) }
        return typed
    }

    /// The value of `key` read by `read`.
    /// - Throws: `ImportError.missingMetadata` when it is absent or has another type.
    func required<T>(_ key: String, _ read: (JSONValue) -> T?) throws -> T {
        guard let value = try optional(key, read) else { throw ImportError.missingMetadata(file: path, key: key) }
        return value
    }

    /// The configuration described by the keys most transformers share (`hidden_size`, `num_hidden_layers`,
    /// `num_attention_heads`, `num_key_value_heads`, `head_dim`, `intermediate_size`, `vocab_size`,
    /// `max_position_embeddings`, `rope_theta` or `rope_parameters`, `rope_scaling`, `tie_word_embeddings`), with
    /// every block an attention block.
    /// - Parameter epsilonKey: where the family keeps RMSNorm's epsilon.
    func standardConfig(architecture: Architecture, epsilonKey: String = "rms_norm_eps") throws -> ModelConfig {
        let hidden = try required("hidden_size", \.int)
        let layerCount = try required("num_hidden_layers", \.int)
        let headCount = try required("num_attention_heads", \.int)
        guard hidden > 0, layerCount > 0, headCount > 0, layerCount <= 4096 else {
            throw ImportError.malformed(file: path, detail: "hidden_size \(hidden), num_hidden_layers \(layerCount), num_attention_heads \(headCount)")
        }
        let headDim = try optional("head_dim", \.int) ?? hidden / headCount
        let ropeParameters = try optional("rope_parameters", \.object)
        let theta = try optional("rope_theta", \.double) ?? ropeParameters?["rope_theta"]?.double ?? 10_000
        let scaling = try optional("rope_scaling", \.object) ?? ropeParameters
        return ModelConfig(
            architecture: architecture, hiddenSize: hidden, layerCount: layerCount, headCount: headCount,
            kvHeadCount: try optional("num_key_value_heads", \.int) ?? headCount, headDim: headDim,
            ffnSize: try optional("intermediate_size", \.int) ?? 0, vocabSize: try required("vocab_size", \.int),
            contextLength: try required("max_position_embeddings", \.int),
            normEps: Float(try required(epsilonKey, \.double)), ropeTheta: Float(theta),
            tiedEmbeddings: try optional("tie_word_embeddings", \.bool) ?? false,
            ropeFrequencyFactors: try scaling.flatMap { try RopeScaling(values: $0).frequencyFactors(headDim: headDim, theta: theta, file: path) })
    }
}
