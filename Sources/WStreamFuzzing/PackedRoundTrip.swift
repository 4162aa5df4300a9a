import WStreamFormat
import WStreamImport
import WStreamPack

/// Packs a model an importer accepted, as `wstream pack` would, and opens and verifies the file: quantizing or
/// carrying every tensor, the region layout and the writer, for shapes and values no real model has. Only small
/// models are packed, so that an input stays a few milliseconds.
enum PackedRoundTrip {
    /// Parameters above which a model is left unpacked.
    static let parameterLimit = 1 << 18

    /// - Parameter path: where to write the `.wst` file (replaced).
    /// - Throws: the packer's or the reader's error.
    static func run(_ model: ImportedModel, to path: String) throws {
        var parameters = 0
        for tensor in model.tensors {
            let (count, overflow) = tensor.shape.reduce((1, false)) { total, size in
                let (product, overflow) = total.0.multipliedReportingOverflow(by: size)
                return (product, total.1 || overflow)
            }
            parameters += overflow ? parameterLimit : count
            if parameters >= parameterLimit { return }
        }
        var options = PackOptions()
        options.threads = 1
        _ = try Packer.pack(model, to: path, options: options)
        try ContainerReader(path: path).verify()
    }
}
