import Testing
import WStreamQuant

/// Interleaved 4- and 6-bit matrices (`RowInterleaving`) give bit for bit what the same matrix gives in the file's
/// layout, on every path and for every count of inputs, so that keeping a unit resident (interleaved) or streaming it
/// (not) never changes a result. Shapes cover a last tile cut short (35 and 71 rows: the tail keeps the row layout),
/// blocks of one and of two tiles, rows whose last load is partial (96, 160 and 224 columns: 3, 5 and 7 chunks, so
/// 6-bit tiles whose last span has 1, 2 and 3 chunks and reads the low and the high top bits of its plane), a column
/// count padded to its group (172), tiles wide enough for the kernel's non-temporal prefetch (2304), and every group
/// size the kernels take.
@Suite struct RowInterleavingTests {
    @Test(arguments: [WeightMatrix.Storage.q4, .q6],
          [(GroupParameters.rowScaled, 32), (.float16, 32), (.rowScaled, 64), (.float16, 128)])
    func interleavedRowsGiveTheRowLayoutsResultsExactly(storage: WeightMatrix.Storage,
                                                        form: (parameters: GroupParameters, groupSize: Int)) throws {
        let (parameters, groupSize) = form
        let pool = ComputePool(threadCount: 2)
        var seed: UInt64 = 11
        for (rows, rowsPerBlock) in [(16, 16), (35, 32), (71, 16)] {
            for cols in [96, 160, 172, 224, 2048, 2304] where cols >= groupSize || cols == 172 {
                seed += 1
                let stored = try StoredMatrix(storage: storage, rows: rows, cols: cols, groupSize: groupSize, rowsPerBlock: rowsPerBlock,
                                              parameters: parameters, source: weightLikeValues(count: rows * cols, seed: seed))
                var tiled = stored.bytes
                let interleaved = tiled.withUnsafeMutableBytes { raw -> Bool in
                    let w = WeightMatrix(storage: storage, rows: rows, cols: cols, groupSize: groupSize, rowsPerBlock: rowsPerBlock,
                                         parameters: parameters, base: raw.baseAddress!)
                    guard RowInterleaving.applies(to: w, kernels: .avx512vnni) else { return false }
                    return RowInterleaving.interleave(w).interleaved
                }
                #expect(interleaved, "\(rows)×\(cols) in blocks of \(rowsPerBlock) should interleave")
                #expect(tiled != stored.bytes, "interleaving left \(rows)×\(cols) as it was")
                guard KernelFamily.available.contains(.avx512vnni) else { continue }
                for n in [1, 2, 3, 5, 9] {
                    let x = guardedInputs(count: n, cols: cols, seed: seed)
                    defer { x.deallocate() }
                    for path in [IntegerPath.rows, .panels, .automatic] {
                        var expected = [Float](repeating: .nan, count: n * rows), got = expected
                        stored.withMatrix { w in
                            MatrixKernels.matmul(w, x, count: n, &expected, pool: pool, kernels: .avx512vnni, path: path)
                        }
                        tiled.withUnsafeBytes { raw in
                            let w = WeightMatrix(storage: storage, rows: rows, cols: cols, groupSize: groupSize, rowsPerBlock: rowsPerBlock,
                                                 parameters: parameters, base: raw.baseAddress!, interleaved: true)
                            MatrixKernels.matmul(w, x, count: n, &got, pool: pool, kernels: .avx512vnni, path: path)
                        }
                        let differing = zip(expected, got).filter { $0.bitPattern != $1.bitPattern }.count
                        #expect(differing == 0, "\(differing) of \(n * rows) outputs differ: \(storage) \(rows)×\(cols), \(parameters), group \(groupSize), \(n) inputs, \(path)")
                        #expect(!got.contains { $0.isNaN }, "NaN in \(rows)×\(cols), \(n) inputs, \(path)")
                    }
                }
            }
        }
    }

    /// Only 4- and 6-bit matrices in blocks of whole tiles, for the VNNI kernels, are interleaved.
    @Test func interleavingAppliesOnlyWhereTheTileKernelsRead() {
        func matrix(_ storage: WeightMatrix.Storage, rows: Int = 64, rowsPerBlock: Int = 32, groupSize: Int = 32) -> WeightMatrix {
            WeightMatrix(storage: storage, rows: rows, cols: 256, groupSize: groupSize, rowsPerBlock: rowsPerBlock,
                         base: UnsafeRawPointer(bitPattern: 64)!)
        }
        #expect(RowInterleaving.applies(to: matrix(.q4), kernels: .avx512vnni))
        #expect(!RowInterleaving.applies(to: matrix(.q4), kernels: .avx2))
        #expect(!RowInterleaving.applies(to: matrix(.q4), kernels: .portable))
        #expect(RowInterleaving.applies(to: matrix(.q6), kernels: .avx512vnni))
        #expect(!RowInterleaving.applies(to: matrix(.q6), kernels: .avx2))
        #expect(!RowInterleaving.applies(to: matrix(.q8), kernels: .avx512vnni))
        #expect(!RowInterleaving.applies(to: matrix(.q4, rowsPerBlock: 24), kernels: .avx512vnni))
        #expect(!RowInterleaving.applies(to: matrix(.q4, rows: 15, rowsPerBlock: 15), kernels: .avx512vnni))
        #expect(!RowInterleaving.applies(to: matrix(.q4, groupSize: 96), kernels: .avx512vnni))
    }
}
