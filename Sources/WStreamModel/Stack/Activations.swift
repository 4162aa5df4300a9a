import WStreamFormat

/// Scratch buffers for one forward pass over up to `rowCapacity` rows, allocated once (their size counts in the
/// working set). Widths come from the configuration and from the widest matrix the family's blocks hold, so no
/// family needs a buffer of its own.
final class Activations {
    /// Rows one forward pass may hold.
    let rowCapacity: Int
    /// Rows of logits computed at once.
    let logitRows: Int
    /// Positions one head's attention scores may span.
    let scoreCapacity: Int
    /// The residual stream `[rows][hidden]`.
    let residual: UnsafeMutablePointer<Float>
    /// A normalised copy of the residual `[rows][hidden]`.
    let normed: UnsafeMutablePointer<Float>
    /// A mixer's or MLP's output before it joins the residual `[rows][hidden]`.
    let mixed: UnsafeMutablePointer<Float>
    /// `[rows][heads·headDim]`, `[rows][kvHeads·headDim]` twice.
    let queries: UnsafeMutablePointer<Float>
    let keys: UnsafeMutablePointer<Float>
    let values: UnsafeMutablePointer<Float>
    /// The mixer's result before its output projection `[rows][max(heads·headDim, hidden)]`.
    let attended: UnsafeMutablePointer<Float>
    /// `[rows][widest block matrix]`: the MLP gate, or LFM2's B·C·v projection.
    let wide: UnsafeMutablePointer<Float>
    /// `[rows][widest block matrix]`: the MLP up projection.
    let wide2: UnsafeMutablePointer<Float>
    /// Attention scores `[heads][scoreCapacity]`.
    let scores: UnsafeMutablePointer<Float>
    /// `[logitRows][vocab]`.
    let logits: UnsafeMutablePointer<Float>
    private let all: [UnsafeMutablePointer<Float>]

    /// Float counts of each buffer, in declaration order.
    private static func sizes(config c: ModelConfig, widestMatrix: Int, rows: Int, logitRows: Int, context: Int) -> [Int] {
        let q = c.headCount * c.headDim
        let kv = c.kvHeadCount * c.headDim
        return [rows * c.hiddenSize, rows * c.hiddenSize, rows * c.hiddenSize, rows * q, rows * kv, rows * kv,
                rows * max(q, c.hiddenSize), rows * widestMatrix, rows * widestMatrix, c.headCount * context,
                logitRows * c.vocabSize]
    }

    /// Bytes the buffers take.
    /// - Parameter widestMatrix: the most rows any block matrix has (the MLP's width, or wider).
    static func byteCount(config: ModelConfig, widestMatrix: Int, rows: Int, logitRows: Int, context: Int) -> Int {
        sizes(config: config, widestMatrix: widestMatrix, rows: rows, logitRows: logitRows, context: context).reduce(0, +) * 4
    }

    init(config: ModelConfig, widestMatrix: Int, rows: Int, logitRows: Int, context: Int) {
        rowCapacity = rows
        self.logitRows = logitRows
        scoreCapacity = context
        all = Self.sizes(config: config, widestMatrix: widestMatrix, rows: rows, logitRows: logitRows, context: context).map {
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max($0, 1))
            buffer.initialize(repeating: 0, count: max($0, 1))
            return buffer
        }
        (residual, normed, mixed, queries, keys, values, attended, wide, wide2, scores, logits) =
            (all[0], all[1], all[2], all[3], all[4], all[5], all[6], all[7], all[8], all[9], all[10])
    }

    deinit {
        for buffer in all { buffer.deallocate() }
    }
}
