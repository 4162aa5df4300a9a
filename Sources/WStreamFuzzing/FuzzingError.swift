/// What can go wrong in the fuzzing harness itself (not in the code it drives).
public enum FuzzingError: Error, CustomStringConvertible, Equatable {
    /// A scratch file or folder could not be made, written or removed.
    case scratch(path: String, operation: String, reason: String)
    /// A model file the seeds or bases are made from is missing or unreadable.
    case sharedFile(path: String, reason: String)

    public var description: String {
        switch self {
        case let .scratch(path, operation, reason): "\(path): \(operation) failed: \(reason)"
        case let .sharedFile(path, reason): "\(path): \(reason) (seeds and base models are made from ../shared/models)"
        }
    }
}
