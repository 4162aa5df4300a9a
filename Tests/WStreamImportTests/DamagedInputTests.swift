import Testing
import TestSupport
import WStreamFormat
import WStreamImport

/// Damaged or foreign inputs end in an `ImportError` that says what is wrong, never in a crash.
@Suite struct DamagedInputTests {
    let directory = TemporaryDirectory("wstream-damaged")

    @Test(arguments: [1, 4, 8, 20, 23, 100, 5000, 14000, 14170, 600_000, 1_185_375])
    func truncatedGGUFIsRejected(length: Int) throws {
        let original = try FileContents.read(try SharedModels.storiesGGUF)
        let path = directory.file("truncated-\(length).gguf")
        try FileContents.write(Array(original[0..<length]), to: path)
        let error = try #require(throws: ImportError.self) { try ModelImporter.importModel(at: path) }
        switch error {
        case .truncated(let file, _, let offset, _, let fileSize):
            #expect(file == path && fileSize == length && offset <= length)
        case .tensorOutOfBounds(let file, _, _, let end, let fileSize):
            #expect(file == path && fileSize == length && end > length)
        case .unrecognizedFormat(let file, _):
            #expect(file == path && length < 4)
        default:
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func hugeArrayCountIsRejectedBeforeAllocating() throws {
        var bytes = GGUFBuilder().build()
        // Hand-written metadata entry: key "k", type array of u8, count 2^62.
        bytes[16..<24] = [1, 0, 0, 0, 0, 0, 0, 0][...]
        bytes += [1, 0, 0, 0, 0, 0, 0, 0, UInt8(ascii: "k"), 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40]
        let path = directory.file("huge.gguf")
        try FileContents.write(bytes, to: path)
        #expect(throws: ImportError.self) { try ModelImporter.importModel(at: path) }
    }

    @Test func wrongMagicIsNotMistakenForGGUF() throws {
        let path = directory.file("model.bin")
        try FileContents.write(Array("GGML and then some".utf8), to: path)
        let error = try #require(throws: ImportError.self) { try ModelImporter.importModel(at: path) }
        guard case .unrecognizedFormat(let file, _) = error else { Issue.record("\(error)"); return }
        #expect(file == path)
        #expect(error.description.contains("GGUF"))
    }

    @Test func unsupportedGGUFVersionIsNamed() throws {
        var builder = GGUFBuilder()
        builder.version = 1
        let path = directory.file("v1.gguf")
        try FileContents.write(builder.build(), to: path)
        #expect(throws: ImportError.unsupported(file: path, detail: "GGUF version 1 (versions 2 and 3 are read)")) {
            try ModelImporter.importModel(at: path)
        }
    }

    @Test func safetensorsOffsetBeyondTheFileIsRejected() throws {
        try copyStoriesConfig()
        let header = #"{"model.embed_tokens.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}"#
        var bytes: [UInt8] = []
        bytes.append(UInt64(header.utf8.count))
        bytes += Array(header.utf8) + [UInt8](repeating: 0, count: 8)
        try FileContents.write(bytes, to: directory.file("model.safetensors"))
        let error = try #require(throws: ImportError.self) { try ModelImporter.importWeights(at: directory.path) }
        guard case .tensorOutOfBounds(let file, let tensor, _, let end, let fileSize) = error else {
            Issue.record("\(error)"); return
        }
        #expect(file == directory.file("model.safetensors"))
        #expect(tensor == "model.embed_tokens.weight")
        #expect(end > fileSize)
    }

    @Test func safetensorsUnsupportedDtypeIsNamed() throws {
        try copyStoriesConfig()
        let header = #"{"__metadata__":{"format":"pt"},"model.embed_tokens.weight":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#
        var bytes: [UInt8] = []
        bytes.append(UInt64(header.utf8.count))
        bytes += Array(header.utf8) + [UInt8](repeating: 0, count: 8)
        try FileContents.write(bytes, to: directory.file("model.safetensors"))
        #expect(throws: ImportError.unsupportedTensorType(file: directory.file("model.safetensors"), tensor: "model.embed_tokens.weight", type: "I64")) {
            try ModelImporter.importWeights(at: directory.path)
        }
    }

    @Test func missingHuggingFaceTensorIsNamedWithItsSourceName() throws {
        try copyStoriesConfig()
        let header = #"{"model.embed_tokens.weight":{"dtype":"F32","shape":[512,64],"data_offsets":[0,131072]}}"#
        var bytes: [UInt8] = []
        bytes.append(UInt64(header.utf8.count))
        bytes += Array(header.utf8) + [UInt8](repeating: 0, count: 131072)
        try FileContents.write(bytes, to: directory.file("model.safetensors"))
        #expect(throws: ImportError.missingTensor(file: directory.file("model.safetensors"), tensor: "model.layers.0.input_layernorm.weight")) {
            try ModelImporter.importWeights(at: directory.path)
        }
    }

    @Test func unknownModelTypeNamesConfigAndTheSupportedList() throws {
        try FileContents.write(Array(#"{"model_type": "gpt_neox", "hidden_size": 8, "extra": [1, {"a": null}]}"#.utf8), to: directory.file("config.json"))
        let error = try #require(throws: ImportError.self) { try HuggingFaceModel.loadConfig(directory: directory.path) }
        guard case .unsupportedArchitecture(let file, let found, let supported) = error else { Issue.record("\(error)"); return }
        #expect(file == directory.file("config.json"))
        #expect(found.contains("gpt_neox"))
        #expect(supported.contains("llama") && supported.contains("lfm2"))
    }

    @Test func directoryWithoutWeightsIsRejected() throws {
        try copyStoriesConfig()
        #expect(throws: ImportError.self) { try ModelImporter.importWeights(at: directory.path) }
    }

    @Test func missingPathIsUnreadable() {
        #expect(throws: ImportError.self) { try ModelImporter.importModel(at: directory.file("nothing-here")) }
    }

    private func copyStoriesConfig() throws {
        try FileContents.write(FileContents.read(try SharedModels.storiesHF + "/config.json"), to: directory.file("config.json"))
    }
}
