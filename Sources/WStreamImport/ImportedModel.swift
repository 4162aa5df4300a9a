#if canImport(Glibc)
import Glibc
#endif
import WStreamFormat

/// A tensor in a source file, readable a few rows at a time (sources are mapped, never loaded whole).
public protocol TensorSource: Sendable {
    /// Canonical name (see `TensorName`).
    var name: String { get }
    /// `[rows, cols]` or `[count]`, after any re-layout the importer applies.
    var shape: [Int] { get }
    /// The source's element type, e.g. `BF16`, `Q8_0`.
    var sourceType: String { get }
    /// Converts rows `rows` to float32 into `destination` (`rows.count · cols` floats).
    func readRows(_ rows: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws
}

/// A model read from GGUF or a Hugging Face directory, normalised to wstream's canonical form.
public struct ImportedModel: Sendable {
    public var config: ModelConfig
    public var tokenizer: TokenizerSpec
    public var tensors: [any TensorSource]
    /// Human-readable provenance, e.g. the path and format.
    public var source: String
}

/// A model's configuration and tensors without its tokenizer.
public struct ImportedWeights: Sendable {
    public var config: ModelConfig
    /// In canonical order: embedding, blocks 0…N−1, final norm, output head (when not tied).
    public var tensors: [any TensorSource]
    /// Human-readable provenance, e.g. the path and format.
    public var source: String
}

public enum ModelImporter {
    /// Reads a GGUF file or a Hugging Face directory (config.json, safetensors, tokenizer.json).
    /// - Parameter path: a `.gguf` file (recognised by its magic, not its name) or a model directory.
    /// - Throws: `ImportError` naming the file and what is wrong or unsupported.
    public static func importModel(at path: String) throws -> ImportedModel {
        if try isDirectory(path) {
            let weights = try importWeights(at: path)
            return ImportedModel(
                config: weights.config, tokenizer: try HFTokenizerFile.load(directory: path), tensors: weights.tensors,
                source: weights.source)
        }
        let gguf = try GGUFModel(path: path)
        return ImportedModel(config: gguf.config, tokenizer: try gguf.tokenizer(), tensors: gguf.tensors, source: "GGUF \(path)")
    }

    /// Reads configuration and tensors only, leaving the tokenizer aside.
    /// - Parameter path: a GGUF file or a Hugging Face model directory.
    /// - Throws: `ImportError` naming the file and what is wrong or unsupported.
    public static func importWeights(at path: String) throws -> ImportedWeights {
        if try isDirectory(path) {
            guard access(path + "/config.json", F_OK) == 0 else {
                throw ImportError.unreadable(
                    file: path, reason: "not a Hugging Face model directory (no config.json); give such a directory or a .gguf file")
            }
            let model = try HuggingFaceModel(directory: path)
            return ImportedWeights(config: model.config, tensors: model.tensors, source: "Hugging Face \(path)")
        }
        let gguf = try GGUFModel(path: path)
        return ImportedWeights(config: gguf.config, tensors: gguf.tensors, source: "GGUF \(path)")
    }

    private static func isDirectory(_ path: String) throws -> Bool {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw ImportError.unreadable(file: path, reason: String(cString: strerror(errno)))
        }
        return (status.st_mode & S_IFMT) == S_IFDIR
    }
}
