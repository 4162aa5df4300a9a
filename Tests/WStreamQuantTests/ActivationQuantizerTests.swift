import Testing
@testable import WStreamQuant

/// `QuantizedActivations`, the int8 activations the integer kernels read, against the scalar
/// `ReferenceKernels.quantizeActivations`: codes and scales must agree exactly, in the layout each kernel
/// family expects.
@Suite struct ActivationQuantizerTests {
    /// Quantises `values` (one input of `values.count` columns) and returns what the kernels would read,
    /// rearranged into column order: codes over the padded chunks, one scale per chunk (checking that
    /// every lane of a chunk holds it), and the group sums.
    private func quantized(_ values: [Float], bits: Int = 4, groupSize: Int = 32, chunksPerLoad: Int = 4)
        -> (codes: [Int8], scales: [Float], sums: [Float], layout: QuantizedLayout) {
        let layout = QuantizedLayout(bits: bits, groupSize: groupSize, rows: 1, cols: values.count)
        let bytes = QuantizedActivations.byteCount(count: 1, layout: layout, chunksPerLoad: chunksPerLoad)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { scratch.deallocate() }
        // Garbage in the scratch must not survive quantisation.
        scratch.initializeMemory(as: UInt8.self, repeating: 0xA5, count: bytes)
        let inputs = QuantizedActivations(scratch: scratch, count: 1, layout: layout, chunksPerLoad: chunksPerLoad)
        values.withUnsafeBufferPointer { inputs.quantize($0.baseAddress!, into: 0) }
        var codes = [Int8](repeating: 0, count: inputs.chunkCount * 32)
        var scales = [Float](repeating: 0, count: inputs.chunkCount)
        for chunk in 0..<inputs.chunkCount {
            for i in 0..<32 {
                let position: Int
                if bits != 8 {
                    let span = chunk / chunksPerLoad * chunksPerLoad * 32, place = 16 * (chunk % chunksPerLoad)
                    position = span + (i % 2 == 0 ? place + i / 2 : 16 * chunksPerLoad + place + i / 2)
                } else {
                    position = chunk * 32 + i
                }
                codes[chunk * 32 + i] = inputs.codes(0)[position]
            }
            let lanes = (0..<inputs.lanesPerChunk).map { inputs.laneScales(0)[chunk * inputs.lanesPerChunk + $0] }
            #expect(lanes.allSatisfy { $0.bitPattern == lanes[0].bitPattern }, "chunk \(chunk) lanes \(lanes)")
            scales[chunk] = lanes[0]
        }
        let sums = (0..<inputs.paddedGroups).map { inputs.groupSums(0)[$0] }
        return (codes, scales, sums, layout)
    }

    private func reference(_ values: [Float]) -> (codes: [Int8], scales: [Float]) {
        values.withUnsafeBufferPointer { ReferenceKernels.quantizeActivations($0.baseAddress!, cols: values.count) }
    }

    private func sameScales(_ a: [Float], _ b: [Float]) -> Bool { a.map(\.bitPattern) == b.map(\.bitPattern) }

    /// Every chunk size the kernels use, every weight width, columns that end inside a chunk and inside a
    /// load: the codes and scales are the reference's, and the padding (past `cols` and past the last
    /// group, up to whole loads) is zero codes with a zero scale.
    @Test(arguments: [1, 2, 4], [4, 6, 8])
    func quantisationMatchesTheReferenceInEveryLayout(chunksPerLoad: Int, bits: Int) {
        var generator = SplitMix64(seed: UInt64(chunksPerLoad * 10 + bits))
        for cols in [1, 31, 32, 33, 100, 172, 2048] {
            let values = (0..<cols).map { _ in Float.random(in: -3...3, using: &generator) * (Bool.random(using: &generator) ? 1 : 0.01) }
            let fast = quantized(values, bits: bits, chunksPerLoad: chunksPerLoad)
            let expected = reference(values)
            let chunks = expected.scales.count
            #expect(Array(fast.codes[..<(chunks * 32)]) == expected.codes, "cols \(cols)")
            #expect(sameScales(Array(fast.scales[..<chunks]), expected.scales), "cols \(cols)")
            #expect(fast.codes[(chunks * 32)...].allSatisfy { $0 == 0 } && fast.scales[chunks...].allSatisfy { $0 == 0 }, "cols \(cols)")
            #expect(fast.codes[cols..<(chunks * 32)].allSatisfy { $0 == 0 }, "cols \(cols): padding columns")
        }
    }

    /// The group sums are `Σ d · q` over each group's chunks (float rounding of a few terms), zero beyond.
    @Test(arguments: [32, 64, 128])
    func groupSumsAddTheDequantisedActivations(groupSize: Int) {
        var generator = SplitMix64(seed: UInt64(groupSize))
        let values = (0..<300).map { _ in Float.random(in: -1...1, using: &generator) }
        let fast = quantized(values, groupSize: groupSize)
        let expected = reference(values)
        for g in 0..<fast.layout.groupsPerRow {
            var sum = 0.0, magnitude = 0.0
            for c in (g * groupSize)..<min((g + 1) * groupSize, expected.codes.count) {
                let x = Double(expected.scales[c / 32]) * Double(expected.codes[c])
                sum += x
                magnitude += abs(x)
            }
            #expect(abs(Double(fast.sums[g]) - sum) <= 8 * 0x1p-24 * magnitude, "group \(g)")
        }
        #expect(fast.sums[fast.layout.groupsPerRow...].allSatisfy { $0 == 0 })
    }

    @Test func zerosGiveZeroCodesAndAZeroScale() {
        let fast = quantized([Float](repeating: 0, count: 64))
        #expect(fast.codes.allSatisfy { $0 == 0 } && fast.scales.allSatisfy { $0 == 0 } && fast.sums.allSatisfy { $0 == 0 })
        let negativeZero = quantized([Float](repeating: -0.0, count: 40))
        #expect(negativeZero.codes.allSatisfy { $0 == 0 } && negativeZero.scales.allSatisfy { $0 == 0 })
    }

    /// A constant chunk uses the whole range: every code ±127 and `d = |c| / 127`, so `d · q` is `c` up to rounding.
    @Test(arguments: [Float(0.3), -5, 1e-20, 7e30])
    func aConstantChunkUsesTheFullRange(value: Float) {
        let fast = quantized([Float](repeating: value, count: 32), bits: 8)
        #expect(fast.codes[..<32].allSatisfy { $0 == (value > 0 ? 127 : -127) })
        #expect(fast.scales[0] == abs(value) / 127)
        #expect(abs(fast.scales[0] * 127 - abs(value)) <= abs(value) * 0x1p-22)
    }

    /// Values up to the largest float stay finite and never reach −128 (which the AVX2 sign trick cannot negate).
    @Test func hugeValuesStayInRange() {
        var generator = SplitMix64(seed: 3)
        var values = (0..<256).map { _ in Float.random(in: -1...1, using: &generator) * .greatestFiniteMagnitude }
        values[5] = -.greatestFiniteMagnitude
        values[40] = .greatestFiniteMagnitude
        let fast = quantized(values)
        #expect(fast.codes.allSatisfy { $0 >= -127 })
        #expect(fast.codes[5] == -127 && fast.codes[40] == 127)
        #expect(fast.scales.allSatisfy { $0.isFinite && $0 > 0 })
        #expect(Array(fast.codes[..<256]) == reference(values).codes)
    }

    /// Chunks whose largest magnitude is below 2⁻¹⁰⁰ (subnormals included) count as zeros, so `127 / max|x|`
    /// never overflows; one value above it keeps the chunk.
    @Test func tinyChunksCountAsZeros() {
        var values = [Float](repeating: 1e-35, count: 64)
        values[3] = .leastNonzeroMagnitude
        values[40] = 0x1p-99
        let fast = quantized(values)
        #expect(fast.codes[..<32].allSatisfy { $0 == 0 } && fast.scales[0] == 0)
        #expect(fast.codes[40] == 127 && fast.scales[1] == 0x1p-99 / 127)
        #expect(Array(fast.codes[..<64]) == reference(values).codes)
    }

    /// An infinity or NaN makes its chunk's scale NaN (with zero codes, never an integer conversion of NaN);
    /// the other chunks are untouched.
    @Test(arguments: [Float.infinity, -.infinity, .nan, -.nan])
    func nonFiniteValuesMakeTheirChunksScaleNaN(value: Float) {
        var generator = SplitMix64(seed: 4)
        var values = (0..<96).map { _ in Float.random(in: -1...1, using: &generator) }
        let clean = quantized(values)
        values[50] = value
        let fast = quantized(values)
        #expect(fast.scales[1].isNaN && fast.codes[32..<64].allSatisfy { $0 == 0 })
        #expect(fast.sums[1].isNaN)
        #expect(sameScales([fast.scales[0], fast.scales[2]], [clean.scales[0], clean.scales[2]]))
        #expect(Array(fast.codes[..<32]) == Array(clean.codes[..<32]) && Array(fast.codes[64..<96]) == Array(clean.codes[64..<96]))
        #expect(sameScales(Array(fast.scales[..<3]), reference(values).scales))
    }

    /// Rounding is to nearest with ties to even, on `x · 127 / max|x|`.
    @Test func halfwayValuesRoundToEven() {
        // max|x| = 127, so x · 127/max|x| = x exactly.
        let values: [Float] = [127, 0.5, 1.5, 2.5, -0.5, -1.5, 3.4999998, -3.5000002] + [Float](repeating: 0, count: 24)
        let fast = quantized(values, bits: 8)
        #expect(Array(fast.codes[..<8]) == [127, 0, 2, 2, 0, -2, 3, -4])
        #expect(fast.scales[0] == 1)
    }
}
