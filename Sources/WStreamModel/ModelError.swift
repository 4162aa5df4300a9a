/// Why a model cannot be run or generation had to stop.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// The file lacks a tensor its architecture needs.
    case missingTensor(file: String, tensor: String)
    /// A tensor has another shape than the configuration implies.
    case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int])
    /// A tensor is stored in a form this computation does not accept (e.g. a quantised norm).
    case unsupportedStorage(file: String, tensor: String, storage: String)
    /// The context reached the length the KV cache was sized for within the budget.
    case contextFull(capacity: Int)
    /// A token id outside the vocabulary.
    case tokenOutOfRange(id: Int, vocabularySize: Int)
    /// Generation needs at least one prompt token.
    case emptyPrompt
    /// The configuration in the file cannot describe a model (e.g. heads not a multiple of KV heads).
    case invalidConfiguration(file: String, detail: String)
    /// No family of this build runs the file's architecture.
    case unsupportedArchitecture(file: String, architecture: String, supported: [String])
    /// The file holds a tensor its family does not use: running without it could be a different model.
    case unexpectedTensor(file: String, tensor: String, architecture: String)
    /// A region the model needs (`layer.N`, `head`) is missing from the file.
    case missingRegion(file: String, region: String)
    /// The logits for the token at `position` hold a NaN or an infinity: the weights are damaged in a way no
    /// checksum catches (written so), and any token chosen from them would be arbitrary.
    case nonFiniteLogits(file: String, position: Int)

    public var description: String {
        switch self {
        case .missingTensor(let file, let tensor):
            return "\(file): tensor \(tensor) is missing"
        case .shapeMismatch(let file, let tensor, let expected, let found):
            return "\(file): tensor \(tensor) has shape \(found), expected \(expected)"
        case .unsupportedStorage(let file, let tensor, let storage):
            return "\(file): tensor \(tensor) is stored as \(storage), which this computation does not accept"
        case .contextFull(let capacity):
            return "the context is full (\(capacity) tokens, the length the KV cache was sized for within the budget); start again with a larger --context or budget"
        case .tokenOutOfRange(let id, let vocabularySize):
            return "token id \(id) is outside the vocabulary (\(vocabularySize) tokens)"
        case .emptyPrompt:
            return "the prompt is empty: give at least one token (this model adds no BOS token of its own)"
        case .invalidConfiguration(let file, let detail):
            return "\(file): invalid model configuration: \(detail)"
        case .unsupportedArchitecture(let file, let architecture, let supported):
            return "\(file): architecture '\(architecture)' is not one this build runs (\(supported.joined(separator: ", ")))"
        case .unexpectedTensor(let file, let tensor, let architecture):
            return "\(file): tensor \(tensor) is not one a \(architecture) model uses"
        case .missingRegion(let file, let region):
            return "\(file): the model has no region '\(region)'"
        case .nonFiniteLogits(let file, let position):
            return "\(file): the model computed logits that are not finite numbers at position \(position); its weights are damaged"
        }
    }
}
