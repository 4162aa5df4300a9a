import WStreamFormat

/// The `<module>.scales` and `<module>.biases` tensors of an MLX folder, and the quantized weights they make of
/// `<module>.weight`.
///
/// As in mlx_lm's loader, a module is quantized exactly when `<module>.scales` exists; config.json's
/// `quantization` block is only checked against what the tensors say (see `MLXQuantizedTensor`).
struct MLXQuantizedModules {
    /// Group parameters by their name in the file.
    private var parameters: [String: MappedTensor] = [:]

    /// True for the names MLX gives group parameters.
    static func isGroupParameter(_ name: String) -> Bool { name.hasSuffix(".scales") || name.hasSuffix(".biases") }

    /// Keeps a `.scales` or `.biases` tensor until its module's weight is resolved.
    /// - Throws: `ImportError.malformed` when the name appears in two shards or the tensor is not a matrix.
    mutating func add(_ entry: SafetensorsFile.Entry, in file: MappedFile) throws {
        guard parameters[entry.name] == nil else {
            throw ImportError.malformed(file: file.path, detail: "tensor '\(entry.name)' appears in two shards")
        }
        guard entry.shape.count == 2 else {
            throw ImportError.malformed(file: file.path, detail: "tensor '\(entry.name)' has shape \(entry.shape); group parameters are [rows, groups]")
        }
        parameters[entry.name] = try MappedTensor(name: entry.name, shape: entry.shape, storage: entry.storage, file: file, offset: entry.offset)
    }

    /// Turns every weight that has group parameters into an `MLXQuantizedTensor` of the shape `config` implies.
    /// - Parameters:
    ///   - tensors: canonical tensors read so far; quantized weights are replaced.
    ///   - sourceNames: each canonical tensor's name in the file.
    ///   - config: the model's configuration, whose shapes give each matrix's input width.
    ///   - quantization: config.json's quantization block, if any.
    /// - Throws: `ImportError.malformed` naming the file and tensor for codes without scales, scales without biases or
    ///   weight, shapes that are not whole groups, or disagreement with config.json.
    mutating func resolve(
        _ tensors: inout [String: any TensorSource], sourceNames: [String: String], config: ModelConfig,
        quantization: MLXQuantizationConfig?
    ) throws {
        let shapes = Dictionary(try CanonicalLayout.expectedShapes(of: config).map { ($0.name, $0.shape) }) { first, _ in first }
        for (name, tensor) in tensors {
            guard let weight = tensor as? MappedTensor, let sourceName = sourceNames[name], sourceName.hasSuffix(".weight") else { continue }
            let module = String(sourceName.dropLast(".weight".count))
            let declared = quantization?.entry(forModule: module)
            guard let scales = parameters.removeValue(forKey: module + ".scales") else {
                if weight.storage == .u32 {
                    throw ImportError.malformed(
                        file: weight.file.path, detail: "tensor '\(sourceName)' holds uint32 codes but '\(module).scales' is missing")
                }
                if quantization?.modules[module] != nil, case .quantized = declared {
                    throw ImportError.malformed(
                        file: weight.file.path, detail: "config.json quantizes module '\(module)', but '\(module).scales' is missing")
                }
                continue
            }
            guard let biases = parameters.removeValue(forKey: module + ".biases") else {
                throw ImportError.malformed(
                    file: scales.file.path, detail: "tensor '\(module).scales' has no '\(module).biases' (only affine quantization is read)")
            }
            guard let shape = shapes[name] else {
                throw ImportError.unexpectedTensor(file: weight.file.path, tensor: sourceName)
            }
            tensors[name] = try MLXQuantizedTensor(
                name: name, shape: shape, codes: weight, scales: scales, biases: biases, declared: declared, sourceName: sourceName)
        }
        if let stray = parameters.keys.sorted().first, let tensor = parameters[stray] {
            throw ImportError.malformed(file: tensor.file.path, detail: "tensor '\(stray)' belongs to no quantized weight")
        }
    }
}
