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

    /// Matrices of different heights stacked in one hand-over (a block's query, key and value projections): each
    /// output is its product alone, bit for bit, whether they share the hand-over (whole tiles, or 70 rows as the
    /// last) or run alone (after 70 rows), on every kernel family and path, interleaved tiles among them on VNNI.
    @Test(arguments: [WeightMatrix.Storage.q4, .q6, .q8])
    func stackedProductsMatchSeparateProducts(storage: WeightMatrix.Storage) throws {
        let pool = ComputePool(threadCount: 2)
        for (heights, cols) in [([2048, 512, 512], 256), ([64, 16, 32], 2048), ([64, 70, 16], 512), ([32, 16, 70], 8192)] {
            let stored = try heights.enumerated().map { k, rows in
                try StoredMatrix(storage: storage, rows: rows, cols: cols, groupSize: 32, rowsPerBlock: 16,
                                 source: weightLikeValues(count: rows * cols, seed: UInt64(rows + cols + k)))
            }
            for kernels in KernelFamily.available {
                // 70 inputs of 8192 columns take several passes over the weights.
                for n in cols == 8192 ? [1, 70] : [1, 3, 9] {
                    for path in [IntegerPath.rows, .panels, .automatic] {
                        try expectStackedMatchesSeparate(stored, inputs: n, pool: pool, kernels: kernels, path: path, interleaved: false)
                    }
                }
                if kernels == .avx512vnni && storage != .q8 {
                    try expectStackedMatchesSeparate(stored, inputs: 1, pool: pool, kernels: kernels, path: .rows, interleaved: true)
                }
            }
        }
    }
}

/// Multiplies `stored` stacked in one call and each alone (interleaving every matrix that takes it when asked),
/// and checks the outputs bit for bit.
private func expectStackedMatchesSeparate(_ stored: [StoredMatrix], inputs n: Int, pool: ComputePool, kernels: KernelFamily,
                                          path: IntegerPath, interleaved: Bool) throws {
    let cols = stored[0].cols
    let x = guardedInputs(count: n, cols: cols, seed: UInt64(n * 11 + cols))
    defer { x.deallocate() }
    // Copies of the bytes, which interleaving rearranges in place.
    let copies = stored.map { s in
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: s.bytes.count, alignment: 64)
        copy.copyBytes(from: s.bytes)
        return copy
    }
    defer { copies.forEach { $0.deallocate() } }
    func withMatrices(_ index: Int, _ ws: [WeightMatrix], _ body: ([WeightMatrix]) -> Void) {
        if index == stored.count { return body(ws) }
        let s = stored[index]
        let file = WeightMatrix(storage: s.storage, rows: s.rows, cols: cols, groupSize: 32, rowsPerBlock: 16, parameters: s.parameters,
                                base: copies[index].baseAddress!)
        let w = interleaved && RowInterleaving.applies(to: file, kernels: kernels) ? RowInterleaving.interleave(file) : file
        withMatrices(index + 1, ws + [w], body)
    }
    let label = "\(stored.map(\.storage)) \(stored.map(\.rows))×\(cols), \(n) inputs, \(kernels), \(path), interleaved \(interleaved)"
    withMatrices(0, []) { ws in
        let alone = ws.map { w in
            var y = [Float](repeating: .nan, count: n * w.rows)
            MatrixKernels.matmul(w, x, count: n, &y, pool: pool, kernels: kernels, path: path)
            return y
        }
        let outputs = ws.map { UnsafeMutablePointer<Float>.allocate(capacity: n * $0.rows + 1) }
        defer { outputs.forEach { $0.deallocate() } }
        for (w, y) in zip(ws, outputs) { y.initialize(repeating: .nan, count: n * w.rows + 1) }
        MatrixKernels.matmul(stacked: ws, x, count: n, into: outputs, pool: pool, kernels: kernels, path: path)
        for k in ws.indices {
            let count = n * ws[k].rows
            let differing = (0..<count).filter { outputs[k][$0].bitPattern != alone[k][$0].bitPattern }.count
            #expect(differing == 0, "matrix \(k): \(differing) of \(count) outputs differ from its product alone: \(label)")
            #expect(outputs[k][count].isNaN, "matrix \(k): written past its output: \(label)")
        }
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
