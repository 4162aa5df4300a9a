import WStreamQuant

/// The threads a forward pass runs on and how its quantised weights meet the activations.
struct Compute {
    let pool: ComputePool
    /// int8 activations by default; float32 where a comparison needs the exact float product.
    let precision: ActivationPrecision

    /// `output[n][rows] = input[n][cols] · Wᵀ`: a matrix-vector product for one row, a matrix product for several.
    func linear(_ w: WeightMatrix, _ input: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>) {
        MatrixKernels.matmul(w, input, count: rows, output, pool: pool, precision: precision)
    }
}
