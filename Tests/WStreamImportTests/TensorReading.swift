import WStreamImport

/// Every element of `tensor` as float32, row-major.
func readAll(_ tensor: any TensorSource) throws -> [Float] {
    let rows = tensor.shape.count == 2 ? tensor.shape[0] : 1
    let cols = tensor.shape.last!
    var values = [Float](repeating: .nan, count: rows * cols)
    try values.withUnsafeMutableBufferPointer { try tensor.readRows(0..<rows, into: $0) }
    return values
}
