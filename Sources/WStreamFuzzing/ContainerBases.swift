#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import WStreamFormat
import WStreamImport
import WStreamPack

/// The valid `.wst` files the container target edits: small models of each family, storage and frame encoding,
/// packed by `Packer` the first time each is asked for, as `wstream pack` would write them.
final class ContainerBases {
    /// Eight bases, so that three bits of an input choose one.
    enum Base: Int, CaseIterable {
        case storiesQ4, storiesQ4Compressed, storiesQ8, storiesF16Compressed, storiesF32, llamaUntiedQ4, qwen3Q4, lfm2Q4
    }

    /// A packed file, and its parts decoded once.
    struct Packed {
        let bytes: [UInt8]
        let header: ContainerHeader
        let metadata: ContainerMetadata
    }

    private let sharedModels: String
    private let scratch: ScratchFolder
    private var packed: [Base: Packed] = [:]

    /// - Parameter sharedModels: `../shared/models`, where stories260K is read from.
    /// - Throws: `FuzzingError.scratch` when the scratch folder cannot be made.
    init(sharedModels: String) throws {
        self.sharedModels = sharedModels
        scratch = try ScratchFolder()
    }

    /// The file of `base`, packed now if it has not been.
    /// - Throws: the importer's, packer's or reader's error (a base that cannot be made is a broken setup).
    func file(_ base: Base) throws -> Packed {
        if let done = packed[base] { return done }
        var options = PackOptions()
        options.threads = 1
        let source: String
        switch base {
        case .storiesQ4, .storiesQ4Compressed, .storiesQ8, .storiesF16Compressed, .storiesF32:
            source = sharedModels + "/stories260K/hf"
            guard access(source + "/config.json", F_OK) == 0 else {
                throw FuzzingError.sharedFile(path: source, reason: "is missing")
            }
            options.bits = [.storiesQ8: 8, .storiesF16Compressed: 16, .storiesF32: 32][base] ?? 4
            if base == .storiesQ4Compressed || base == .storiesF16Compressed { options.compressionLevel = 3 }
        case .llamaUntiedQ4: source = try writeFolder(.llama(), named: "llama")
        case .qwen3Q4: source = try writeFolder(.qwen3(), named: "qwen3")
        case .lfm2Q4: source = try writeFolder(.lfm2(), named: "lfm2")
        }
        let destination = scratch.file("base.wst")
        _ = try Packer.pack(try ModelImporter.importModel(at: source), to: destination, options: options)
        let bytes = Array(try Data(contentsOf: URL(filePath: destination)))
        scratch.remove("base.wst")
        let reader = try ContainerReader(path: destination, calls: MemoryReadCalls(path: destination, bytes: bytes))
        let done = Packed(bytes: bytes, header: reader.header, metadata: reader.metadata)
        packed[base] = done
        return done
    }

    /// Writes `checkpoint` as a Hugging Face folder (bfloat16 weights, its tokenizer) in the scratch folder.
    private func writeFolder(_ checkpoint: TinyCheckpoint, named name: String) throws -> String {
        let folder = try HuggingFaceSeedWriter.folder(checkpoint, weights: .float(dtype: "BF16"))
        let tokenizer = Array(TokenizerTarget.tokenizerJSON(checkpoint.tokenizer).utf8)
        let directory = try scratch.makeFolder(name)
        for (file, bytes) in [("config.json", folder.config), ("model.safetensors", folder.safetensors), ("tokenizer.json", tokenizer)] {
            try bytes.withUnsafeBytes { _ = try scratch.write($0, as: "\(name)/\(file)") }
        }
        return directory
    }
}
