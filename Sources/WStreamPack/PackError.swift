/// Why a pack cannot proceed.
public enum PackError: Error, CustomStringConvertible, Equatable {
    case unsupportedBits(Int)
    case unsupportedGroupSize(Int)
    /// A tensor the layout needs is not in the source.
    case missingTensor(source: String, tensor: String)
    /// A tensor name the packer does not know how to place.
    case unexpectedTensor(source: String, tensor: String)

    public var description: String {
        switch self {
        case .unsupportedBits(let bits):
            return "--bits \(bits) is not supported; use one of \(PackOptions.supportedBits.map(String.init).joined(separator: ", "))"
        case .unsupportedGroupSize(let size):
            return "--group-size \(size) is not supported; use one of \(PackOptions.supportedGroupSizes.map(String.init).joined(separator: ", "))"
        case .missingTensor(let source, let tensor):
            return "\(source): tensor \(tensor) is missing"
        case .unexpectedTensor(let source, let tensor):
            return "\(source): tensor \(tensor) does not belong to any block of the model"
        }
    }
}
