import WStreamImport

/// Converts the first and the last row of every tensor an importer accepted: each source type's conversion, and
/// the bounds the importer checked, without reading the whole of a large tensor.
enum TensorEdges {
    /// - Throws: the error a tensor's `readRows` reported.
    static func read(_ tensors: [any TensorSource]) throws {
        var row: [Float] = []
        for tensor in tensors {
            let rows = tensor.shape.count == 2 ? tensor.shape[0] : 1
            let cols = tensor.shape.last ?? 0
            guard rows > 0, cols > 0 else { continue }
            if row.count < cols { row = [Float](repeating: 0, count: cols) }
            for index in Set([0, rows - 1]) {
                try row.withUnsafeMutableBufferPointer { try tensor.readRows(index..<index + 1, into: $0) }
            }
        }
    }
}
