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
///
/// That describes `GroupParameters.float16`. With `.rowScaled` the parameters are chosen on that form's
/// grid instead (see `quantizeRowScaledRow`), with the same bound: every value within half of its group's
/// stored scale.
public enum Quantizer {
    /// Quantises `rowCount` rows (`rowCount · layout.cols` floats) into one block.
    /// - Parameters:
    ///   - values: the rows, row-major.
    ///   - rowCount: rows in this block.
    ///   - layout: bits, group size and columns (its `rows` is the whole matrix's and is not used here).
    ///   - firstRow: the matrix row of the block's first row, so that errors name the matrix row.
    ///   - method: how each group's scale and bias are chosen.
    /// - Returns: the block's codes, and its group parameters (`QuantizedLayout` gives their order), as two
    ///   parts so that the container can compress them differently. Their concatenation is the block's bytes.
    /// - Throws: `QuantError.nonFinite` naming the row and column of an inf/NaN,
    ///   `QuantError.outOfFloat16Range` when a group's minimum or range does not fit fp16,
    ///   `QuantError.unsupportedLayout` for bits other than 4/6/8 or a group size not a multiple of 32.
    public static func quantizeBlock(
        _ values: UnsafeBufferPointer<Float>, rowCount: Int, layout: QuantizedLayout, firstRow: Int = 0,
        method: QuantizationMethod = .minMax
    ) throws -> (codes: [UInt8], scalesAndBiases: [UInt8]) {
        try validate(layout)
        precondition(values.count == rowCount * layout.cols, "quantizeBlock: expected \(rowCount) × \(layout.cols) values, got \(values.count)")
        var codes = [UInt8](repeating: 0, count: rowCount * layout.codeBytesPerRow)
        var parameters = [UInt8](repeating: 0, count: rowCount * layout.allParameterBytesPerRow)
        try codes.withUnsafeMutableBufferPointer { codes in
            try parameters.withUnsafeMutableBytes { parameters in
                for r in 0..<rowCount {
                    let row = UnsafeBufferPointer(rebasing: values[(r * layout.cols)..<((r + 1) * layout.cols)])
                    let rowCodes = UnsafeMutableBufferPointer(
                        rebasing: codes[(r * layout.codeBytesPerRow)..<((r + 1) * layout.codeBytesPerRow)])
                    switch layout.parameters {
                    case .float16:
                        try quantizeFloat16Row(row, layout: layout, method: method, into: rowCodes, parameters: parameters,
                                               row: r, rowCount: rowCount, firstRow: firstRow)
                    case .rowScaled:
                        try quantizeRowScaledRow(row, layout: layout, method: method, into: rowCodes, parameters: parameters,
                                                 row: r, rowCount: rowCount, firstRow: firstRow)
                    }
                }
            }
        }
        return (codes, parameters)
    }

    /// One row into fp16 scales and biases (`GroupParameters.float16`).
    private static func quantizeFloat16Row(
        _ row: UnsafeBufferPointer<Float>, layout: QuantizedLayout, method: QuantizationMethod,
        into rowCodes: UnsafeMutableBufferPointer<UInt8>, parameters: UnsafeMutableRawBufferPointer, row r: Int, rowCount: Int, firstRow: Int
    ) throws {
        let groups = layout.groupsPerRow
        for g in 0..<groups {
            let columns = (g * layout.groupSize)..<min((g + 1) * layout.groupSize, layout.cols)
            let (scale, bias) = try groupParameters(row, columns: columns, bits: layout.bits, method: method, row: firstRow + r)
            writeCodes(row, columns: columns, layout: layout, scale: scale, bias: bias, into: rowCodes)
            parameters.storeBytes(of: Float16(scale), toByteOffset: 2 * (r * groups + g), as: Float16.self)
            parameters.storeBytes(of: Float16(bias), toByteOffset: 2 * ((rowCount + r) * groups + g), as: Float16.self)
        }
    }

    /// One row into a row scale `D` and per group an 8-bit multiple `u` of it and an 8-bit offset `z`
    /// (`GroupParameters.rowScaled`).
    ///
    /// Each group first gets the least scale that lets its range fit once the bias is rounded down to a whole
    /// offset step (`range / (2^bits − 1 − unit)`), and that keeps its minimum within the offsets' reach
    /// (`|min| / (127 · unit)`; it only binds for a group far from zero). `D` is the row's largest such scale
    /// over 255, each `u` is rounded up and each `z` down, so that every value still reconstructs within
    /// half of its group's stored scale. With `.leastSquares`, the refitted parameters are rounded to the
    /// same grid and kept for a group only when its squared error is lower.
    private static func quantizeRowScaledRow(
        _ row: UnsafeBufferPointer<Float>, layout: QuantizedLayout, method: QuantizationMethod,
        into rowCodes: UnsafeMutableBufferPointer<UInt8>, parameters: UnsafeMutableRawBufferPointer, row r: Int, rowCount: Int, firstRow: Int
    ) throws {
        let groups = layout.groupsPerRow, bits = layout.bits
        let maxCode = Float(layout.maxCode), unit = GroupParameters.offsetUnit(bits: bits)
        var needed = [Float](repeating: 0, count: groups), lows = needed
        var refitted = [(scale: Float, bias: Float)?](repeating: nil, count: groups)
        var largest: Float = 0
        for g in 0..<groups {
            let columns = (g * layout.groupSize)..<min((g + 1) * layout.groupSize, layout.cols)
            let (low, high) = try range(row, columns: columns, row: firstRow + r)
            lows[g] = low
            needed[g] = max((high - low) / (maxCode - unit), abs(low) / (127 * unit))
            largest = max(largest, needed[g])
            if method == .leastSquares, high > low {
                let s = (high - low) / maxCode
                let fit = refineByLeastSquares(row, columns: columns, maxCode: maxCode, scale: s, bias: low)
                refitted[g] = fit
                largest = max(largest, fit.scale)
            }
        }
        let rowScale = largest == 0 ? 0 : (largest / 255).nextUp
        guard rowScale.isFinite else { throw QuantError.nonFinite(row: firstRow + r, column: 0, value: rowScale) }
        let scales = parameters.baseAddress! + r * groups
        let offsets = parameters.baseAddress! + (rowCount + r) * groups
        parameters.storeBytes(of: rowScale, toByteOffset: 2 * rowCount * groups + 4 * r, as: Float.self)
        for g in 0..<groups where rowScale > 0 {
            let columns = (g * layout.groupSize)..<min((g + 1) * layout.groupSize, layout.cols)
            // Min-max on the grid: u rounded up, z rounded down.
            var u = min((needed[g] / rowScale).rounded(.up), 255)
            var z = u == 0 ? 0 : max((lows[g] / (rowScale * u * unit)).rounded(.down), -128)
            if let fit = refitted[g] {
                // The grid points around the refitted parameters, each with its nearest offset.
                var best = squaredError(row, columns: columns, maxCode: maxCode, scale: rowScale * u, bias: rowScale * u * z * unit)
                let nearest = (fit.scale / rowScale).rounded()
                for fu in [nearest - 1, nearest, nearest + 1] where fu >= 1 && fu <= 255 {
                    let centre = (fit.bias / (rowScale * fu * unit)).rounded()
                    for fz in [centre - 1, centre, centre + 1] where fz >= -128 && fz <= 127 {
                        let error = squaredError(row, columns: columns, maxCode: maxCode, scale: rowScale * fu, bias: rowScale * fu * fz * unit)
                        if error < best { (best, u, z) = (error, fu, fz) }
                    }
                }
            }
            let scale = rowScale * u
            writeCodes(row, columns: columns, layout: layout, scale: scale, bias: scale * z * unit, into: rowCodes)
            scales.storeBytes(of: UInt8(u), toByteOffset: g, as: UInt8.self)
            offsets.storeBytes(of: Int8(z), toByteOffset: g, as: Int8.self)
        }
    }

    /// Reconstructs `rowCount · layout.cols` floats from a block produced by `quantizeBlock` (the reference
    /// that tests and tools check kernels against; padding columns are dropped).
    /// - Parameters:
    ///   - codes: the block's codes.
    ///   - scalesAndBiases: the block's group parameters.
    ///   - rowCount: rows in the block.
    ///   - layout: the layout the block was quantised with.
    public static func dequantize(
        codes: [UInt8], scalesAndBiases: [UInt8], rowCount: Int, layout: QuantizedLayout
    ) -> [Float] {
        precondition(codes.count == rowCount * layout.codeBytesPerRow, "dequantize: wrong code byte count")
        precondition(scalesAndBiases.count == rowCount * layout.allParameterBytesPerRow, "dequantize: wrong parameter byte count")
        let block = codes + scalesAndBiases
        return block.withUnsafeBytes { bytes in
            let w = WeightMatrix(storage: WeightMatrix.Storage(codeBits: layout.bits)!, rows: rowCount, cols: layout.cols, groupSize: layout.groupSize,
                                 rowsPerBlock: rowCount, parameters: layout.parameters, base: bytes.baseAddress!)
            return (0..<(rowCount * layout.cols)).map { ReferenceKernels.weight(w, row: $0 / layout.cols, column: $0 % layout.cols) }
        }
    }

    /// The code of column `column` in row `row` of a block's codes.
    static func code(_ codes: [UInt8], row: Int, column: Int, layout: QuantizedLayout) -> UInt8 {
        codes.withUnsafeBytes { layout.code($0.baseAddress! + row * layout.codeBytesPerRow, column: column) }
    }

    /// Throws unless the kernels can compute on `layout`.
    static func validate(_ layout: QuantizedLayout) throws {
        guard [4, 6, 8].contains(layout.bits), layout.groupSize > 0, layout.groupSize % 32 == 0 else {
            throw QuantError.unsupportedLayout(bits: layout.bits, groupSize: layout.groupSize)
        }
    }

    /// The smallest and largest value of a group.
    /// - Throws: `QuantError.nonFinite` naming the row and column of an inf/NaN.
    private static func range(_ row: UnsafeBufferPointer<Float>, columns: Range<Int>, row rowIndex: Int) throws -> (Float, Float) {
        var low = Float.infinity, high = -Float.infinity
        for c in columns {
            let v = row[c]
            guard v.isFinite else { throw QuantError.nonFinite(row: rowIndex, column: c, value: v) }
            low = min(low, v)
            high = max(high, v)
        }
        return (low, high)
    }

    /// Chooses one group's fp16-representable scale and bias (`GroupParameters.float16`).
    private static func groupParameters(
        _ row: UnsafeBufferPointer<Float>, columns: Range<Int>, bits: Int, method: QuantizationMethod, row rowIndex: Int
    ) throws -> (scale: Float, bias: Float) {
        let (low, high) = try range(row, columns: columns, row: rowIndex)
        let maxCode = Float((1 << bits) - 1)
        let bias = float16RoundingDown(low)
        guard bias.isFinite else {
            throw QuantError.outOfFloat16Range(row: rowIndex, column: columns.first { row[$0] == low } ?? columns.lowerBound, value: low)
        }
        let scale = float16RoundingUp((high - Float(bias)) / maxCode)
        guard scale.isFinite else {
            throw QuantError.outOfFloat16Range(row: rowIndex, column: columns.first { row[$0] == high } ?? columns.lowerBound, value: high)
        }
        let (s, b) = (Float(scale), Float(bias))
        guard method == .leastSquares, s > 0 else { return (s, b) }
        let fit = refineByLeastSquares(row, columns: columns, maxCode: maxCode, scale: s, bias: b)
        return (Float(Float16(fit.scale)), Float(Float16(fit.bias)))
    }

    /// Writes the codes of `columns` for `scale` and `bias` into `rowCodes` (which starts zeroed).
    private static func writeCodes(
        _ row: UnsafeBufferPointer<Float>, columns: Range<Int>, layout: QuantizedLayout, scale s: Float, bias b: Float,
        into rowCodes: UnsafeMutableBufferPointer<UInt8>
    ) {
        let maxCode = Float(layout.maxCode)
        for c in columns {
            // Division rather than a reciprocal: packing is offline, and it keeps on-grid values exact.
            let q = s == 0 ? 0 : UInt8(min(max(((row[c] - b) / s).rounded(), 0), maxCode))
            switch layout.bits {
            case 8: rowCodes[c] = q
            case 6: SixBitCodes.store(q, column: c, chunks: layout.paddedCols / 32, into: rowCodes)
            default: rowCodes[c / 2] |= c & 1 == 0 ? q : q << 4
            }
        }
    }

    /// The squared error of coding `columns` with `scale` and `bias`.
    private static func squaredError(_ row: UnsafeBufferPointer<Float>, columns: Range<Int>, maxCode: Float, scale s: Float, bias b: Float) -> Float {
        var error: Float = 0
        for c in columns {
            let q = s == 0 ? 0 : min(max(((row[c] - b) / s).rounded(), 0), maxCode)
            let d = row[c] - (s * q + b)
            error += d * d
        }
        return error
    }

    /// Alternates between coding the group with (scale, bias) and refitting (scale, bias) to those codes
    /// by least squares, keeping fp16-representable parameters and accepting only lower squared error.
    /// One pass over the group per step yields both the error of the current parameters and the sums for
    /// the next fit; three steps capture nearly all of the gain (packing speed matters at 1B parameters).
    private static func refineByLeastSquares(
        _ row: UnsafeBufferPointer<Float>, columns: Range<Int>, maxCode: Float, scale: Float, bias: Float
    ) -> (scale: Float, bias: Float) {
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
