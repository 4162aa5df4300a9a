import Testing
import WStreamQuant

/// Scales and biases of a block, read back from `scalesAndBiases`.
private func parameters(_ bytes: [UInt8], rowCount: Int, layout: QuantizedLayout) -> (scales: [Float], biases: [Float]) {
    let values = bytes.withUnsafeBytes { raw in
        (0..<(raw.count / 2)).map { Float(raw.loadUnaligned(fromByteOffset: 2 * $0, as: Float16.self)) }
    }
    let half = rowCount * layout.groupsPerRow
    return (Array(values[..<half]), Array(values[half...]))
}

private func quantize(_ values: [Float], rowCount: Int, layout: QuantizedLayout) throws -> (codes: [UInt8], scalesAndBiases: [UInt8]) {
    try values.withUnsafeBufferPointer { try Quantizer.quantizeBlock($0, rowCount: rowCount, layout: layout) }
}

@Suite struct QuantizerTests {
    /// Every value comes back within half a step of its group, and the step is as fine as the group's range
    /// allows: `scale ≤ (max − min + one fp16 ulp of min) / (2^bits − 1)`, rounded up to fp16.
    ///
    /// Slack beyond `scale/2`: the code is computed as `fl(fl(w − b) / s)`, two roundings of relative size
    /// 2^-24 on a value ≤ 255, which can move it by 255·2^-23 ≈ 3.1e-5 steps before rounding to a code; and the
    /// reconstruction `s·q + b` (s·q is exact: 11 × 8 bits) rounds once more, by ≤ 2^-24·|ŵ|.
    @Test(arguments: [4, 6, 8], [32, 64, 128])
    func reconstructionErrorIsAtMostHalfAStep(bits: Int, groupSize: Int) throws {
        for cols in [172, 256, 300] {
            let rows = 9
            let layout = QuantizedLayout(bits: bits, groupSize: groupSize, rows: rows, cols: cols)
            let values = weightLikeValues(count: rows * cols, seed: UInt64(bits * 1000 + groupSize + cols))
            let block = try quantize(values, rowCount: rows, layout: layout)
            #expect(block.codes.count == rows * layout.codeBytesPerRow)
            #expect(block.scalesAndBiases.count == rows * layout.groupsPerRow * 4)
            let (scales, biases) = parameters(block.scalesAndBiases, rowCount: rows, layout: layout)
            let restored = Quantizer.dequantize(codes: block.codes, scalesAndBiases: block.scalesAndBiases, rowCount: rows, layout: layout)
            for r in 0..<rows {
                for g in 0..<layout.groupsPerRow {
                    let columns = (g * groupSize)..<min((g + 1) * groupSize, cols)
                    let group = columns.map { values[r * cols + $0] }
                    let low = group.min()!, high = group.max()!
                    let scale = scales[r * layout.groupsPerRow + g], bias = biases[r * layout.groupsPerRow + g]
                    #expect(bias <= low && low - bias <= Float(Float16(low).ulp) * 2)
                    let finest = (high - low + 2 * Float(Float16(low).ulp)) / Float(layout.maxCode)
                    #expect(scale <= finest * (1 + 1.0 / 1024) + Float(Float16.leastNonzeroMagnitude))
                    for c in columns {
                        let w = values[r * cols + c], restoredValue = restored[r * cols + c]
                        let slack = scale * 1e-4 + abs(restoredValue) * 0x1p-23
                        #expect(abs(w - restoredValue) <= scale / 2 + slack, "row \(r) column \(c): \(w) → \(restoredValue), scale \(scale)")
                    }
                }
            }
        }
    }

    /// A group whose values are `s·q + b` with fp16 `s`, `b` and codes spanning 0…2^bits−1 is stored exactly.
    @Test(arguments: [4, 6, 8], [32, 64, 128])
    func onGridValuesReconstructExactly(bits: Int, groupSize: Int) throws {
        var generator = SplitMix64(seed: UInt64(bits + groupSize))
        let rows = 5, cols = groupSize * 3
        let layout = QuantizedLayout(bits: bits, groupSize: groupSize, rows: rows, cols: cols)
        var values: [Float] = []
        for _ in 0..<(rows * layout.groupsPerRow) {
            // Multiples of 2^-10 below 2^7: every sum below is exact in float32 and the step exact in fp16.
            let step = Float(Int.random(in: 1...32, using: &generator)) * 0x1p-10
            let bias = Float(Int.random(in: -1024...1024, using: &generator)) * 0x1p-10
            var codes = (0..<groupSize).map { _ in Int.random(in: 0...layout.maxCode, using: &generator) }
            codes[Int.random(in: 0..<groupSize, using: &generator)] = 0
            codes[Int.random(in: 0..<groupSize / 2, using: &generator) * 2 + 1] = layout.maxCode
            values += codes.map { step * Float($0) + bias }
        }
        let block = try quantize(values, rowCount: rows, layout: layout)
        let restored = Quantizer.dequantize(codes: block.codes, scalesAndBiases: block.scalesAndBiases, rowCount: rows, layout: layout)
        #expect(restored == values)
    }

    @Test(arguments: [4, 6, 8])
    func constantAndZeroGroupsReconstructExactly(bits: Int) throws {
        let layout = QuantizedLayout(bits: bits, groupSize: 32, rows: 1, cols: 4 * 32 + 12)
        var values = [Float](repeating: 0, count: 32)
        values += [Float](repeating: 0.375, count: 32)
        values += [Float](repeating: -1.5, count: 32)
        values += [Float](repeating: 1000, count: 32)
        values += [Float](repeating: -0.0625, count: 12)
        let block = try quantize(values, rowCount: 1, layout: layout)
        let restored = Quantizer.dequantize(codes: block.codes, scalesAndBiases: block.scalesAndBiases, rowCount: 1, layout: layout)
        #expect(restored == values)
        #expect(parameters(block.scalesAndBiases, rowCount: 1, layout: layout).scales == [0, 0, 0, 0, 0])
    }

    /// A constant that fp16 cannot hold still comes back far closer than fp16's own rounding.
    @Test func constantGroupOffTheFloat16GridStaysClose() throws {
        let layout = QuantizedLayout(bits: 4, groupSize: 32, rows: 1, cols: 32)
        let value: Float = 0.1
        let block = try quantize([Float](repeating: value, count: 32), rowCount: 1, layout: layout)
        let restored = Quantizer.dequantize(codes: block.codes, scalesAndBiases: block.scalesAndBiases, rowCount: 1, layout: layout)
        for v in restored { #expect(abs(v - value) <= Float(Float16(value).ulp) / 16) }
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteValuesAreRejectedWithTheirRowAndColumn(bad: Float) throws {
        let layout = QuantizedLayout(bits: 4, groupSize: 32, rows: 3, cols: 40)
        var values = weightLikeValues(count: 3 * 40, seed: 7)
        values[2 * 40 + 37] = bad
        let error = #expect(throws: QuantError.self) {
            try values.withUnsafeBufferPointer { try Quantizer.quantizeBlock($0, rowCount: 3, layout: layout, firstRow: 64) }
        }
        guard case let .nonFinite(row, column, value) = error else { Issue.record("wrong error \(String(describing: error))"); return }
        #expect(row == 66 && column == 37)
        #expect(value.isNaN == bad.isNaN && (bad.isNaN || value == bad))
        #expect(error!.description.contains("row 66, column 37"))
    }

    @Test func valuesBeyondFloat16RangeAreRejected() throws {
        let layout = QuantizedLayout(bits: 4, groupSize: 32, rows: 1, cols: 32)
        var values = [Float](repeating: 0, count: 32)
        values[5] = -70000
        #expect(throws: QuantError.outOfFloat16Range(row: 0, column: 5, value: -70000)) {
            _ = try quantize(values, rowCount: 1, layout: layout)
        }
        values[5] = 0
        values[9] = 2e6
        #expect(throws: QuantError.outOfFloat16Range(row: 0, column: 9, value: 2e6)) {
            _ = try quantize(values, rowCount: 1, layout: layout)
        }
    }

    @Test func unsupportedLayoutsAreRejected() {
        for (bits, groupSize) in [(3, 32), (4, 48), (8, 0), (2, 64)] {
            let layout = QuantizedLayout(bits: bits, groupSize: groupSize, rows: 1, cols: 64)
            #expect(throws: QuantError.unsupportedLayout(bits: bits, groupSize: groupSize)) {
                _ = try quantize([Float](repeating: 0, count: 64), rowCount: 1, layout: layout)
            }
        }
    }

    /// Padding takes no part in a group's range: a last group of large values gets a step sized to them
    /// (not stretched down to the padding's zeros), and padding codes are zero.
    @Test(arguments: [32, 64, 128])
    func paddingDoesNotWidenTheLastGroup(groupSize: Int) throws {
        let cols = 172
        let layout = QuantizedLayout(bits: 4, groupSize: groupSize, rows: 1, cols: cols)
        let values = (0..<cols).map { Float(10 + ($0 % 3)) }
        let block = try quantize(values, rowCount: 1, layout: layout)
        let (scales, biases) = parameters(block.scalesAndBiases, rowCount: 1, layout: layout)
        #expect(biases.last! == 10)
        #expect(scales.last! <= 2.0 / 15 * 1.001)
        #expect(block.codes[(cols / 2)...].allSatisfy { $0 == 0 })
    }

    @Test func float16EncodingRoundsAndRejectsOverflow() throws {
        let values: [Float] = [0, 1, -2.5, 0.1, 65504]
        let bytes = try values.withUnsafeBufferPointer { try Quantizer.encodeFloat16(rows: $0, cols: 5) }
        let decoded = bytes.withUnsafeBytes { raw in (0..<5).map { Float(raw.loadUnaligned(fromByteOffset: 2 * $0, as: Float16.self)) } }
        #expect(decoded == values.map { Float(Float16($0)) })
        #expect(throws: QuantError.outOfFloat16Range(row: 1, column: 0, value: 1e5)) {
            _ = try [1, 2, 1e5].withUnsafeBufferPointer { try Quantizer.encodeFloat16(rows: $0, cols: 2) }
        }
    }

    @Test func float32EncodingKeepsEveryBit() throws {
        let values: [Float] = [0, -0.0, .leastNonzeroMagnitude, 3.14159, -1e30]
        let bytes = try values.withUnsafeBufferPointer { try Quantizer.encodeFloat32(rows: $0, cols: 5) }
        let decoded = bytes.withUnsafeBytes { raw in (0..<5).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self) } }
        #expect(decoded == values.map(\.bitPattern))
        #expect(throws: QuantError.nonFinite(row: 0, column: 1, value: .infinity)) {
            _ = try [1, .infinity].withUnsafeBufferPointer { try Quantizer.encodeFloat32(rows: $0, cols: 2) }
        }
    }
}
