#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import WStreamImport

/// Truncated or inconsistent quantized tensors, MLX and GGUF, end in an `ImportError` naming the file and the tensor.
@Suite struct DamagedQuantizedInputTests {
    let directory = TemporaryDirectory("wstream-damaged-quantized")
    static let query = "model.layers.0.self_attn.q_proj"

    /// A copy of stories260K-mlx4 (one shard, no index) with `edit` applied to its tensors and `config` to config.json.
    private func mlxFolder(_ edit: (inout SafetensorsEdit) -> Void = { _ in }, config: (String) -> String = { $0 }) throws -> String {
        let source = try SharedModels.path("stories260K-mlx4")
        for name in ["tokenizer.json", "tokenizer_config.json"] {
            try FileContents.write(try FileContents.read(source + "/" + name), to: directory.file(name))
        }
        let json = String(decoding: try FileContents.read(source + "/config.json"), as: UTF8.self)
        try FileContents.write(Array(config(json).utf8), to: directory.file("config.json"))
        var weights = try SafetensorsEdit(path: source + "/model.safetensors")
        edit(&weights)
        try weights.write(to: directory.file("model.safetensors"))
        return directory.path
    }

    /// The import error for `folder`, which must be `.malformed` naming the weights file and containing `words`.
    private func malformed(_ folder: String, file: String = "model.safetensors", mentioning words: [String]) throws {
        let error = try #require(throws: ImportError.self) { try ModelImporter.importModel(at: folder) }
        guard case .malformed(let path, let detail) = error else { Issue.record("\(error)"); return }
        #expect(path == directory.file(file))
        for word in words { #expect(detail.contains(word), "“\(detail)” does not mention \(word)") }
    }

    @Test func mlxScalesOfTheWrongShapeAreNamed() throws {
        let folder = try mlxFolder { weights in
            for part in ["scales", "biases"] {
                weights.tensors["\(Self.query).\(part)"]!.shape = [64, 3]
                weights.tensors["\(Self.query).\(part)"]!.bytes = [UInt8](repeating: 0, count: 64 * 3 * 2)
            }
        }
        try malformed(folder, mentioning: ["\(Self.query).weight", "scales", "[64, 3]"])
    }

    @Test func mlxCodesThatAreNoWholeBitWidthAreNamed() throws {
        let folder = try mlxFolder { weights in
            // 7 words of 32 bits for 64 columns: 3.5 bits per code.
            weights.tensors["\(Self.query).weight"]!.shape = [64, 7]
            weights.tensors["\(Self.query).weight"]!.bytes = [UInt8](repeating: 0, count: 64 * 7 * 4)
        }
        try malformed(folder, mentioning: ["\(Self.query).weight", "7 words"])
    }

    @Test func mlxCodesThatDisagreeWithConfigAreNamed() throws {
        let folder = try mlxFolder(config: { $0.replacing("\"bits\": 4", with: "\"bits\": 8") })
        try malformed(folder, mentioning: ["config.json declares 8 bits", "4 bits"])
    }

    @Test func mlxCodesWithoutScalesAreNamed() throws {
        let folder = try mlxFolder { weights in
            weights.tensors["\(Self.query).scales"] = nil
            weights.tensors["\(Self.query).biases"] = nil
        }
        try malformed(folder, mentioning: ["\(Self.query).weight", "uint32", "\(Self.query).scales"])
    }

    @Test func mlxScalesWithoutBiasesAreNamed() throws {
        let folder = try mlxFolder { $0.tensors["\(Self.query).biases"] = nil }
        try malformed(folder, mentioning: ["\(Self.query).scales", "biases"])
    }

    @Test func mlxModuleMarkedUnquantizedThatHasScalesIsNamed() throws {
        let folder = try mlxFolder(config: {
            $0.replacing("\"mode\": \"affine\"\n    },", with: "\"mode\": \"affine\", \"\(Self.query)\": false\n    },")
        })
        try malformed(folder, mentioning: ["\(Self.query).weight", "false"])
    }

    @Test func perModuleOverridesAreCheckedAgainstTheTensors() throws {
        // mixed_3_6-style entry: null group size means the global one; 6 bits disagrees with the stored 4.
        let folder = try mlxFolder(config: {
            $0.replacing(
                "\"mode\": \"affine\"\n    },",
                with: "\"mode\": \"affine\", \"\(Self.query)\": {\"group_size\": null, \"bits\": 6, \"mode\": \"affine\"}\n    },")
        })
        try malformed(folder, mentioning: ["\(Self.query).weight", "declares 6 bits in groups of 32"])
    }

    @Test func otherQuantizersAreRefusedByName() throws {
        let folder = try mlxFolder(config: {
            $0.replacing("\"quantization\": {", with: "\"quantization\": {\"quant_method\": \"gptq\", \"desc_act\": false,")
        })
        let error = try #require(throws: ImportError.self) { try ModelImporter.importModel(at: folder) }
        guard case .unsupported(let file, let detail) = error else { Issue.record("\(error)"); return }
        #expect(file == directory.file("config.json") && detail.contains("gptq"))
    }

    @Test func truncatedMLXWeightsAreNamed() throws {
        let folder = try mlxFolder()
        let bytes = try FileContents.read(directory.file("model.safetensors"))
        try FileContents.write(Array(bytes.prefix(bytes.count - 1000)), to: directory.file("model.safetensors"))
        let error = try #require(throws: ImportError.self) { try ModelImporter.importModel(at: folder) }
        guard case .tensorOutOfBounds(let file, let tensor, _, _, _) = error else { Issue.record("\(error)"); return }
        #expect(file == directory.file("model.safetensors") && !tensor.isEmpty)
    }

    @Test func kQuantRowsThatAreNoWholeSuperBlocksAreNamed() throws {
        let path = directory.file("q4k.gguf")
        // Rows of 32 elements cannot hold Q4_K's super-blocks of 256.
        try FileContents.write(TinyLlamaGGUF.build(types: ["blk.0.ffn_gate.weight": (12, [UInt8](repeating: 0, count: 32 * 144))]), to: path)
        let error = try #require(throws: ImportError.self) { try ModelImporter.importWeights(at: path) }
        guard case .unsupported(let file, let detail) = error else { Issue.record("\(error)"); return }
        #expect(file == path && detail.contains("blk.0.ffn_gate.weight") && detail.contains("256"))
    }

    @Test func truncatedKQuantDataIsNamed() throws {
        let original = try FileContents.read(try SharedModels.path("tiny-kquant/tiny-kquant-Q4_K_M.gguf"))
        let path = directory.file("truncated.gguf")
        try FileContents.write(Array(original.prefix(original.count - 5000)), to: path)
        let error = try #require(throws: ImportError.self) { try ModelImporter.importModel(at: path) }
        guard case .tensorOutOfBounds(let file, let tensor, _, let end, let fileSize) = error else { Issue.record("\(error)"); return }
        #expect(file == path && !tensor.isEmpty && end > fileSize)
    }
}
