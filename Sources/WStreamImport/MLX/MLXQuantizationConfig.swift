import FoundationEssentials

/// The `quantization` block mlx_lm writes into config.json (or, failing that, `quantization_config`):
/// global `group_size`, `bits` and `mode`, and optionally per-module entries keyed by module path, each either
/// an object with its own `group_size`/`bits`/`mode` (`null` meaning the global value) or `false` (not quantized).
///
/// mlx_lm's loader quantizes a module exactly when its `<module>.scales` tensor exists (unless a per-module entry
/// says otherwise), so the tensors decide; this block is what they are checked against.
struct MLXQuantizationConfig: Sendable {
    struct Parameters: Sendable, Equatable {
        let groupSize: Int
        let bits: Int
        let mode: String
    }

    /// A module's entry: its own parameters, or `false`.
    enum Entry: Sendable, Equatable {
        case quantized(Parameters)
        case unquantized
    }

    /// The global parameters; nil when the block gives none (then every module must have its own entry).
    let global: Parameters?
    /// Per-module entries by module path (e.g. `model.layers.2.mlp.down_proj`).
    let modules: [String: Entry]

    /// The parameters config.json gives module `path`: its own entry, else the global block.
    func entry(forModule path: String) -> Entry? {
        if let own = modules[path] { return own }
        return global.map { .quantized($0) }
    }

    /// Reads `directory/config.json`'s `quantization` (or `quantization_config`) block.
    /// - Returns: nil when config.json has neither key.
    /// - Throws: `ImportError.malformed` for an unreadable block, `.unsupported` for a non-MLX quantization method
    ///   (GPTQ, AWQ, bitsandbytes…) or a mode other than `affine`.
    static func load(directory: String) throws -> MLXQuantizationConfig? {
        let path = directory + "/config.json"
        let file = try MappedFile(path: path)
        let keys: Keys
        do {
            keys = try JSONDecoder().decode(Keys.self, from: Data(file.bytes))
        } catch {
            throw ImportError.malformed(file: path, detail: "quantization block: \(error)")
        }
        guard let block = keys.quantization ?? keys.quantization_config else { return nil }
        if let method = block.quantMethod {
            throw ImportError.unsupported(
                file: path, detail: "quantization_config quant_method '\(method)'; wstream reads MLX affine quantization (or GGUF files)")
        }
        let global: Parameters?
        if let groupSize = block.groupSize, let bits = block.bits {
            global = Parameters(groupSize: groupSize, bits: bits, mode: block.mode ?? "affine")
        } else {
            global = nil
        }
        var modules: [String: Entry] = [:]
        for (module, raw) in block.modules {
            switch raw {
            case .unquantized:
                modules[module] = .unquantized
            case .parameters(let groupSize, let bits, let mode):
                guard let groupSize = groupSize ?? global?.groupSize, let bits = bits ?? global?.bits else {
                    throw ImportError.malformed(
                        file: path, detail: "quantization entry '\(module)' leaves group_size or bits null and there is no global value")
                }
                modules[module] = .quantized(Parameters(groupSize: groupSize, bits: bits, mode: mode ?? global?.mode ?? "affine"))
            }
        }
        let config = MLXQuantizationConfig(global: global, modules: modules)
        let modes = Set(([global] + modules.values.map { entry -> Parameters? in
            if case .quantized(let parameters) = entry { return parameters }
            return nil
        }).compactMap { $0?.mode })
        if let other = modes.sorted().first(where: { $0 != "affine" }) {
            throw ImportError.unsupported(
                file: path, detail: "MLX quantization mode '\(other)' (only 'affine', with scales and biases, is read)")
        }
        return config
    }

    /// The two keys of config.json this type reads.
    private struct Keys: Decodable {
        let quantization: Block?
        let quantization_config: Block?
    }

    /// One quantization block: known keys, and every other key as a module entry.
    private struct Block: Decodable {
        enum RawEntry {
            case unquantized
            case parameters(groupSize: Int?, bits: Int?, mode: String?)
        }

        struct Key: CodingKey {
            let stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }

        private struct ModuleParameters: Decodable {
            let group_size: Int?
            let bits: Int?
            let mode: String?
        }

        let groupSize: Int?
        let bits: Int?
        let mode: String?
        let quantMethod: String?
        let modules: [String: RawEntry]

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            groupSize = try container.decodeIfPresent(Int.self, forKey: Key(stringValue: "group_size"))
            bits = try container.decodeIfPresent(Int.self, forKey: Key(stringValue: "bits"))
            mode = try container.decodeIfPresent(String.self, forKey: Key(stringValue: "mode"))
            quantMethod = try container.decodeIfPresent(String.self, forKey: Key(stringValue: "quant_method"))
            var modules: [String: RawEntry] = [:]
            for key in container.allKeys where !["group_size", "bits", "mode", "quant_method"].contains(key.stringValue) {
                // Other quantizers' blocks hold flags and strings; only MLX's module entries are objects or `false`.
                if quantMethod != nil { continue }
                if let flag = try? container.decode(Bool.self, forKey: key) {
                    guard !flag else {
                        throw DecodingError.dataCorruptedError(
                            forKey: key, in: container, debugDescription: "a module entry is an object or false, not true")
                    }
                    modules[key.stringValue] = .unquantized
                } else {
                    let entry = try container.decode(ModuleParameters.self, forKey: key)
                    modules[key.stringValue] = .parameters(groupSize: entry.group_size, bits: entry.bits, mode: entry.mode)
                }
            }
            self.modules = modules
        }
    }
}
