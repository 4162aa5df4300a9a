/// Affine group quantisation (MLX's scheme).
///
/// Each group of `groupSize` values along a row stores `w ≈ scale · q + bias` with fp16 `scale` and `bias`
/// and `q` in `0 … 2^bits − 1`. The parameters are chosen in fp16 *before* the codes are computed, so the
/// error bound holds for the values actually stored:
/// - `bias` is the group's minimum rounded *down* to fp16, so every value is ≥ bias and no code goes negative;
/// - `scale` is `(max − bias) / (2^bits − 1)` rounded *up* to fp16, so `(max − bias) / scale ≤ 2^bits − 1`
///   and no code is clamped at the top.
/// Every value then reconstructs within `scale / 2` (plus float32 rounding). A constant group gets scale 0
/// (exact when its value is an fp16 number, otherwise a tiny scale that still bounds the error);
/// values already on a full fp16 grid (`s · q + b` using both code 0 and the top code) come back exactly.
/// Padding columns (`cols ..< paddedCols`) take no part in a group's minimum and maximum; their codes are 0.
/// That is `QuantizationMethod.minMax`; `.leastSquares` refines those parameters afterwards.
public enum Quantizer {
    /// Quantises `rowCount` rows (`rowCount · layout.cols` floats) into one block.
    /// - Parameters:
    ///   - values: the rows, row-major.
    ///   - rowCount: rows in this block.
    ///   - layout: bits, group size and columns (its `rows` is the whole matrix's and is not used here).
    ///   - firstRow: the matrix row of the block's first row, so that errors name the matrix row.
    ///   - method: how each group's scale and bias are chosen.
    /// - Returns: the block's codes, and its scales followed by its biases (fp16 bytes), as two parts
    ///   so that the container can compress them differently. Their concatenation is the block's bytes.
    /// - Throws: `QuantError.nonFinite` naming the row and column of an inf/NaN,
    ///   `QuantError.outOfFloat16Range` when a group's minimum or range does not fit fp16,
    ///   `QuantError.unsupportedLayout` for bits other than 4/8 or a group size not a multiple of 32.
    public static func quantizeBlock(
        _ values: UnsafeBufferPointer<Float>, rowCount: Int, layout: QuantizedLayout, firstRow: Int = 0,
        method: QuantizationMethod = .minMax
    ) throws -> (codes: [UInt8], scalesAndBiases: [UInt8]) {
        try validate(layout)
        precondition(values.count == rowCount * layout.cols, "quantizeBlock: expected \(rowCount) × \(layout.cols) values, got \(values.count)")
        let groups = layout.groupsPerRow
        var codes = [UInt8](repeating: 0, count: rowCount * layout.codeBytesPerRow)
        var parameters = [Float16](repeating: 0, count: 2 * rowCount * groups)
        try codes.withUnsafeMutableBufferPointer { codes in
            try parameters.withUnsafeMutableBufferPointer { parameters in
                for r in 0..<rowCount {
                    let row = UnsafeBufferPointer(rebasing: values[(r * layout.cols)..<((r + 1) * layout.cols)])
                    let rowCodes = UnsafeMutableBufferPointer(
                        rebasing: codes[(r * layout.codeBytesPerRow)..<((r + 1) * layout.codeBytesPerRow)])
                    for g in 0..<groups {
                        let (scale, bias) = try quantizeGroup(
                            row, columns: (g * layout.groupSize)..<min((g + 1) * layout.groupSize, layout.cols),
                            bits: layout.bits, method: method, into: rowCodes, row: firstRow + r)
                        parameters[r * groups + g] = scale
                        parameters[(rowCount + r) * groups + g] = bias
                    }
                }
            }
        }
        let scalesAndBiases = parameters.withUnsafeBytes { Array($0) }
        return (codes, scalesAndBiases)
    }

    /// Reconstructs `rowCount · layout.cols` floats from a block produced by `quantizeBlock` (the reference
    /// that tests and tools check kernels against; padding columns are dropped).
    /// - Parameters:
    ///   - codes: the block's codes.
    ///   - scalesAndBiases: the block's fp16 scales followed by its fp16 biases.
    ///   - rowCount: rows in the block.
    ///   - layout: the layout the block was quantised with.
    public static func dequantize(
        codes: [UInt8], scalesAndBiases: [UInt8], rowCount: Int, layout: QuantizedLayout
    ) -> [Float] {
        precondition(codes.count == rowCount * layout.codeBytesPerRow, "dequantize: wrong code byte count")
        precondition(scalesAndBiases.count == rowCount * layout.groupsPerRow * 4, "dequantize: wrong scale/bias byte count")
        let groups = layout.groupsPerRow
        var result = [Float](repeating: 0, count: rowCount * layout.cols)
        scalesAndBiases.withUnsafeBytes { parameters in
            for r in 0..<rowCount {
                for c in 0..<layout.cols {
                    let g = c / layout.groupSize
                    let scale = parameters.loadUnaligned(fromByteOffset: 2 * (r * groups + g), as: Float16.self)
                    let bias = parameters.loadUnaligned(fromByteOffset: 2 * ((rowCount + r) * groups + g), as: Float16.self)
                    let q = code(codes, row: r, column: c, layout: layout)
                    result[r * layout.cols + c] = Float(scale) * Float(q) + Float(bias)
                }
            }
        }
        return result
    }

    /// The code of column `column` in row `row` of a block's codes.
    static func code(_ codes: [UInt8], row: Int, column: Int, layout: QuantizedLayout) -> UInt8 {
        if layout.bits == 8 { return codes[row * layout.codeBytesPerRow + column] }
        let byte = codes[row * layout.codeBytesPerRow + column / 2]
        return column & 1 == 0 ? byte & 0x0F : byte >> 4
    }

    /// Throws unless the kernels can compute on `layout`.
    static func validate(_ layout: QuantizedLayout) throws {
        guard layout.bits == 4 || layout.bits == 8, layout.groupSize > 0, layout.groupSize % 32 == 0 else {
            throw QuantError.unsupportedLayout(bits: layout.bits, groupSize: layout.groupSize)
        }
    }

    /// Chooses one group's fp16 scale and bias and writes its codes into `rowCodes`.
    private static func quantizeGroup(
        _ row: UnsafeBufferPointer<Float>, columns: Range<Int>, bits: Int, method: QuantizationMethod,
        into rowCodes: UnsafeMutableBufferPointer<UInt8>, row rowIndex: Int
    ) throws -> (scale: Float16, bias: Float16) {
        var low = Float.infinity, high = -Float.infinity
        var lowColumn = columns.lowerBound, highColumn = columns.lowerBound
        for c in columns {
            let v = row[c]
            guard v.isFinite else { throw QuantError.nonFinite(row: rowIndex, column: c, value: v) }
            if v < low { low = v; lowColumn = c }
            if v > high { high = v; highColumn = c }
        }
        let maxCode = Float((1 << bits) - 1)
        let bias = float16RoundingDown(low)
        guard bias.isFinite else { throw QuantError.outOfFloat16Range(row: rowIndex, column: lowColumn, value: low) }
        let scale = float16RoundingUp((high - Float(bias)) / maxCode)
        guard scale.isFinite else { throw QuantError.outOfFloat16Range(row: rowIndex, column: highColumn, value: high) }

        var s = Float(scale), b = Float(bias)
        if method == .leastSquares, s > 0 {
            (s, b) = refineByLeastSquares(row, columns: columns, maxCode: maxCode, scale: s, bias: b)
        }
        for c in columns {
            // Division rather than a reciprocal: packing is offline, and it keeps on-grid values exact.
            let q = s == 0 ? 0 : UInt8(min(max(((row[c] - b) / s).rounded(), 0), maxCode))
            if bits == 8 {
                rowCodes[c] = q
            } else {
                rowCodes[c / 2] |= c & 1 == 0 ? q : q << 4
            }
        }
        return (Float16(s), Float16(b))
    }

    /// Alternates between coding the group with (scale, bias) and refitting (scale, bias) to those codes
    /// by least squares, keeping fp16-representable parameters and accepting only lower squared error.
    /// One pass over the group per step yields both the error of the current parameters and the sums for
    /// the next fit; three steps capture nearly all of the gain (packing speed matters at 1B parameters).
    private static func refineByLeastSquares(
        _ row: UnsafeBufferPointer<Float>, columns: Range<Int>, maxCode: Float, scale: Float, bias: Float
    ) -> (Float, Float) {
        struct Pass {
            var error: Float = 0, n: Float = 0, sumQ: Float = 0, sumW: Float = 0, sumQQ: Float = 0, sumQW: Float = 0
        }
        func pass(_ s: Float, _ b: Float) -> Pass {
            var p = Pass()
            for c in columns {
                let w = row[c]
                // Division, as the final coding does, so the error measured here is the error stored.
                let q = min(max(((w - b) / s).rounded(), 0), maxCode)
                let d = w - (s * q + b)
                p.error += d * d
                p.n += 1
                p.sumQ += q
                p.sumW += w
                p.sumQQ += q * q
                p.sumQW += q * w
            }
            return p
        }
        var (s, b) = (scale, bias)
        var current = pass(s, b)
        for _ in 0..<3 where current.error > 0 {
            let determinant = current.n * current.sumQQ - current.sumQ * current.sumQ
            guard determinant > 0 else { break }
            let fittedScale = Float(Float16((current.n * current.sumQW - current.sumQ * current.sumW) / determinant))
            let fittedBias = Float(Float16((current.sumW - fittedScale * current.sumQ) / current.n))
            guard fittedScale > 0, fittedScale.isFinite, fittedBias.isFinite else { break }
            let next = pass(fittedScale, fittedBias)
            guard next.error < current.error else { break }
            (s, b, current) = (fittedScale, fittedBias, next)
        }
        return (s, b)
    }

    /// The largest fp16 value ≤ `v` (−∞ when there is none).
    static func float16RoundingDown(_ v: Float) -> Float16 {
        var h = Float16(v)
        if Float(h) > v { h = h.nextDown }
        return h
    }

    /// The smallest fp16 value ≥ `v` (+∞ when there is none).
    static func float16RoundingUp(_ v: Float) -> Float16 {
        var h = Float16(v)
        if Float(h) < v { h = h.nextUp }
        return h
    }
}
