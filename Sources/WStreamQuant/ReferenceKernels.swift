/// Plain scalar definitions of `MatrixKernels`, kept beside the SIMD kernels (as llama.cpp does) so tests
/// can compare the two on any shape. Each weight is dequantised on its own (`scale · q + bias`) and sums
/// run in Double, so that a comparison measures the SIMD kernel's rounding and nothing else.
public enum ReferenceKernels {
    /// The stored weight at `row`, `column`, as a float.
    public static func weight(_ w: WeightMatrix, row: Int, column: Int) -> Float {
        precondition(row >= 0 && row < w.rows && column >= 0 && column < w.cols, "(\(row), \(column)) outside \(w.rows)×\(w.cols)")
        switch w.storage {
        case .f32:
            return w.base.loadUnaligned(fromByteOffset: 4 * (row * w.cols + column), as: Float.self)
        case .f16:
            return Float(w.base.loadUnaligned(fromByteOffset: 2 * (row * w.cols + column), as: Float16.self))
        case .q4, .q8:
            let r = QuantizedAddressing(w).row(row)
            let code: UInt8
            if w.storage == .q8 {
                code = r.codes.load(fromByteOffset: column, as: UInt8.self)
            } else {
                let byte = r.codes.load(fromByteOffset: column / 2, as: UInt8.self)
                code = column % 2 == 0 ? byte & 0x0F : byte >> 4
            }
            let group = column / w.groupSize
            let scale = Float(r.scales.loadUnaligned(fromByteOffset: 2 * group, as: Float16.self))
            let bias = Float(r.biases.loadUnaligned(fromByteOffset: 2 * group, as: Float16.self))
            return scale * Float(code) + bias
        }
    }

    /// `y[rows] = W · x[cols]`.
    public static func matvec(_ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        for r in 0..<w.rows {
            var sum = 0.0
            for c in 0..<w.cols { sum += Double(weight(w, row: r, column: c)) * Double(x[c]) }
            y[r] = Float(sum)
        }
    }

    /// `Y[n][rows] = X[n][cols] · Wᵀ`.
    public static func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, count n: Int, _ y: UnsafeMutablePointer<Float>) {
        for t in 0..<n { matvec(w, x + t * w.cols, y + t * w.rows) }
    }

    /// Row `row` as floats into `destination[cols]`.
    public static func dequantizeRow(_ w: WeightMatrix, row: Int, into destination: UnsafeMutablePointer<Float>) {
        for c in 0..<w.cols { destination[c] = weight(w, row: row, column: c) }
    }
}
