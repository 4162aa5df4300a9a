import WStreamFormat
import WStreamQuant

/// The SwiGLU MLP: `down(silu(gate(x)) ⊙ up(x))`.
enum FeedForward {
    /// Reads `x.normed [rows, hidden]`, writes `x.mixed [rows, hidden]` (through `x.wide` and `x.wide2`, `[rows, ffn]`).
    static func swiGLU(_ w: BlockWeights, rows: Int, x: Activations, compute: Compute) throws {
        let gate = try w.matrix(.ffnGate)
        let width = gate.rows
        let (wide, wide2) = (x.wide, x.wide2)
        // Each thread multiplies the rows it has just computed, while they are in its cache.
        compute.linear([gate, try w.matrix(.ffnUp)], x.normed, rows: rows, into: [wide, wide2]) { columns, inputs in
            for t in inputs {
                let offset = t * width + columns.lowerBound
                VectorMath.swiGLU(gate: wide + offset, up: wide2 + offset, columns.count)
            }
        }
        compute.linear(try w.matrix(.ffnDown), x.wide, rows: rows, into: x.mixed)
    }
}
