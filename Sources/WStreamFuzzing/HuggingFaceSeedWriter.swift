import WStreamFormat
import WStreamImport
import WStreamQuant

/// Writes a `TinyCheckpoint` as a Hugging Face model folder's `config.json` and `model.safetensors`, under the
/// family's own names and shapes, in a float dtype or as an MLX 4-bit folder (codes, scales and biases).
enum HuggingFaceSeedWriter {
    enum Weights {
        case float(dtype: String)
        /// MLX affine 4-bit groups of 32 for every matrix whose width allows, bfloat16 for the rest.
        case mlx4
    }

    /// - Returns: the two files' bytes.
    /// - Throws: `ImportError.unsupportedArchitecture` for a family this build does not know.
    static func folder(_ checkpoint: TinyCheckpoint, weights: Weights) throws -> (config: [UInt8], safetensors: [UInt8]) {
        let spelling = try HuggingFaceSpelling(architecture: checkpoint.config.architecture)
        var members = spelling.configMembers(checkpoint.config)
        members += [("vocab_size", "\(checkpoint.config.vocabSize)"), ("max_position_embeddings", "\(checkpoint.config.contextLength)")]
        if case .mlx4 = weights { members.append(("quantization", "{\"group_size\": 32, \"bits\": 4}")) }
        let config = "{\n" + members.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}\n"

        var entries: [(name: String, dtype: String, shape: [Int], data: [UInt8])] = []
        for tensor in checkpoint.tensors {
            let name = spelling.tensorName(tensor.name)
            let values = checkpoint.values(of: tensor, seed: 2)
            if case .mlx4 = weights, tensor.isMatrix, tensor.cols % 32 == 0 {
                let module = String(name.dropLast(".weight".count))
                var random = SplitMix64(seed: UInt64(values.count))
                let groups = tensor.rows * tensor.cols / 32
                entries.append((name, "U32", [tensor.rows, tensor.cols / 8], random.bytes(tensor.rows * tensor.cols / 2)))
                entries.append((module + ".scales", "BF16", [tensor.rows, tensor.cols / 32], bfloat16((0..<groups).map { _ in random.unit() / 16 })))
                entries.append((module + ".biases", "BF16", [tensor.rows, tensor.cols / 32], bfloat16((0..<groups).map { _ in random.unit() / 2 })))
                continue
            }
            let dtype: String
            if case .float(let chosen) = weights { dtype = chosen } else { dtype = "BF16" }
            let data: [UInt8] = switch dtype {
            case "F32": values.flatMap { littleEndian($0.bitPattern) }
            case "F16": values.flatMap { littleEndian(Float16($0).bitPattern) }
            default: bfloat16(values)
            }
            entries.append((name, dtype, spelling.storedShape(tensor.name, canonicalShape: tensor.shape), data))
        }
        var header = "{\"__metadata__\":{\"format\":\"\(weights.isMLX ? "mlx" : "pt")\"}"
        var offset = 0
        for entry in entries {
            header += ",\"\(entry.name)\":{\"dtype\":\"\(entry.dtype)\",\"shape\":\(entry.shape),\"data_offsets\":[\(offset),\(offset + entry.data.count)]}"
            offset += entry.data.count
        }
        header += "}"
        var safetensors = littleEndian(UInt64(header.utf8.count)) + Array(header.utf8)
        for entry in entries { safetensors += entry.data }
        return (Array(config.utf8), safetensors)
    }

    private static func bfloat16(_ values: [Float]) -> [UInt8] { values.flatMap { littleEndian(UInt16($0.bitPattern >> 16)) } }

    private static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

extension HuggingFaceSeedWriter.Weights {
    var isMLX: Bool { if case .mlx4 = self { true } else { false } }
}
