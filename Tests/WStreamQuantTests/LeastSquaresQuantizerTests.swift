import Testing
import WStreamQuant

/// `QuantizationMethod.leastSquares` starts from min-max and only accepts lower error.
@Suite struct LeastSquaresQuantizerTests {
    private func reconstruct(_ values: [Float], rows: Int, layout: QuantizedLayout, method: QuantizationMethod) throws -> [Float] {
        let block = try values.withUnsafeBufferPointer {
            try Quantizer.quantizeBlock($0, rowCount: rows, layout: layout, method: method)
        }
        return Quantizer.dequantize(codes: block.codes, scalesAndBiases: block.scalesAndBiases, rowCount: rows, layout: layout)
    }

    @Test(arguments: [4, 6, 8], [32, 64, 128])
    func everyGroupsSquaredErrorIsAtMostMinMaxs(bits: Int, groupSize: Int) throws {
        let rows = 16, cols = 172
        let layout = QuantizedLayout(bits: bits, groupSize: groupSize, rows: rows, cols: cols)
        let values = weightLikeValues(count: rows * cols, seed: UInt64(bits * 100 + groupSize))
        let minMax = try reconstruct(values, rows: rows, layout: layout, method: .minMax)
        let fitted = try reconstruct(values, rows: rows, layout: layout, method: .leastSquares)
        var totalMinMax: Double = 0, totalFitted: Double = 0
        for r in 0..<rows {
            for g in 0..<layout.groupsPerRow {
                let columns = (g * groupSize)..<min((g + 1) * groupSize, cols)
                let errorMinMax = columns.reduce(0.0) { let d = Double(values[r * cols + $1] - minMax[r * cols + $1]); return $0 + d * d }
                let errorFitted = columns.reduce(0.0) { let d = Double(values[r * cols + $1] - fitted[r * cols + $1]); return $0 + d * d }
                // Float32 evaluation of the same sums may differ in the last bits.
                #expect(errorFitted <= errorMinMax * (1 + 1e-5) + 1e-12, "row \(r) group \(g)")
                totalMinMax += errorMinMax
                totalFitted += errorFitted
            }
        }
        if bits == 4 { #expect(totalFitted < totalMinMax * 0.95, "least squares should lower 4-bit error noticeably") }
    }

    @Test func onGridConstantAndZeroGroupsStayExact() throws {
        let layout = QuantizedLayout(bits: 4, groupSize: 32, rows: 3, cols: 32)
        let grid = (0..<32).map { Float(Float16(0.25)) * Float($0 % 16) - 1 }
        let values = grid + [Float](repeating: 0.375, count: 32) + [Float](repeating: 0, count: 32)
        #expect(try reconstruct(values, rows: 3, layout: layout, method: .leastSquares) == values)
    }
}
