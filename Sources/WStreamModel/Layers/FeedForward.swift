#if canImport(Glibc)
import Glibc
#endif
import WStreamFormat
import WStreamQuant

/// The SwiGLU MLP: `down(silu(gate(x)) ⊙ up(x))`.
enum FeedForward {
    /// Reads `x.normed [rows, hidden]`, writes `x.mixed [rows, hidden]` (through `x.wide` and `x.wide2`, `[rows, ffn]`).
    static func swiGLU(_ w: BlockWeights, rows: Int, x: Activations, pool: ComputePool) throws {
        let gate = try w.matrix(.ffnGate)
        Linear.apply(gate, x.normed, rows: rows, into: x.wide, pool: pool)
        Linear.apply(try w.matrix(.ffnUp), x.normed, rows: rows, into: x.wide2, pool: pool)
        for i in 0..<(rows * gate.rows) {
            let g = x.wide[i]
            x.wide[i] = g / (1 + expf(-g)) * x.wide2[i]
        }
        Linear.apply(try w.matrix(.ffnDown), x.wide, rows: rows, into: x.mixed, pool: pool)
    }
}
