#if canImport(Glibc)
import Glibc
#endif

/// Rotary position embedding in the rotate-half convention (element i pairs with i + headDim/2).
///
/// Importers normalise weights to this convention, so GGUF's adjacent-pair layout never reaches here.
struct RotaryEmbedding {
    let headDim: Int
    /// θ^(−2i/headDim) for i in 0 ..< headDim/2, in float32 as the reference implementations compute it.
    private let inverseFrequencies: [Float]

    /// - Parameter factors: divisors of each frequency (Llama 3's scaling), `headDim / 2` of them.
    init(headDim: Int, theta: Float, factors: [Float]? = nil) {
        self.headDim = headDim
        inverseFrequencies = (0..<(headDim / 2)).map { 1 / powf(theta, Float(2 * $0) / Float(headDim)) / (factors?[$0] ?? 1) }
    }

    /// Rotates `headCount` heads of one token at `position`, in place.
    func apply(_ vector: UnsafeMutablePointer<Float>, headCount: Int, position: Int) {
        let half = headDim / 2
        for i in 0..<half {
            let angle = Float(position) * inverseFrequencies[i]
            let c = cosf(angle)
            let s = sinf(angle)
            for head in 0..<headCount {
                let v = vector + head * headDim
                let x0 = v[i]
                let x1 = v[i + half]
                v[i] = x0 * c - x1 * s
                v[i + half] = x0 * s + x1 * c
            }
        }
    }
}
