#if canImport(Glibc)
import Glibc
#endif
import WStreamFormat
import WStreamQuant

/// The SwiGLU MLP: `down(silu(gate(x)) ⊙ up(x))`.
enum FeedForward {
    /// Reads `x.normed [rows, hidden]`, writes `x.mixed [rows, hidden]` (through `x.wide` and `x.wide2`, `[rows, ffn]`).
    static func swiGLU(_ w: BlockWeights, rows: Int, x: Activations, compute: Compute) throws {
        let gate = try w.matrix(.ffnGate)
        compute.linear(gate, x.normed, rows: rows, into: x.wide)
        compute.linear(try w.matrix(.ffnUp), x.normed, rows: rows, into: x.wide2)
        for i in 0..<(rows * gate.rows) {
            let g = x.wide[i]
            x.wide[i] = g / (1 + expf(-g)) * x.wide2[i]
        }
        compute.linear(try w.matrix(.ffnDown), x.wide, rows: rows, into: x.mixed)
    }
}
