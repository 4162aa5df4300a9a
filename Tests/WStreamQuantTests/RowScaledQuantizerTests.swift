import Testing
import WStreamQuant

/// `GroupParameters.rowScaled`: the group parameters in 2 bytes instead of 4, with the error bound of the fp16 form.
@Suite struct RowScaledQuantizerTests {
    private func block(_ values: [Float], rows: Int, layout: QuantizedLayout, method: QuantizationMethod) throws
        -> (codes: [UInt8], scalesAndBiases: [UInt8]) {
        try values.withUnsafeBufferPointer { try Quantizer.quantizeBlock($0, rowCount: rows, layout: layout, method: method) }
    }

    private func squaredError(_ values: [Float], rows: Int, layout: QuantizedLayout, method: QuantizationMethod) throws -> Double {
        let stored = try block(values, rows: rows, layout: layout, method: method)
        let restored = Quantizer.dequantize(codes: stored.codes, scalesAndBiases: stored.scalesAndBiases, rowCount: rows, layout: layout)
        return zip(values, restored).reduce(0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
    }

    /// A row's parameters take 2 bytes per group plus 4 per row: a 4-bit weight costs 4.5 bits and a bit more.
    @Test func parametersTakeTwoBytesPerGroupAndFourPerRow() throws {
        let layout = QuantizedLayout(bits: 4, groupSize: 32, rows: 3, cols: 2048, parameters: .rowScaled)
        let stored = try block(weightLikeValues(count: 3 * 2048, seed: 1), rows: 3, layout: layout, method: .leastSquares)
        #expect(stored.codes.count == 3 * 1024)
        #expect(stored.scalesAndBiases.count == 3 * (2 * 64 + 4))
        #expect(layout.byteCount * 8 == 3 * 2048 * 4 + 3 * 64 * 16 + 3 * 32)
    }

    /// With min-max parameters every value comes back within half of its group's stored scale, the bound of
    /// the fp16 form; the stored scale is at most `1/u` coarser than the range needs (`u` its 8-bit multiple).
    @Test(arguments: [4, 6, 8], [32, 64, 128])
    func minMaxKeepsEveryValueWithinHalfAStep(bits: Int, groupSize: Int) throws {
        for cols in [172, 256, 2048] {
            let rows = 5
            let layout = QuantizedLayout(bits: bits, groupSize: groupSize, rows: rows, cols: cols, parameters: .rowScaled)
            let values = weightLikeValues(count: rows * cols, seed: UInt64(bits * 100 + groupSize + cols))
            let stored = try block(values, rows: rows, layout: layout, method: .minMax)
            let restored = Quantizer.dequantize(codes: stored.codes, scalesAndBiases: stored.scalesAndBiases, rowCount: rows, layout: layout)
            stored.scalesAndBiases.withUnsafeBytes { parameters in
                for r in 0..<rows {
                    let rowScale = parameters.loadUnaligned(fromByteOffset: 2 * rows * layout.groupsPerRow + 4 * r, as: Float.self)
                    for c in 0..<cols {
                        let units = Float(parameters[r * layout.groupsPerRow + c / groupSize])
                        let scale = rowScale * units
                        let i = r * cols + c
                        #expect(abs(values[i] - restored[i]) <= scale / 2 * 1.0001 + 1e-7,
                                "\(bits)-bit g\(groupSize) \(cols) cols: row \(r) column \(c) \(values[i]) → \(restored[i]), scale \(scale)")
                    }
                }
            }
        }
    }

    /// Least squares on the 8-bit grid never does worse than min-max on it, and costs little against the fp16 form
    /// on weight-like rows (outliers included): 4-bit codes lose 0.5 % in squared error (bound 2 %), 8-bit codes, whose
    /// error is 200× smaller to begin with, 16 % (bound 25 %).
    @Test(arguments: [4, 8])
    func leastSquaresStaysCloseToTheFloat16Form(bits: Int) throws {
        let rows = 16, cols = 2048
        let values = weightLikeValues(count: rows * cols, seed: UInt64(bits))
        let compact = QuantizedLayout(bits: bits, groupSize: 32, rows: rows, cols: cols, parameters: .rowScaled)
        let wide = QuantizedLayout(bits: bits, groupSize: 32, rows: rows, cols: cols, parameters: .float16)
        let leastSquares = try squaredError(values, rows: rows, layout: compact, method: .leastSquares)
        let minMax = try squaredError(values, rows: rows, layout: compact, method: .minMax)
        let float16 = try squaredError(values, rows: rows, layout: wide, method: .leastSquares)
        #expect(leastSquares <= minMax)
        #expect(leastSquares <= (bits == 4 ? 1.02 : 1.25) * float16, "row-scaled \(leastSquares) against fp16 \(float16)")
    }

    /// A group far from zero (its minimum beyond the offsets' reach at the scale its range needs) takes a
    /// coarser scale instead of failing; zero rows and constant groups stay bounded.
    @Test func groupsFarFromZeroAndConstantRowsStayBounded() throws {
        let cols = 96
        var values = (0..<cols).map { Float($0 % 32) * 0.001 + 5 }   // group 0..2: 5.000 … 5.031
        values += [Float](repeating: 0, count: cols)                     // a zero row
        values += [Float](repeating: -0.75, count: cols)                 // a constant row
        let layout = QuantizedLayout(bits: 4, groupSize: 32, rows: 3, cols: cols, parameters: .rowScaled)
        let stored = try block(values, rows: 3, layout: layout, method: .leastSquares)
        let restored = Quantizer.dequantize(codes: stored.codes, scalesAndBiases: stored.scalesAndBiases, rowCount: 3, layout: layout)
        for i in 0..<cols { #expect(abs(values[i] - restored[i]) <= 5.1 / (127 * 0.125) / 2, "far group column \(i): \(restored[i])") }
        for i in cols..<(2 * cols) { #expect(restored[i] == 0) }
        for i in (2 * cols)..<(3 * cols) { #expect(abs(restored[i] + 0.75) <= 0.75 / (127 * 0.125) / 2) }
    }
}
