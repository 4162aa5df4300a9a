import WStreamFormat
import WStreamQuant
import WStreamRuntime

/// What every family shares around its blocks: token embeddings in, each block's weights streamed in just before
/// the family runs it, the final norm and the output head out.
///
/// Each block's unit is acquired from the streamer just before use and released right after, so a streamed block
/// is decoded once per forward pass, whatever its rows: once per prompt chunk, once per decode step of every
/// sequence in the batch. The head may be cut into several units (row ranges of the output matrix); each computes
/// its slice of the logits.
final class TransformerStack {
    let config: ModelConfig
    let family: any ModelFamily
    let file: String
    let streamer: LayerStreamer
    let pool: ComputePool
    let precision: ActivationPrecision
    let activations: Activations
    private let embedding: EmbeddingTable
    /// Streamer unit of each block, and the units of the head (final norm, then the output matrix's rows).
    let blockUnits: [Int]
    let headUnits: [Int]
    /// `output.weight`, or the token table when embeddings are tied.
    private let outputMatrix: String
    /// Units whose 4- and 6-bit matrices are interleaved for the VNNI kernels (see `interleaveResidentUnits`).
    let interleavedUnits: Set<Int>

    /// The streamer's resident units must be loaded: their matrices are interleaved here, before any forward pass.
    init(config: ModelConfig, family: any ModelFamily, file: String, embedding: EmbeddingTable, outputMatrix: String,
         streamer: LayerStreamer, pool: ComputePool, precision: ActivationPrecision, activations: Activations, blockUnits: [Int], headUnits: [Int]) {
        self.config = config
        self.family = family
        self.file = file
        self.embedding = embedding
        self.outputMatrix = outputMatrix
        self.streamer = streamer
        self.pool = pool
        self.precision = precision
        self.activations = activations
        self.blockUnits = blockUnits
        self.headUnits = headUnits
        interleavedUnits = precision == .int8 ? Self.interleaveResidentUnits(blockUnits + headUnits, streamer) : []
    }

    /// Interleaves the matrices of every resident unit of `units` that `RowInterleaving` applies to (with the VNNI
    /// kernels) and returns the units it changed. Results do not change: the tile kernels sum as the row kernels do.
    /// (The token table, even when it is the head's matrix, is read from the file, never from these units.)
    private static func interleaveResidentUnits(_ units: [Int], _ streamer: LayerStreamer) -> Set<Int> {
        guard RowInterleaving.appliesToNativeKernels else { return [] }
        var interleaved: Set<Int> = []
        for unit in units {
            guard let region = streamer.residentRegion(unit) else { continue }
            for placement in region.layout.placements {
                let matrix = WeightMatrix(entry: placement.tensor, base: region.base + placement.offset, rows: placement.rows.count)
                guard RowInterleaving.applies(to: matrix, kernels: .native) else { continue }
                _ = RowInterleaving.interleave(matrix)
                interleaved.insert(unit)
            }
        }
        return interleaved
    }

    /// Runs `tokens` (one per row of `batch`, at most `activations.rowCapacity`) through every block and the head,
    /// and moves each sequence on by its rows.
    /// - Parameter allLogits: logits for every row (evaluation) instead of the last row of each segment.
    /// - Returns: logits `[k][vocab]`, one row per segment (or per batch row with `allLogits`), in batch order.
    func forward(_ tokens: ArraySlice<Int>, batch: Batch, allLogits: Bool = false) throws -> UnsafeMutablePointer<Float> {
        let count = batch.rowCount
        precondition(count == tokens.count && count > 0 && count <= activations.rowCapacity, "\(tokens.count) tokens for \(count) rows")
        for segment in batch.segments where segment.firstPosition + segment.rows.count > segment.sequence.capacity {
            throw ModelError.contextFull(capacity: segment.sequence.capacity)
        }
        let x = activations
        let hidden = config.hiddenSize
        let compute = Compute(pool: pool, precision: precision, generatedRows: batch.generatedRows)
        try embedding.lookup(tokens, into: x.residual)

        for (layer, unit) in blockUnits.enumerated() {
            let weights = BlockWeights(unit: try streamer.acquire(unit), layer: layer, file: file,
                                       interleaved: interleavedUnits.contains(unit))
            defer { streamer.release(unit) }
            try family.forward(block: layer, weights: weights, batch: batch, x: x, compute: compute)
        }
        for segment in batch.segments { segment.sequence.advance(by: segment.rows.count) }

        // The rows whose logits are wanted, gathered to the front of the residual in batch order.
        let rows = allLogits ? count : batch.segments.count
        precondition(rows <= x.logitRows, "\(rows) rows of logits, room for \(x.logitRows)")
        if !allLogits {
            for (index, segment) in batch.segments.enumerated() where segment.rows.upperBound - 1 != index {
                (x.residual + index * hidden).update(from: x.residual + (segment.rows.upperBound - 1) * hidden, count: hidden)
            }
        }
        let vocabulary = config.vocabSize
        // The last row of each sequence, whether it was a prompt or a generated token, takes the row kernels, as a
        // sequence's one row alone does (see `Compute`); evaluation's logits for every row take the panels.
        let head = Compute(pool: pool, precision: precision, generatedRows: allLogits ? 0 : rows)
        for unit in headUnits {
            let part = try streamer.acquire(unit)
            defer { streamer.release(unit) }
            if part.tensor(TensorName.outputNorm) != nil {
                RMSNorm.apply(x.residual, into: x.normed, weight: try part.vector(TensorName.outputNorm, file: file),
                              rows: rows, width: hidden, epsilon: config.normEps)
            }
            // Every head unit holds rows of the output matrix: checked when the model was opened.
            guard let slice = part.rows(of: outputMatrix) else { throw ModelError.missingTensor(file: file, tensor: outputMatrix) }
            let matrix = try part.matrix(outputMatrix, file: file, interleaved: interleavedUnits.contains(unit))
            if slice.count == vocabulary {
                head.linear(matrix, x.normed, rows: rows, into: x.logits)
            } else {
                // A part of the head: its logits go to their columns of each row.
                for row in 0..<rows {
                    head.linear(matrix, x.normed + row * hidden, rows: 1, into: x.logits + row * vocabulary + slice.lowerBound)
                }
            }
        }
        return x.logits
    }
}
