/// Why a synthetic model could not be written.
public enum SynthError: Error, CustomStringConvertible, Equatable {
    case unknownShape(name: String, known: [String])
    case invalidArgument(String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .unknownShape(let name, let known):
            return "unknown shape '\(name)' (known: \(known.joined(separator: ", ")))"
        case .invalidArgument(let detail):
            return detail
        case .writeFailed(let path, let reason):
            return "\(path): cannot write: \(reason)"
        }
    }
}
