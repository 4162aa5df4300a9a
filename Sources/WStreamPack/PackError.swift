/// Why a pack cannot proceed.
public enum PackError: Error, CustomStringConvertible, Equatable {
    case unsupportedBits(Int)
    case unsupportedGroupSize(Int)
    /// The model's configuration contradicts itself.
    case inconsistentConfig(source: String, reason: String)
    /// A tensor the layout needs is not in the source.
    case missingTensor(source: String, tensor: String)
    /// A tensor whose shape is not the one the model's configuration implies.
    case shapeMismatch(source: String, tensor: String, expected: [Int], found: [Int])
    /// A tensor name the packer does not know how to place.
    case unexpectedTensor(source: String, tensor: String)
    /// A tensor's values cannot be stored (an inf or NaN, or beyond fp16's range); `reason` names the row and column.
    case unstorableTensor(source: String, tensor: String, reason: String)

    public var description: String {
        switch self {
        case .unsupportedBits(let bits):
            return "--bits \(bits) is not supported; use one of \(PackOptions.supportedBits.map(String.init).joined(separator: ", "))"
        case .unsupportedGroupSize(let size):
            return "--group-size \(size) is not supported; use one of \(PackOptions.supportedGroupSizes.map(String.init).joined(separator: ", "))"
        case .inconsistentConfig(let source, let reason):
            return "\(source): inconsistent configuration: \(reason)"
        case .missingTensor(let source, let tensor):
            return "\(source): tensor \(tensor) is missing"
        case .shapeMismatch(let source, let tensor, let expected, let found):
            return "\(source): tensor \(tensor) has shape \(found), the model's configuration implies \(expected)"
        case .unexpectedTensor(let source, let tensor):
            return "\(source): tensor \(tensor) does not belong to any block of the model"
        case .unstorableTensor(let source, let tensor, let reason):
            return "\(source): tensor \(tensor): \(reason)"
        }
    }
}
