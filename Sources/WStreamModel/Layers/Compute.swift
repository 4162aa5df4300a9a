import WStreamQuant

/// The threads a forward pass runs on, how its quantised weights meet the activations, and which rows are
/// generated tokens.
///
/// A row's result must not depend on the rows beside it, or a generation would answer differently alone and in a
/// batch. The integer kernels sum in one order for rows and in another for panels (see `IntegerPath`), so the
/// path is chosen by what a row is, never by how many there are: generated tokens (the first `generatedRows`
/// rows) take the row kernels, as a token decoded alone does, and prompt tokens take the panels, as a prompt
/// chunk does alone whatever its length.
struct Compute {
    let pool: ComputePool
    /// int8 activations by default; float32 where a comparison needs the exact float product.
    let precision: ActivationPrecision
    /// Rows at the front that are generated tokens; the rest are prompt tokens.
    let generatedRows: Int

    /// `output[n][rows] = input[n][cols] · Wᵀ`: generated rows through the row kernels, prompt rows through the
    /// panels (one pass over the weights for each kind present).
    func linear(_ w: WeightMatrix, _ input: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>) {
        linear([w], input, rows: rows, into: [output])
    }

    /// `outputs[k][n][rows] = input[n][cols] · W_kᵀ` for matrices of one shape that read the same input, then
    /// `finish(rows, inputs)` on each part of the outputs as soon as all of them hold it (see the grouped
    /// `MatrixKernels.matmul`): generated rows and prompt rows each in one pass over all the matrices.
    func linear(_ ws: [WeightMatrix], _ input: UnsafePointer<Float>, rows: Int, into outputs: [UnsafeMutablePointer<Float>],
                finish: (_ rows: Range<Int>, _ inputs: Range<Int>) -> Void = { _, _ in }) {
        byPath(rows: rows, ws, input, outputs) { input, count, outputs, path, first in
            MatrixKernels.matmul(ws, input, count: count, into: outputs, pool: pool, precision: precision, path: path) {
                finish($0, ($1.lowerBound + first)..<($1.upperBound + first))
            }
        }
    }

    /// `outputs[k][n][rows_k] = input[n][cols] · W_kᵀ` for matrices of any heights that read the same input (a
    /// block's query, key and value projections), in one hand-over where their layouts allow it (see the stacked
    /// `MatrixKernels.matmul`): generated rows and prompt rows each in one pass over all the matrices.
    func linear(stacked ws: [WeightMatrix], _ input: UnsafePointer<Float>, rows: Int, into outputs: [UnsafeMutablePointer<Float>]) {
        byPath(rows: rows, ws, input, outputs) { input, count, outputs, path, _ in
            MatrixKernels.matmul(stacked: ws, input, count: count, into: outputs, pool: pool, precision: precision, path: path)
        }
    }

    /// Runs `product` on the generated rows with the row kernels, then on the prompt rows with the panels: each time
    /// with the input and the outputs from that kind's first row on, how many rows, the path, and that first row.
    private func byPath(rows: Int, _ ws: [WeightMatrix], _ input: UnsafePointer<Float>, _ outputs: [UnsafeMutablePointer<Float>],
                        _ product: (UnsafePointer<Float>, Int, [UnsafeMutablePointer<Float>], IntegerPath, Int) -> Void) {
        let generated = min(generatedRows, rows)
        if generated > 0 { product(input, generated, outputs, .rows, 0) }
        if rows > generated {
            product(input + generated * ws[0].cols, rows - generated, zip(ws, outputs).map { $1 + generated * $0.rows }, .panels, generated)
        }
    }
}
