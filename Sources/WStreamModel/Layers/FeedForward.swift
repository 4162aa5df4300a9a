#if canImport(Glibc)
import Glibc
#endif
import WStreamFormat
import WStreamQuant

/// The SwiGLU MLP: `down(silu(gate(x)) ⊙ up(x))`.
enum FeedForward {
    /// Reads `a.normed`, writes `a.blockOutput`.
    static func forward(layer: Int, weights: RegionWeights, config: ModelConfig, count: Int, scratch a: Activations, pool: ComputePool) throws {
        let width = config.ffnSize
        Linear.apply(try weights.matrix(TensorName.block(layer, .ffnGate)), a.normed, count: count, a.wide, pool: pool)
        Linear.apply(try weights.matrix(TensorName.block(layer, .ffnUp)), a.normed, count: count, a.wide2, pool: pool)
        for i in 0..<(count * width) {
            let g = a.wide[i]
            a.wide[i] = g / (1 + expf(-g)) * a.wide2[i]
        }
        Linear.apply(try weights.matrix(TensorName.block(layer, .ffnDown)), a.wide, count: count, a.blockOutput, pool: pool)
    }
}
