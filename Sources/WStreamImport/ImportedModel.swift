import WStreamFormat
// SKELETON: signatures the rest of the package codes against; the Import work fills in the bodies.

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

public enum ModelImporter {
    /// Reads a GGUF file or a Hugging Face directory.
    public static func importModel(at path: String) throws -> ImportedModel { fatalError("unimplemented") }
}
