import Synchronization
import Testing
import WStreamQuant

/// Matrices that read one input, multiplied in one hand-over (`MatrixKernels.matmul(_:_:count:into:…)`), give each
/// output bit for bit what that matrix gives alone, and `finish` sees every row of every input exactly once, after
/// all the matrices have written it.
@Suite struct GroupedProductTests {
    /// One shape, three sets of weights; 70 rows leave a last chunk short of 16, 8192 columns and 70 inputs take
    /// several passes over the weights.
    @Test(arguments: [WeightMatrix.Storage.q4, .q6, .q8])
    func groupedProductsMatchSeparateProducts(storage: WeightMatrix.Storage) throws {
        let pool = ComputePool(threadCount: 2)
        for (rows, cols, inputCounts) in [(70, 200, [1, 3, 9]), (300, 2048, [1, 8]), (16, 8192, [70])] {
            let matrices = try (0..<3).map { k in
                try StoredMatrix(storage: storage, rows: rows, cols: cols, groupSize: 32, rowsPerBlock: 16,
                                 source: weightLikeValues(count: rows * cols, seed: UInt64(rows + cols + k)))
            }
            for kernels in KernelFamily.available {
                for n in inputCounts {
                    for path in [IntegerPath.rows, .panels, .automatic] {
                        try expectGroupedMatchesSeparate(matrices, inputs: n, pool: pool, kernels: kernels, path: path, precision: .int8,
                                                         expectedFinishCalls: nil)
                    }
                }
            }
        }
    }

    /// Matrices of different layouts, or float32 activations, run one after another and finish once on everything.
    @Test func mixedLayoutsAndFloatActivationsFinishOnceOnEverything() throws {
        let pool = ComputePool(threadCount: 2)
        let (rows, cols) = (64, 256)
        let q4 = try StoredMatrix(storage: .q4, rows: rows, cols: cols, source: weightLikeValues(count: rows * cols, seed: 1))
        let q6 = try StoredMatrix(storage: .q6, rows: rows, cols: cols, source: weightLikeValues(count: rows * cols, seed: 2))
        let f16 = try StoredMatrix(storage: .f16, rows: rows, cols: cols, source: weightLikeValues(count: rows * cols, seed: 3))
        try expectGroupedMatchesSeparate([q4, q6], inputs: 3, pool: pool, kernels: .native, path: .automatic, precision: .int8,
                                         expectedFinishCalls: 1)
        try expectGroupedMatchesSeparate([q4, q4], inputs: 2, pool: pool, kernels: .native, path: .rows, precision: .float32,
                                         expectedFinishCalls: 1)
        try expectGroupedMatchesSeparate([f16, f16], inputs: 1, pool: pool, kernels: .native, path: .rows, precision: .int8,
                                         expectedFinishCalls: 1)
    }

    /// On the VNNI kernels an interleaved matrix and one in the file's layout share a hand-over.
    @Test func interleavedAndFileLayoutMatricesShareOneProduct() throws {
        guard KernelFamily.available.contains(.avx512vnni) else { return }
        let pool = ComputePool(threadCount: 2)
        let (rows, cols) = (64, 512)
        let stored = try StoredMatrix(storage: .q4, rows: rows, cols: cols, source: weightLikeValues(count: rows * cols, seed: 5))
        var tiled = stored.bytes
        let x = guardedInputs(count: 1, cols: cols, seed: 6)
        defer { x.deallocate() }
        var alone = [Float](repeating: .nan, count: rows), first = alone, second = alone
        stored.withMatrix { w in MatrixKernels.matmul(w, x, count: 1, &alone, pool: pool, kernels: .avx512vnni) }
        tiled.withUnsafeMutableBytes { raw in
            let file = WeightMatrix(storage: .q4, rows: rows, cols: cols, groupSize: 32, rowsPerBlock: 16, base: raw.baseAddress!)
            let interleaved = RowInterleaving.interleave(file)
            #expect(interleaved.interleaved)
            stored.withMatrix { plain in
                first.withUnsafeMutableBufferPointer { y0 in
                    second.withUnsafeMutableBufferPointer { y1 in
                        MatrixKernels.matmul([interleaved, plain], x, count: 1, into: [y0.baseAddress!, y1.baseAddress!], pool: pool,
                                             kernels: .avx512vnni) { _, _ in }
                    }
                }
            }
        }
        #expect(first.map(\.bitPattern) == alone.map(\.bitPattern))
        #expect(second.map(\.bitPattern) == alone.map(\.bitPattern))
    }
}

/// Multiplies `stored` as one group and each alone, and checks the outputs bit for bit and what `finish` saw:
/// each (input, row) once, with every output already final; `expectedFinishCalls`, when given, the number of calls.
private func expectGroupedMatchesSeparate(_ stored: [StoredMatrix], inputs n: Int, pool: ComputePool, kernels: KernelFamily,
                                          path: IntegerPath, precision: ActivationPrecision, expectedFinishCalls: Int?) throws {
    let rows = stored[0].rows, cols = stored[0].cols
    let x = guardedInputs(count: n, cols: cols, seed: UInt64(n * 7 + rows))
    defer { x.deallocate() }
    let alone = stored.map { matrix in
        var y = [Float](repeating: .nan, count: n * rows)
        matrix.withMatrix { w in MatrixKernels.matmul(w, x, count: n, &y, pool: pool, precision: precision, kernels: kernels, path: path) }
        return y
    }
    let outputs = stored.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: n * rows) }
    let seen = UnsafeMutablePointer<Int>.allocate(capacity: n * rows)
    let early = UnsafeMutablePointer<Int>.allocate(capacity: n * rows)
    defer {
        outputs.forEach { $0.deallocate() }
        seen.deallocate()
        early.deallocate()
    }
    outputs.forEach { $0.initialize(repeating: .nan, count: n * rows) }
    seen.initialize(repeating: 0, count: n * rows)
    early.initialize(repeating: 0, count: n * rows)
    let calls = Atomic<Int>(0)
    func withMatrices(_ index: Int, _ ws: [WeightMatrix], _ body: ([WeightMatrix]) -> Void) {
        if index == stored.count { return body(ws) }
        stored[index].withMatrix { w in withMatrices(index + 1, ws + [w], body) }
    }
    withMatrices(0, []) { ws in
        MatrixKernels.matmul(ws, x, count: n, into: outputs, pool: pool, precision: precision, kernels: kernels, path: path) { rowRange, inputRange in
            calls.add(1, ordering: .relaxed)
            for t in inputRange {
                for r in rowRange {
                    let i = t * rows + r
                    seen[i] += 1
                    for k in 0..<outputs.count where outputs[k][i].bitPattern != alone[k][i].bitPattern { early[i] += 1 }
                }
            }
        }
    }
    let label = "\(stored.map(\.storage)) \(rows)×\(cols), \(n) inputs, \(kernels), \(path), \(precision)"
    for k in 0..<outputs.count {
        let differing = (0..<(n * rows)).filter { outputs[k][$0].bitPattern != alone[k][$0].bitPattern }.count
        #expect(differing == 0, "matrix \(k): \(differing) of \(n * rows) outputs differ from its product alone: \(label)")
    }
    let covered = (0..<(n * rows)).filter { seen[$0] == 1 }.count
    #expect(covered == n * rows, "finish saw \(covered) of \(n * rows) outputs exactly once: \(label)")
    let unfinished = (0..<(n * rows)).filter { early[$0] != 0 }.count
    #expect(unfinished == 0, "\(unfinished) outputs were not final when finish saw them: \(label)")
    if let expectedFinishCalls {
        #expect(calls.load(ordering: .relaxed) == expectedFinishCalls, "finish calls: \(label)")
    }
}
