/// One family's register tiles for its row kernels, over the per-matrix plan it prepared once per call.
protocol RowTiles {
    /// Whether 2 rows × 4 inputs fit the registers as one tile (AVX-512's 32); otherwise each row of a pair
    /// takes its own 1 × 4 tile (AVX2's 16).
    static var pairsFourInputs: Bool { get }

    /// Rows `row0` (and `row1` when the shape has two) times inputs `t …` into `out[k · yStride]` (row 0) and
    /// `out[k · yStride + 1]` (row 1).
    func tile<Shape: TileShape>(_: Shape.Type, _ row0: QuantizedRow, _ row1: QuantizedRow, _ inputs: QuantizedActivations,
                                first t: Int, _ out: UnsafeMutablePointer<Float>, yStride: Int)
}

/// The walk the VNNI and AVX2 row kernels share: rows block by block, the next rows' scales and biases read in
/// one burst first (`ParameterBurst`), rows in pairs when several inputs share them, inputs in tiles of 4 and
/// then one at a time. Each input sums in the same order whatever tile it falls in.
enum RowTiling {
    @inline(__always)
    static func product<Tiles: RowTiles>(_ tiles: Tiles, _ rows: Range<Int>, _ addressing: QuantizedAddressing,
                                         _ inputs: QuantizedActivations, _ y: UnsafeMutablePointer<Float>, yStride: Int) {
        let m = inputs.count
        var burst = SIMD16<UInt32>()
        addressing.blockRuns(rows) { first, count, firstRow in
            var r = 0
            while r < count {
                if r % ParameterBurst.rows == 0 {
                    burst |= ParameterBurst.read(firstRow.advanced(by: r, addressing), rows: min(ParameterBurst.rows, count - r), addressing)
                }
                // Pairs of rows share activation loads, which pays when the tile has several inputs; a
                // single input streams one row at a time, as two interleaved rows halve the DRAM rate
                // the prefetchers reach (measured: 9 against 15 GB/s on one thread).
                let pair = m >= 4 && r + 1 < count
                let row0 = firstRow.advanced(by: r, addressing), row1 = pair ? firstRow.advanced(by: r + 1, addressing) : row0
                let out = y + first + r
                var t = 0
                while t + 4 <= m {
                    if pair && Tiles.pairsFourInputs {
                        tiles.tile(TwoRowsFourInputs.self, row0, row1, inputs, first: t, out + t * yStride, yStride: yStride)
                    } else {
                        tiles.tile(OneRowFourInputs.self, row0, row0, inputs, first: t, out + t * yStride, yStride: yStride)
                        if pair { tiles.tile(OneRowFourInputs.self, row1, row1, inputs, first: t, out + t * yStride + 1, yStride: yStride) }
                    }
                    t += 4
                }
                while t < m {
                    if pair {
                        tiles.tile(TwoRowsOneInput.self, row0, row1, inputs, first: t, out + t * yStride, yStride: yStride)
                    } else {
                        tiles.tile(OneRowOneInput.self, row0, row1, inputs, first: t, out + t * yStride, yStride: yStride)
                    }
                    t += 1
                }
                r += pair ? 2 : 1
            }
        }
        ParameterBurst.keep(burst)
    }
}
