import WStreamQuant

/// `output[n][rows] = input[n][cols] · Wᵀ`: a matrix-vector product for one row, a matrix product for several.
enum Linear {
    static func apply(_ w: WeightMatrix, _ input: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>, pool: ComputePool) {
        if rows == 1 {
            MatrixKernels.matvec(w, input, output, pool: pool)
        } else {
            MatrixKernels.matmul(w, input, count: rows, output, pool: pool)
        }
    }
}
