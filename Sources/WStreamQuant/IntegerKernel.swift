/// Products of q4/q8 rows with int8 activations (`QuantizedActivations`) in integer arithmetic:
/// `y = Σ_g s_g · Σ_chunks d · (q_w · q_x) + Σ_g b_g · Σ x̂_g`.
///
/// Each family keeps the integer products of a vector load lane by lane, converts them to float once per
/// load, multiplies by the lanes' `s · d` and accumulates in float; the lanes are summed once per row.
/// `ReferenceKernels.integerMatmul` is the scalar definition they are tested against.
protocol IntegerKernel {
    /// Chunks of 32 columns one vector load of `bits`-bit codes covers (the span of the 4-bit
    /// activation order).
    static func chunksPerLoad(bits: Int) -> Int
    /// Whether the kernel handles the layout's group size; the portable kernel handles every one.
    static func supports(_ layout: QuantizedLayout) -> Bool
    /// Rows `rows` times every input into `y[t · yStride + r]`.
    static func rows(_ rows: Range<Int>, _ addressing: QuantizedAddressing, _ inputs: QuantizedActivations,
                     _ y: UnsafeMutablePointer<Float>, yStride: Int)
}

extension QuantizedAddressing {
    /// Calls `body(first, count, row)` for each run of consecutive rows of `rows` inside one stored block,
    /// with `row` the addresses of the run's first row (the others follow by `advanced(by:)`).
    @inline(__always)
    func blockRuns(_ rows: Range<Int>, _ body: (Int, Int, QuantizedRow) -> Void) {
        var start = rows.lowerBound
        while start < rows.upperBound {
            let end = min(rows.upperBound, nextBlockStart(after: start))
            body(start, end - start, row(start))
            start = end
        }
    }
}

/// Rows × inputs of a kernel's register tile, as types so that each shape compiles to its own loop with
/// its accumulators in registers.
protocol TileShape {
    static var rows: Int { get }
    static var inputs: Int { get }
}

enum TwoRowsFourInputs: TileShape {
    static var rows: Int { 2 }
    static var inputs: Int { 4 }
}

enum OneRowFourInputs: TileShape {
    static var rows: Int { 1 }
    static var inputs: Int { 4 }
}

enum TwoRowsOneInput: TileShape {
    static var rows: Int { 2 }
    static var inputs: Int { 1 }
}

enum OneRowOneInput: TileShape {
    static var rows: Int { 1 }
    static var inputs: Int { 1 }
}
