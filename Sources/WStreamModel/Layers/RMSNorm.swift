#if canImport(Glibc)
import Glibc
#endif

/// Root-mean-square normalisation: `y = x / sqrt(mean(x²) + ε) · w`.
enum RMSNorm {
    /// Normalises `rows` rows of `width` from `input` into `output` (they may be the same buffer), each with the
    /// same `weight[width]` (a block's norm over its rows, or a per-head q/k norm over every head of every row).
    static func apply(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>,
        rows: Int, width: Int, epsilon: Float
    ) {
        for row in 0..<rows {
            let x = input + row * width
            let y = output + row * width
            let meanSquare = VectorMath.dot(x, x, width) / Float(width)
            let scale = 1 / sqrtf(meanSquare + epsilon)
            for i in 0..<width { y[i] = x[i] * scale * weight[i] }
        }
    }
}
