/// Why a model file or directory could not be imported. Every case names the file involved.
public enum ImportError: Error, CustomStringConvertible, Equatable {
    /// The path could not be opened, read or mapped.
    case unreadable(file: String, reason: String)
    /// The path is neither a GGUF file nor a Hugging Face model directory.
    case unrecognizedFormat(file: String, detail: String)
    /// The file ends before a structure it declares; `offset` is where the read was attempted.
    case truncated(file: String, what: String, offset: Int, needed: Int, fileSize: Int)
    /// The file's structure is inconsistent.
    case malformed(file: String, detail: String)
    /// The file is well formed but uses a feature wstream does not implement.
    case unsupported(file: String, detail: String)
    /// `config.json`'s `model_type` / `architectures` or GGUF's `general.architecture` is not one wstream runs.
    case unsupportedArchitecture(file: String, found: String, supported: [String])
    /// A tensor's element type cannot be converted to float32.
    case unsupportedTensorType(file: String, tensor: String, type: String)
    /// A metadata key the architecture needs is absent (or has the wrong type).
    case missingMetadata(file: String, key: String)
    /// A tensor the architecture needs is absent.
    case missingTensor(file: String, tensor: String)
    /// A tensor wstream does not know what to do with; silently dropping it could change the model.
    case unexpectedTensor(file: String, tensor: String)
    /// A tensor's shape disagrees with the hyper-parameters.
    case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int])
    /// A tensor's data lies (partly) outside the file.
    case tensorOutOfBounds(file: String, tensor: String, start: Int, end: Int, fileSize: Int)
    /// Writing an output file failed.
    case writeFailed(file: String, reason: String)
    /// A caller asked for rows a tensor does not have, or gave too small a destination.
    case invalidRowRange(tensor: String, rows: Range<Int>, rowCount: Int, destinationCount: Int)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            return "\(file): cannot read: \(reason)"
        case .unrecognizedFormat(let file, let detail):
            return "\(file): not a GGUF file or a Hugging Face model directory (\(detail))"
        case .truncated(let file, let what, let offset, let needed, let fileSize):
            return "\(file): truncated: \(what) needs \(needed) bytes at offset \(offset), but the file has \(fileSize) bytes"
        case .malformed(let file, let detail):
            return "\(file): malformed: \(detail)"
        case .unsupported(let file, let detail):
            return "\(file): unsupported: \(detail)"
        case .unsupportedArchitecture(let file, let found, let supported):
            return "\(file): architecture '\(found)' is not supported (supported: \(supported.joined(separator: ", ")))"
        case .unsupportedTensorType(let file, let tensor, let type):
            return "\(file): tensor '\(tensor)' has element type \(type), which wstream cannot convert (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL)"
        case .missingMetadata(let file, let key):
            return "\(file): missing or mistyped metadata '\(key)'"
        case .missingTensor(let file, let tensor):
            return "\(file): missing tensor '\(tensor)'"
        case .unexpectedTensor(let file, let tensor):
            return "\(file): unexpected tensor '\(tensor)' for this architecture"
        case .shapeMismatch(let file, let tensor, let expected, let found):
            return "\(file): tensor '\(tensor)' has shape \(found), expected \(expected)"
        case .tensorOutOfBounds(let file, let tensor, let start, let end, let fileSize):
            return "\(file): tensor '\(tensor)' spans bytes \(start)..<\(end), beyond the file's \(fileSize) bytes"
        case .writeFailed(let file, let reason):
            return "\(file): cannot write: \(reason)"
        case .invalidRowRange(let tensor, let rows, let rowCount, let destinationCount):
            return "tensor '\(tensor)': rows \(rows) requested of \(rowCount) (destination holds \(destinationCount) floats)"
        }
    }
}
