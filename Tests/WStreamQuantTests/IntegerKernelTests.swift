import Testing
import WStreamQuant

/// The int8-activation kernels (`ActivationPrecision.int8`) of every family this build has, against
/// `ReferenceKernels.integerMatmul` (the same int8 activations, products summed in Double) and against the
/// float product.
///
/// Weights sit in `GuardedBytes` (reading past the matrix faults) and inputs carry NaN sentinels past the
/// last column (reading past an input shows as NaN). Shapes cover rows not a multiple of the 2-row tile,
/// blocks of 5 rows (tiles stop at block ends), columns that end inside a vector load (160: 5 chunks,
/// 224: 7, 172: padded to the group) and input counts that leave every remainder of the 4-input tile.
private let rowCounts = [1, 2, 7, 33]
private let columnCounts = [32, 96, 160, 172, 224, 2048]
private let inputCounts = [1, 2, 3, 4, 5, 6, 7, 8, 9]

/// `x̂ = d · q` for each input, in column order, as the reference quantises it.
private func dequantizedActivations(_ x: UnsafePointer<Float>, count: Int, cols: Int) -> [[Float]] {
    (0..<count).map { t in
        let (codes, scales) = ReferenceKernels.quantizeActivations(x + t * cols, cols: cols)
        return (0..<cols).map { scales[$0 / 32] * Float(codes[$0]) }
    }
}

private func dequantizedWeights(_ stored: StoredMatrix) -> [Float] {
    var dequantized = [Float](repeating: 0, count: stored.rows * stored.cols)
    stored.withMatrix { w in
        dequantized.withUnsafeMutableBufferPointer { out in
            for r in 0..<w.rows { ReferenceKernels.dequantizeRow(w, row: r, into: out.baseAddress! + r * w.cols) }
        }
    }
    return dequantized
}

private func integerProduct(_ stored: StoredMatrix, _ x: UnsafePointer<Float>, count n: Int, family: KernelFamily, pool: ComputePool,
                            path: IntegerPath = .automatic) -> [Float] {
    var y = [Float](repeating: .nan, count: n * stored.rows)
    stored.withGuardedMatrix { w in
        if n == 1 && path == .automatic {
            MatrixKernels.matvec(w, x, &y, pool: pool, precision: .int8, kernels: family)
        } else {
            MatrixKernels.matmul(w, x, count: n, &y, pool: pool, precision: .int8, kernels: family, path: path)
        }
    }
    return y
}

@Suite struct IntegerKernelTests {
    /// Every output within float32 rounding of the Double reference on the same int8 activations
    /// (`tolerance`, with the magnitudes of `ŵ · x̂`).
    @Test(arguments: KernelFamily.available, quantizedForms.flatMap { form in [32, 64, 128].map { (form.storage, form.parameters, $0) } })
    func integerProductsMatchTheirReference(
        family: KernelFamily, layout: (storage: WeightMatrix.Storage, parameters: GroupParameters, groupSize: Int)
    ) throws {
        let (storage, parameters, groupSize) = layout
        let pool = ComputePool(threadCount: 2)
        var shape = 0
        for rows in rowCounts {
            for cols in columnCounts {
                let n = inputCounts[shape % inputCounts.count]
                shape += 1
                let stored = try StoredMatrix(storage: storage, rows: rows, cols: cols, groupSize: groupSize, rowsPerBlock: 5,
                                              parameters: parameters,
                                              source: weightLikeValues(count: rows * cols, seed: UInt64(rows * cols + groupSize)))
                let x = guardedInputs(count: n, cols: cols, seed: UInt64(shape))
                defer { x.deallocate() }
                let fast = integerProduct(stored, x, count: n, family: family, pool: pool)
                var reference = [Float](repeating: .nan, count: n * rows)
                stored.withMatrix { ReferenceKernels.integerMatmul($0, x, count: n, &reference) }
                let dequantized = dequantizedWeights(stored), activations = dequantizedActivations(x, count: n, cols: cols)
                for t in 0..<n {
                    for r in 0..<rows {
                        let i = t * rows + r
                        let bound = tolerance(cols: cols, magnitude: stored.magnitude(row: r, activations[t], dequantized: dequantized))
                        #expect(abs(Double(fast[i]) - Double(reference[i])) <= bound,
                                "\(family) \(storage) \(parameters) \(rows)×\(cols) g\(groupSize) n=\(n) input \(t) row \(r): \(fast[i]) vs \(reference[i])")
                    }
                }
            }
        }
    }

    /// Against the float product of the same weights, the only extra error is the activations' rounding:
    /// `|x̂ − x| ≤ d · (0.5 + 3·127·2⁻²⁴)` per column (round to nearest, plus the rounding of
    /// `127 / max|x|`, `max|x| / 127` and `x · 127/max|x|`), so `|ŷ − y| ≤ Σ_c |ŵ_c| · 0.5001 · d_c` plus float32 rounding.
    @Test(arguments: KernelFamily.available, quantizedForms)
    func integerProductsStayWithinTheActivationRoundingOfTheFloatProduct(
        family: KernelFamily, form: (storage: WeightMatrix.Storage, parameters: GroupParameters)
    ) throws {
        let (storage, parameters) = form
        let pool = ComputePool(threadCount: 2)
        for (rows, cols, n) in [(33, 172, 3), (7, 2048, 5), (64, 96, 1)] {
            let stored = try StoredMatrix(storage: storage, rows: rows, cols: cols, groupSize: 32, rowsPerBlock: 16, parameters: parameters,
                                          source: weightLikeValues(count: rows * cols, seed: UInt64(cols)))
            let x = guardedInputs(count: n, cols: cols, seed: UInt64(rows))
            defer { x.deallocate() }
            let fast = integerProduct(stored, x, count: n, family: family, pool: pool)
            var exact = [Float](repeating: .nan, count: n * rows)
            stored.withMatrix { ReferenceKernels.matmul($0, x, count: n, &exact) }
            let dequantized = dequantizedWeights(stored), activations = dequantizedActivations(x, count: n, cols: cols)
            for t in 0..<n {
                let scales = ReferenceKernels.quantizeActivations(x + t * cols, cols: cols).scales
                for r in 0..<rows {
                    var rounding = 0.0
                    for c in 0..<cols { rounding += Double(abs(dequantized[r * cols + c])) * 0.5001 * Double(scales[c / 32]) }
                    let bound = rounding + tolerance(cols: cols, magnitude: stored.magnitude(row: r, activations[t], dequantized: dequantized))
                    let i = t * rows + r
                    #expect(abs(Double(fast[i]) - Double(exact[i])) <= bound, "\(family) \(storage) \(rows)×\(cols) input \(t) row \(r)")
                }
            }
        }
    }

    /// An input's result does not depend on the inputs beside it once the path is named: with the row kernels
    /// and with the panels alike, a product of n inputs equals n products of one, bit for bit. This is what lets a
    /// generation answer the same alone and in a batch (`Compute`). The shapes cover every tile (1, 4 and 2×4 on
    /// the row kernels; whole and partial panels of 8) and two passes.
    @Test(arguments: KernelFamily.available, quantizedForms)
    func anInputsResultIsTheSameAloneAndBesideOthersOnANamedPath(
        family: KernelFamily, form: (storage: WeightMatrix.Storage, parameters: GroupParameters)
    ) throws {
        let (storage, parameters) = form
        let pool = ComputePool(threadCount: 2)
        for (rows, cols, n, groupSize) in [(33, 172, 9, 32), (100, 2048, 6, 64), (7, 96, 4, 32), (8, 8192, 70, 128), (37, 256, 13, 32)] {
            let stored = try StoredMatrix(storage: storage, rows: rows, cols: cols, groupSize: groupSize, rowsPerBlock: 8,
                                          parameters: parameters, source: weightLikeValues(count: rows * cols, seed: UInt64(n)))
            let x = guardedInputs(count: n, cols: cols, seed: 99)
            defer { x.deallocate() }
            for path in [IntegerPath.rows, .panels] {
                let together = integerProduct(stored, x, count: n, family: family, pool: pool, path: path)
                var alone: [Float] = []
                for t in 0..<n { alone += integerProduct(stored, x + t * cols, count: 1, family: family, pool: pool, path: path) }
                #expect(together.map(\.bitPattern) == alone.map(\.bitPattern), "\(family) \(storage) \(rows)×\(cols) n=\(n) \(path)")
            }
        }
    }

    /// Prefill and decode agree: a batched product (16-row panels from 8 inputs on AVX-512 VNNI) equals one
    /// product per input up to float32 rounding, twice one kernel's bound since each rounds on its own.
    /// 70 inputs of 8192 columns take two passes and leave a partial tile, which must cover every input.
    @Test(arguments: KernelFamily.available, quantizedForms)
    func batchedProductsAgreeWithRepeatedMatvec(family: KernelFamily, form: (storage: WeightMatrix.Storage, parameters: GroupParameters)) throws {
        let (storage, parameters) = form
        let pool = ComputePool(threadCount: 2)
        for (rows, cols, n, groupSize) in [(33, 172, 9, 32), (100, 2048, 6, 64), (7, 96, 4, 32), (8, 8192, 70, 128)] {
            let stored = try StoredMatrix(storage: storage, rows: rows, cols: cols, groupSize: groupSize, rowsPerBlock: 8,
                                          parameters: parameters, source: weightLikeValues(count: rows * cols, seed: UInt64(n)))
            let x = guardedInputs(count: n, cols: cols, seed: 99)
            defer { x.deallocate() }
            let batched = integerProduct(stored, x, count: n, family: family, pool: pool)
            var single: [Float] = []
            for t in 0..<n { single += integerProduct(stored, x + t * cols, count: 1, family: family, pool: pool) }
            let dequantized = dequantizedWeights(stored), activations = dequantizedActivations(x, count: n, cols: cols)
            for t in 0..<n {
                for r in 0..<rows {
                    let bound = 2 * tolerance(cols: cols, magnitude: stored.magnitude(row: r, activations[t], dequantized: dequantized))
                    let i = t * rows + r
                    #expect(abs(Double(batched[i]) - Double(single[i])) <= bound, "\(family) \(storage) \(rows)×\(cols) n=\(n) input \(t) row \(r)")
                }
            }
        }
    }

    /// An infinite or NaN activation makes every output of its input NaN (never a finite wrong number),
    /// and leaves the other inputs alone.
    @Test(arguments: KernelFamily.available, [Float.infinity, -.infinity, .nan])
    func aNonFiniteActivationTurnsItsOutputsIntoNaN(family: KernelFamily, value: Float) throws {
        let rows = 9, cols = 200, n = 5
        let stored = try StoredMatrix(storage: .q4, rows: rows, cols: cols, groupSize: 32, rowsPerBlock: 4,
                                      source: weightLikeValues(count: rows * cols, seed: 5))
        let x = guardedInputs(count: n, cols: cols, seed: 6)
        defer { x.deallocate() }
        x[2 * cols + 77] = value
        let y = integerProduct(stored, x, count: n, family: family, pool: ComputePool(threadCount: 2))
        for t in 0..<n {
            for r in 0..<rows { #expect(y[t * rows + r].isNaN == (t == 2), "\(family) input \(t) row \(r): \(y[t * rows + r])") }
        }
    }

    /// `.int8` is the default for quantised weights, and differs from `.float32` by the activations' rounding.
    @Test(arguments: [WeightMatrix.Storage.q4, .q6, .q8])
    func int8IsTheDefaultPrecision(storage: WeightMatrix.Storage) throws {
        let stored = try StoredMatrix(storage: storage, rows: 16, cols: 256, source: weightLikeValues(count: 16 * 256, seed: 8))
        let x = guardedInputs(count: 1, cols: 256, seed: 9)
        defer { x.deallocate() }
        let pool = ComputePool(threadCount: 1)
        var byDefault = [Float](repeating: .nan, count: 16), int8 = byDefault, float32 = byDefault
        stored.withMatrix { w in
            MatrixKernels.matvec(w, x, &byDefault, pool: pool)
            MatrixKernels.matvec(w, x, &int8, pool: pool, precision: .int8)
            MatrixKernels.matvec(w, x, &float32, pool: pool, precision: .float32)
        }
        #expect(byDefault.map(\.bitPattern) == int8.map(\.bitPattern))
        #expect(byDefault != float32)
    }

    /// f16 and f32 weights always take the float kernels: the precision changes nothing, so `--bits 32`
    /// stays exact.
    @Test(arguments: [WeightMatrix.Storage.f16, .f32], [1, 5])
    func floatWeightsIgnoreThePrecision(storage: WeightMatrix.Storage, inputs n: Int) throws {
        let rows = 33, cols = 172
        let stored = try StoredMatrix(storage: storage, rows: rows, cols: cols, source: weightLikeValues(count: rows * cols, seed: 10))
        let x = guardedInputs(count: n, cols: cols, seed: 11)
        defer { x.deallocate() }
        let pool = ComputePool(threadCount: 2)
        var int8 = [Float](repeating: .nan, count: n * rows), float32 = int8
        stored.withMatrix { w in
            MatrixKernels.matmul(w, x, count: n, &int8, pool: pool, precision: .int8)
            MatrixKernels.matmul(w, x, count: n, &float32, pool: pool, precision: .float32)
        }
        #expect(int8.map(\.bitPattern) == float32.map(\.bitPattern))
    }

    /// The build compiled the families its Package.swift condition promised, the fastest first.
    @Test func theNativeFamilyIsTheFirstAvailable() {
        #expect(KernelFamily.available.first == KernelFamily.native)
        #expect(KernelFamily.available.last == .portable)
    }
}
