#if canImport(Glibc)
import Glibc
#endif

/// Root-mean-square normalisation: `y = x / sqrt(mean(x²) + ε) · w`.
enum RMSNorm {
    /// Normalises `count` rows of `width` from `input` into `output` (they may be the same buffer).
    static func apply(
        _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>,
        width: Int, count: Int, epsilon: Float
    ) {
        for row in 0..<count {
            let x = input + row * width
            let y = output + row * width
            let meanSquare = VectorMath.dot(x, x, width) / Float(width)
            let scale = 1 / sqrtf(meanSquare + epsilon)
            for i in 0..<width { y[i] = x[i] * scale * weight[i] }
        }
    }
}
