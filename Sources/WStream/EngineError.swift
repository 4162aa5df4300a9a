/// Why an `Engine` cannot do what was asked.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    /// A generation was asked for while the model's memory is not loaded.
    case notLoaded(path: String)
    /// A configuration value is out of range.
    case invalidConfiguration(path: String, detail: String)

    public var description: String {
        switch self {
        case .notLoaded(let path):
            return "\(path) is not loaded: call load(allowance:) or load(budget:) before generating"
        case .invalidConfiguration(let path, let detail):
            return "\(path): \(detail)"
        }
    }
}
