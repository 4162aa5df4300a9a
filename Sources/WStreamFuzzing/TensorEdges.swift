import WStreamImport

/// Converts the first and the last row of every tensor an importer accepted, as floats and, for a quantized source,
/// as its affine groups (what the packer carries over): each source type's conversion, and the bounds the importer
/// checked, without reading the whole of a large tensor.
enum TensorEdges {
    /// - Throws: the error a tensor's `readRows` or `readAffineRows` reported.
    static func read(_ tensors: [any TensorSource]) throws {
        var row: [Float] = []
        for tensor in tensors {
            let rows = tensor.shape.count == 2 ? tensor.shape[0] : 1
            let cols = tensor.shape.last ?? 0
            guard rows > 0, cols > 0 else { continue }
            if row.count < cols { row = [Float](repeating: 0, count: cols) }
            for index in Set([0, rows - 1]) {
                try row.withUnsafeMutableBufferPointer { try tensor.readRows(index..<index + 1, into: $0) }
                if let groups = tensor as? any AffineGroupSource, let scheme = groups.affineGroups, scheme.groupSize > 0 {
                    var codes = [UInt8](repeating: 0, count: cols)
                    var scales = [Float](repeating: 0, count: cols / scheme.groupSize)
                    var biases = scales
                    try codes.withUnsafeMutableBufferPointer { codes in
                        try scales.withUnsafeMutableBufferPointer { scales in
                            try biases.withUnsafeMutableBufferPointer { try groups.readAffineRows(index..<index + 1, codes: codes, scales: scales, biases: $0) }
                        }
                    }
                }
            }
        }
    }
}
