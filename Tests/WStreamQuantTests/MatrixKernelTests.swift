import Testing
import WStreamQuant

/// Allowed difference between the SIMD kernel and the Double reference for one output: float32 summation
/// of about `cols/16` terms per lane, the lane reduction, the group folding and the bias term, each
/// rounding by at most 2^-24 relative to the sum of the magnitudes of the terms it adds.
func tolerance(cols: Int, magnitude: Double) -> Double {
    (Double(cols) / 8 + 32) * 0x1p-24 * magnitude + 1e-30
}

private let shapes: [(rows: Int, cols: Int)] = [1, 7, 33, 100].flatMap { rows in [32, 96, 172, 200, 2048].map { (rows, $0) } }

/// Products agree with the reference for every row and input.
private func expectProductsMatchReference(_ stored: StoredMatrix, inputs n: Int, pool: ComputePool) {
    let x = guardedInputs(count: n, cols: stored.cols, seed: UInt64(stored.rows * 31 + stored.cols + n))
    defer { x.deallocate() }
    var fast = [Float](repeating: .nan, count: n * stored.rows)
    var reference = [Float](repeating: .nan, count: n * stored.rows)
    var dequantized = [Float](repeating: 0, count: stored.rows * stored.cols)
    stored.withMatrix { w in
        if n == 1 {
            MatrixKernels.matvec(w, x, &fast, pool: pool, precision: .float32)
        } else {
            MatrixKernels.matmul(w, x, count: n, &fast, pool: pool, precision: .float32)
        }
        ReferenceKernels.matmul(w, x, count: n, &reference)
        for r in 0..<w.rows { dequantized.withUnsafeMutableBufferPointer { ReferenceKernels.dequantizeRow(w, row: r, into: $0.baseAddress! + r * w.cols) } }
    }
    for t in 0..<n {
        let input = Array(UnsafeBufferPointer(start: x + t * stored.cols, count: stored.cols))
        for r in 0..<stored.rows {
            let i = t * stored.rows + r
            let bound = tolerance(cols: stored.cols, magnitude: stored.magnitude(row: r, input, dequantized: dequantized))
            let difference = abs(Double(fast[i]) - Double(reference[i]))
            #expect(difference <= bound, "\(stored.storage) \(stored.rows)×\(stored.cols) g\(stored.groupSize) input \(t) row \(r): \(fast[i]) vs \(reference[i])")
        }
    }
}

@Suite struct MatrixKernelTests {
    @Test(arguments: quantizedForms, [32, 64, 128])
    func quantizedMatvecMatchesReference(form: (storage: WeightMatrix.Storage, parameters: GroupParameters), groupSize: Int) throws {
        let (storage, parameters) = form
        let pool = ComputePool(threadCount: 2)
        for (rows, cols) in shapes {
            let stored = try StoredMatrix(storage: storage, rows: rows, cols: cols, groupSize: groupSize, rowsPerBlock: rows == 1 ? 1 : 6,
                                          parameters: parameters,
                                          source: weightLikeValues(count: rows * cols, seed: UInt64(rows * cols + groupSize)))
            expectProductsMatchReference(stored, inputs: 1, pool: pool)
        }
    }

    @Test(arguments: [WeightMatrix.Storage.q4, .q6, .q8, .f16, .f32], [1, 3, 9])
    func matmulMatchesReference(storage: WeightMatrix.Storage, inputs: Int) throws {
        let pool = ComputePool(threadCount: 2)
        let forms: [GroupParameters] = storage.codeBits != nil ? GroupParameters.allCases : [.float16]
        for (rows, cols) in shapes where cols != 2048 || rows <= 33 {
            for parameters in forms {
                let stored = try StoredMatrix(storage: storage, rows: rows, cols: cols, groupSize: 64, rowsPerBlock: 5, parameters: parameters,
                                              source: weightLikeValues(count: rows * cols, seed: UInt64(rows + cols)))
                expectProductsMatchReference(stored, inputs: inputs, pool: pool)
            }
        }
    }

    @Test(arguments: [WeightMatrix.Storage.f16, .f32], [1, 2])
    func floatMatvecMatchesReference(storage: WeightMatrix.Storage, threads: Int) throws {
        let pool = ComputePool(threadCount: threads)
        for (rows, cols) in shapes + [(3, 1), (5, 15), (9, 17), (64, 64)] {
            let stored = try StoredMatrix(storage: storage, rows: rows, cols: cols,
                                          source: weightLikeValues(count: rows * cols, seed: UInt64(rows * 7 + cols)))
            expectProductsMatchReference(stored, inputs: 1, pool: pool)
        }
    }

    /// Prefill and decode agree: a batched product equals one product per input up to float32 rounding
    /// (the batched kernel sums in another order, so the bound is twice one kernel's). 70 inputs of 8192
    /// columns take several passes over the weights, which must cover every input.
    @Test(arguments: [WeightMatrix.Storage.q4, .q6, .q8, .f16, .f32])
    func matmulAgreesWithRepeatedMatvec(storage: WeightMatrix.Storage) throws {
        let pool = ComputePool(threadCount: 2)
        for (rows, cols, n) in [(33, 172, 9), (100, 2048, 6), (7, 96, 4), (8, 8192, 70)] {
            let stored = try StoredMatrix(storage: storage, rows: rows, cols: cols, groupSize: 32, rowsPerBlock: 8,
                                          source: weightLikeValues(count: rows * cols, seed: UInt64(n)))
            let x = guardedInputs(count: n, cols: cols, seed: 99)
            defer { x.deallocate() }
            var batched = [Float](repeating: .nan, count: n * rows)
            var single = [Float](repeating: .nan, count: n * rows)
            var dequantized = [Float](repeating: 0, count: rows * cols)
            stored.withMatrix { w in
                MatrixKernels.matmul(w, x, count: n, &batched, pool: pool, precision: .float32)
                single.withUnsafeMutableBufferPointer { y in
                    for t in 0..<n { MatrixKernels.matvec(w, x + t * cols, y.baseAddress! + t * rows, pool: pool, precision: .float32) }
                }
                for r in 0..<rows { dequantized.withUnsafeMutableBufferPointer { MatrixKernels.dequantizeRow(w, row: r, into: $0.baseAddress! + r * cols) } }
            }
            for t in 0..<n {
                let input = Array(UnsafeBufferPointer(start: x + t * cols, count: cols))
                for r in 0..<rows {
                    let bound = 2 * tolerance(cols: cols, magnitude: stored.magnitude(row: r, input, dequantized: dequantized))
                    let i = t * rows + r
                    #expect(abs(Double(batched[i]) - Double(single[i])) <= bound, "\(storage) \(rows)×\(cols) n=\(n) input \(t) row \(r)")
                }
            }
        }
    }

    @Test(arguments: [WeightMatrix.Storage.q4, .q6, .q8, .f16, .f32], GroupParameters.allCases)
    func dequantizeRowMatchesQuantizerDequantize(storage: WeightMatrix.Storage, parameters: GroupParameters) throws {
        for (rows, cols, groupSize) in [(7, 172, 32), (33, 200, 64), (10, 2048, 128)] {
            let source = weightLikeValues(count: rows * cols, seed: UInt64(cols))
            let stored = try StoredMatrix(storage: storage, rows: rows, cols: cols, groupSize: groupSize, rowsPerBlock: 4,
                                          parameters: parameters, source: source)
            let expected: [Float]
            switch storage {
            case .q4, .q6, .q8:
                let layout = QuantizedLayout(bits: storage.codeBits!, groupSize: groupSize, rows: rows, cols: cols, parameters: parameters)
                expected = try source.withUnsafeBufferPointer { values in
                    var all: [Float] = []
                    for first in stride(from: 0, to: rows, by: 4) {
                        let count = min(4, rows - first)
                        let block = try Quantizer.quantizeBlock(UnsafeBufferPointer(rebasing: values[(first * cols)..<((first + count) * cols)]),
                                                                rowCount: count, layout: layout)
                        all += Quantizer.dequantize(codes: block.codes, scalesAndBiases: block.scalesAndBiases, rowCount: count, layout: layout)
                    }
                    return all
                }
            case .f16: expected = source.map { Float(Float16($0)) }
            case .f32: expected = source
            }
            var row = [Float](repeating: .nan, count: cols)
            stored.withMatrix { w in
                for r in 0..<rows {
                    MatrixKernels.dequantizeRow(w, row: r, into: &row)
                    #expect(row == Array(expected[(r * cols)..<((r + 1) * cols)]), "\(storage) row \(r)")
                }
            }
        }
    }

    /// float32 weights compute in float32: against a float32 dot product the result differs only by
    /// summation order, far below what any fp16 step would introduce.
    @Test func float32ProductsStayInFloat32() throws {
        let rows = 4, cols = 67
        let source = weightLikeValues(count: rows * cols, seed: 11).map { $0 + 1e-4 }
        let stored = try StoredMatrix(storage: .f32, rows: rows, cols: cols, source: source)
        let x = guardedInputs(count: 1, cols: cols, seed: 12)
        defer { x.deallocate() }
        var y = [Float](repeating: .nan, count: rows)
        stored.withMatrix { MatrixKernels.matvec($0, x, &y, pool: ComputePool(threadCount: 1)) }
        for r in 0..<rows {
            var sequential: Float = 0
            var magnitude: Float = 0
            for c in 0..<cols {
                sequential += source[r * cols + c] * x[c]
                magnitude += abs(source[r * cols + c] * x[c])
            }
            #expect(abs(y[r] - sequential) <= Float(cols) * 0x1p-23 * magnitude)
        }
    }

    /// The CLI's `bench --kernels`: every kernel gets a figure, consistent with its time and the set's size.
    @Test func benchmarkReportsConsistentFigures() {
        var configuration = KernelBenchmark.Configuration(matrices: [
            KernelBenchmark.Matrix(rows: 64, cols: 256, bits: 4), KernelBenchmark.Matrix(rows: 96, cols: 128, bits: 8, groupSize: 64),
        ])
        configuration.inputCounts = [1, 5]
        configuration.minimumSeconds = 0.01
        configuration.probeBytes = 1 << 20
        let report = KernelBenchmark.run(configuration)
        // The set is stored as pack stores it by default (row-scaled group parameters).
        let bytes = QuantizedLayout(bits: 4, groupSize: 32, rows: 64, cols: 256, parameters: .rowScaled).byteCount
            + QuantizedLayout(bits: 8, groupSize: 64, rows: 96, cols: 128, parameters: .rowScaled).byteCount
        #expect(report.bytes == bytes && report.matrixCount == 2)
        #expect(report.bandwidth.map(\.threads) == [1, 2] && report.bandwidth.allSatisfy { $0.gigabytesPerSecond > 0 })
        // float32 and int8, and int8 on interleaved matrices where the native kernels read them.
        #expect(report.figures.count == 2 * 2 * (RowInterleaving.appliesToNativeKernels ? 3 : 2))
        #expect(report.figures.filter(\.interleaved).allSatisfy { $0.precision == .int8 })
        for figure in report.figures {
            #expect(figure.seconds > 0 && figure.seconds.isFinite)
            #expect(abs(figure.gigabytesPerSecond - Double(bytes) / figure.seconds / 1e9) <= 1e-9 * figure.gigabytesPerSecond)
            #expect(abs(figure.tokensPerSecond - Double(figure.inputs) / figure.seconds) <= 1e-9 * figure.tokensPerSecond)
            let bandwidth = report.bandwidth.first { $0.threads == figure.threads }!.gigabytesPerSecond
            #expect(abs(figure.shareOfBandwidth - figure.gigabytesPerSecond / bandwidth) <= 1e-9)
        }
    }

    /// The default set is the whole LFM2-1.2B shape: far beyond any last-level cache.
    @Test func theDefaultSetIsModelSized() {
        let matrices = KernelBenchmark.Configuration.lfm2().matrices
        let bytes = matrices.reduce(0) { $0 + QuantizedLayout(bits: $1.bits, groupSize: $1.groupSize, rows: $1.rows, cols: $1.cols).byteCount }
        #expect(matrices.count == 10 * 5 + 6 * 7 + 1)
        #expect(bytes >= 256 << 20)
    }

    /// The Llama-3.2-1B set: 16 blocks of 7 matrices and the 6-bit head of 128,256 tokens, about a third of its bytes.
    @Test func theLlamaSetHasItsBlocksAndItsHead() throws {
        func bytes(_ matrices: [KernelBenchmark.Matrix]) -> Int {
            matrices.reduce(0) { $0 + QuantizedLayout(bits: $1.bits, groupSize: $1.groupSize, rows: $1.rows, cols: $1.cols).byteCount }
        }
        let matrices = KernelBenchmark.Configuration.llama32_1B().matrices
        #expect(matrices.count == 16 * 7 + 1)
        let head = try #require(matrices.last)
        #expect(head.rows == 128_256 && head.cols == 2048 && head.bits == 6)
        #expect(matrices.dropLast().allSatisfy { $0.bits == 4 && ($0.cols == 2048 || $0.cols == 8192) })
        let share = Double(bytes([head])) / Double(bytes(matrices))
        #expect(share > 0.25 && share < 0.4, "the head holds \(share) of the bytes")
        #expect(KernelBenchmark.Configuration.llama32_1B(layers: 2).matrices.count == 14, "fewer layers leave out the head")
    }
}
