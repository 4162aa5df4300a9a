/// Why a matrix could not be quantised or encoded.
public enum QuantError: Error, Equatable, CustomStringConvertible {
    /// The value at `row`, `column` is infinite or NaN.
    case nonFinite(row: Int, column: Int, value: Float)
    /// The value at `row`, `column` cannot be represented by an fp16 scale and bias (or fp16 storage):
    /// its magnitude, or its group's range, exceeds fp16's 65504.
    case outOfFloat16Range(row: Int, column: Int, value: Float)
    /// The kernels handle 4- and 8-bit codes in groups of a positive multiple of 32 columns.
    case unsupportedLayout(bits: Int, groupSize: Int)

    public var description: String {
        switch self {
        case let .nonFinite(row, column, value):
            return "weight at row \(row), column \(column) is \(value); only finite weights can be stored"
        case let .outOfFloat16Range(row, column, value):
            return "weight at row \(row), column \(column) is \(value), beyond fp16's range (±65504) that scales and biases are stored in"
        case let .unsupportedLayout(bits, groupSize):
            return "unsupported quantisation: \(bits) bits in groups of \(groupSize); use 4 or 8 bits and a group size of 32, 64 or 128"
        }
    }
}
